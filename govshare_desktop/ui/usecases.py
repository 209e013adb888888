"""The window's way into :mod:`govshare_desktop.core.services`: one :class:`Context` for the
signed-in store (the same use cases the command line calls), and the list of what the window does
with the use case behind each action — checked by ``tests/ui/test_window_use_cases.py``."""

from __future__ import annotations

from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store


def context(store: Store) -> Context:
    """The use-case context of the signed-in store (the real clock)."""
    return Context(store)


# What a person does in the window → the use cases it calls (module.function under core.services).
WINDOW_ACTIONS: dict[str, tuple[str, ...]] = {
    "首次运行：设置本乡镇": ("setup.prepare_township", "setup.clear_interrupted"),
    "首次运行：演示乡镇": ("setup.prepare_demo",),
    "查找人员": ("session.searched",),
    "显示完整信息": ("session.unmask",),
    "空闲锁定与解锁": ("session.lock", "session.unlock"),
    "退出（注销）": ("session.sign_out",),
    "导入回流数据": (
        "imports.import_back_flow",
        "imports.hold_back_flow",
        "imports.commit_held",
        "imports.status_text",
        "checks.after_import",
    ),
    "保存拒收行和金额变化工作簿": ("imports.write_send_back",),
    "按回流数据预填": ("forms.prefill",),
    "填写数据项": ("forms.set_value",),
    "上报": ("reports.submit_report", "reports.report_state"),
    "审核通过": ("reports.approve_report",),
    "工作台": ("home.desk",),
    "报表任务": ("reports.tasks",),
    "发件箱": ("reports.outbox",),
    "写出数据包": ("reports.write_unwritten", "reports.write_package"),
    "比对核查": ("checks.checks", "checks.cases"),
    "立即核查": ("checks.run",),
    "录入核实结果": ("checks.set_case_state",),
    "打印核查表": ("checks.export_sheet",),
    "提出纠错": ("checks.correctable", "reports.raise_correction"),
    "校核纠错": ("reports.correction_list",),
    "被拒导入行纠错": ("reports.rejected_rows", "reports.raise_from_rejection"),
    "发送纠错": ("reports.send_corrections", "reports.write_package"),
    "目录": ("sharing.catalog",),
    "申请共享": ("sharing.draft_request",),
    "共享申请": ("sharing.request_list",),
    "审核共享申请": ("sharing.approve_request",),
    "发送共享申请": ("sharing.send_requests", "reports.write_package"),
    "打印催办函": ("sharing.print_urge_letter",),
    "数据使用登记": ("sharing.holdings",),
    "使用期限提醒": ("sharing.use_warning",),
    "退回": ("forms.return_form",),
    "导出报表": ("output.export_forms",),
    "打印": ("output.forms_to_print",),
    "部门表样": ("output.fill_department_workbook",),
    "导出名单": ("output.export_list",),
    "立即备份": ("admin.back_up",),
    "备份到其他位置（U盘）": ("admin.back_up", "admin.backup_folder", "admin.list_backups"),
    "从备份恢复": ("admin.restore",),
    "损坏数据库从备份恢复": ("admin.restore_unreadable",),
    "用户管理": ("admin.list_accounts", "admin.add_account", "admin.change_account"),
    "安装报表模板": ("forms.install_template_file", "forms.catalog"),
    "本单位密钥": (
        "reports.township_public_keys",
        "reports.export_public_key",
        "reports.print_key_sheet",
        "reports.rotate_township_key",
    ),
    "上报设置": (
        "reports.report_settings",
        "reports.set_review_required",
        "reports.set_report_recipient",
    ),
    "修改密码": ("admin.change_own_password",),
    "审计日志": ("admin.audit_entries", "admin.verify_audit"),
    "检出到笔记本": (
        "laptop.status",
        "laptop.checkout",
        "stats.areas",
        "forms.catalog",
        "reports.tasks",
    ),
    "笔记本检入": ("laptop.read_checkin", "laptop.resolve", "laptop.checkin"),
    "作废笔记本检出": ("laptop.cancel",),
    "笔记本上的检出说明": ("laptop.this_laptop",),
    "统计图": ("stats.areas", "stats.charts"),
    "导出统计图": ("stats.export_charts",),
    "打印统计图": ("stats.charts_to_print",),
}
