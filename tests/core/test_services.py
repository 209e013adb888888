"""Every use case of :mod:`govshare_desktop.core.services`, run headless — the functions the command
line and the window both call. Real SQLite (and SQLCipher for setup), real files, the real audit
trail. A last test checks that every public use case has its test here and that every ``govshare``
command names the use cases it calls (and really calls them)."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from govshare_desktop.core import services
from govshare_desktop.core.browse import PERSONS, Query
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.services import (
    admin,
    checks,
    forms,
    imports,
    output,
    reports,
    session,
    setup,
)
from govshare_desktop.core.services.context import Context
from tests.core.use_cases import covers, every_tested
from tests.samples import PAYMENT_CSV, PERSON_WORKBOOK

P = Period.parse("2026-10")
NOW = datetime(2026, 11, 27, 10, 0)
V = "441900199201"
AUDITOR = Principal("auditor", Role.AUDITOR)


def _ctx(pool: FormValues) -> Context:
    return Context(pool.store, clock=lambda: NOW)


def _actions(ctx: Context, action: str) -> list:
    return audit_trail(ctx.store).entries(AUDITOR, action=action)


# ---------------------------------------------------------------- setup


@covers("setup.prepare_township", "setup.clear_interrupted")
def test_a_township_is_set_up_atomically(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert setup.clear_interrupted(db) is None
    prepared = setup.prepare_township(db, code="441900199000", name="青禾镇", admin_password=None)
    assert not db.exists()  # nothing usable before the secrets were shown
    labels = [label for label, _ in prepared.shown]
    assert labels[0] == "管理员账户" and "恢复密钥" in labels and "管理员初始密码" in labels
    prepared.finish()
    assert signin.is_initialised(db)
    password = dict(prepared.shown)["管理员初始密码"]
    signed_in = signin.sign_in(db, "admin", password).store
    # the township's signing key was made with the database, sealed under its key
    admin_ctx = Context(signed_in, clock=lambda: NOW)
    (key,) = reports.township_public_keys(admin_ctx)
    assert key.retired_at is None and [e.action for e in _actions(admin_ctx, "key_create")]
    signed_in.dispose()


@covers("setup.prepare_demo", "setup.add_demo_clerk", "setup.generate_demo")
def test_the_demo_township_comes_with_its_clerk(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    prepared = setup.prepare_demo(db, households=20, seed=3, admin_password="Guanli#2026svc")
    shown = dict(prepared.shown)
    assert shown["演示经办人账户"] == setup.DEMO_CLERK and "演示乡镇已生成：20 户" in prepared.said
    prepared.finish()
    signed = signin.sign_in(db, setup.DEMO_CLERK, shown["经办人初始密码"])
    assert signed.principal.role is Role.CLERK and signed.must_change_password
    with pytest.raises(UserError, match="已有数据"):  # demo data only into an empty database
        setup.generate_demo(signed.store, 5, 4)
    signed.store.dispose()
    with pytest.raises(UserError, match="密码"):
        setup.prepare_demo(tmp_path / "weak.db", clerk_password="Password1")
    assert not (tmp_path / "weak.db").exists()


@covers("setup.prepare_upgrade")
def test_a_database_of_an_earlier_version_is_encrypted_with_its_township(tmp_path: Path) -> None:
    from govshare_desktop.core.store.engine import open_store
    from govshare_desktop.core.store.township import get_township, init_township

    db = tmp_path / "old.db"
    plain = open_store(db)
    with plain.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    plain.dispose()
    prepared = setup.prepare_upgrade(db, admin_password="Guanli#2026svc")
    assert "青禾镇" in prepared.said and "恢复密钥" in dict(prepared.shown)
    prepared.finish()
    signed = signin.sign_in(db, "admin", "Guanli#2026svc")
    assert signed.store.encrypted and get_township(signed.store).name == "青禾镇"
    signed.store.dispose()


# ---------------------------------------------------------------- a signed-in session


@covers("session.sign_out", "session.lock", "session.unlock")
def test_session_events_are_recorded_and_never_fail(pool: FormValues, monkeypatch) -> None:
    ctx = _ctx(pool)
    session.lock(ctx)
    session.unlock(ctx)
    session.sign_out(ctx)
    assert [e.action for e in audit_trail(ctx.store).entries(AUDITOR, limit=3)] == [
        "logout",
        "unlock",
        "lock",
    ]

    def refuse(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Context, "audit", refuse)
    session.lock(ctx)  # locking does not depend on a write succeeding


@covers("session.unmask", "session.searched", "session.search_people")
def test_looking_people_up(pool: FormValues) -> None:
    ctx = _ctx(pool)
    found = session.search_people(ctx, "441900", limit=5)
    assert len(found.rows) == 5 and all("*" in row[0] for row in found.rows)
    with pytest.raises(UserError, match="说明事由"):
        session.search_people(ctx, "441900", unmasked=True)
    full = session.search_people(ctx, "441900", limit=1, unmasked=True, reason="核对")
    assert "*" not in full.rows[0][0]
    with pytest.raises(UserError, match="没有可查找的内容"):
        session.search_people(ctx, "%%")
    session.searched(ctx, "王", page="person", results=3)
    session.unmask(ctx, "入户核查", "人员")
    with pytest.raises(UserError):
        session.unmask(ctx, " ", "人员")
    actions = [e.action for e in audit_trail(ctx.store).entries(AUDITOR, limit=4)]
    assert actions == ["unmask", "search", "unmask", "search"]


@covers("session.overview")
def test_overview(pool: FormValues) -> None:
    lines = session.overview(_ctx(pool))
    assert any(line.startswith("乡镇（街道）：青禾镇") for line in lines)


# ---------------------------------------------------------------- imports


@covers(
    "imports.import_back_flow",
    "imports.status_text",
    "imports.needs_sending_back",
    "imports.write_send_back",
    "reports.rejected_rows",
    "reports.raise_from_rejection",
)
def test_import_dry_run_then_real_with_the_same_words(pool: FormValues, tmp_path: Path) -> None:
    ctx = _ctx(pool)
    seen: list[tuple[int, int, str]] = []
    dry = imports.import_back_flow(
        ctx.running(lambda *a: seen.append(a), None), [PERSON_WORKBOOK], dry_run=True
    )
    assert reports.rejected_rows(ctx) == []  # a dry run keeps nothing
    real = imports.import_back_flow(ctx, [PERSON_WORKBOOK])
    kept = reports.rejected_rows(ctx)
    assert [(r.batch_id, r.row, r.reason_code) for r in kept] == [
        (real[0].datasets[0].batch_id, 104, "id_number_not_text"),
        (real[0].datasets[0].batch_id, 205, "id_number_checksum"),
    ]
    raised = reports.raise_from_rejection(
        ctx, kept[1].id, proposed="441900196111251590", basis="居民身份证"
    )
    assert raised.found_by == "import_rejection" and raised.state == "draft"
    assert seen and [imports.status_text(o, dry_run=True) for o in dry] == ["可以导入"]
    assert [imports.status_text(o, dry_run=False) for o in real] == ["已导入"]
    assert [r.as_json()["rejected"] for r in dry] == [r.as_json()["rejected"] for r in real]
    (result,) = real[0].datasets
    assert imports.needs_sending_back(result)  # two rows rejected
    written = imports.write_send_back(ctx, result, tmp_path)
    assert written.name.endswith("_未导入的行.xlsx") and load_workbook(written)
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        imports.import_back_flow(ctx.running(None, cancel), [PAYMENT_CSV])


# ---------------------------------------------------------------- forms


@covers("forms.prefill", "forms.set_value", "forms.submit", "forms.return_form")
def test_prefill_enter_submit_return(pool: FormValues) -> None:
    ctx = _ctx(pool)
    done = forms.prefill(ctx, pool, P)
    assert done.report.inserted == 0 and "新增 0 个值" in done.summary()  # the fixture prefilled
    data = pool.collect("mz_elderly", V, P)
    for column in data.template.columns:
        if data.value(column.element, V) is None:
            row = forms.set_value(ctx, pool, column.element, V, P, "0")
            assert row.changed_by == "clerk"
    forms.submit(ctx, pool, "mz_elderly", V, P)
    reviewer = Context(pool.store.acting(Principal("shen", Role.REVIEWER)), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        forms.return_form(ctx, pool, "mz_elderly", V, P, "核对")
    forms.return_form(
        reviewer,
        FormValues(reviewer.store, pool.dictionary, pool.templates),
        "mz_elderly",
        V,
        P,
        "核对",
    )
    assert pool.status("mz_elderly", V, P) == "returned"


# ---------------------------------------------------------------- output


@covers("output.forms_to_print", "output.export_forms", "output.export_template")
def test_print_and_export_forms(pool: FormValues, tmp_path: Path) -> None:
    from govshare_desktop.core.export.forms import form_sheets

    ctx = _ctx(pool)
    sheets = form_sheets(pool, "mz_elderly", P)
    assert output.forms_to_print(ctx, sheets) == sheets
    (printed,) = _actions(ctx, "print")
    assert json.loads(printed.detail)["masked"] is True
    (pdf,) = output.export_forms(ctx, sheets, tmp_path / "t.pdf", fmt="pdf")
    assert pdf.path.exists()
    each = output.export_template(
        ctx,
        pool,
        "mz_elderly_allowance_application",
        P,
        tmp_path / "each",
        fmt="xlsx",
        area=V,
        each=True,
    )
    assert len(each) > 1 and all("*" in f.path.name or "＊" in f.path.name for f in each)
    with pytest.raises(UserError, match="须说明事由"):
        output.export_template(
            ctx, pool, "mz_elderly_allowance_roster", P, tmp_path / "r.pdf", fmt="pdf", masked=False
        )
    auditor = Context(pool.store.acting(AUDITOR), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        output.forms_to_print(auditor, sheets)


@covers("output.fill_department_workbook", "output.export_list")
def test_department_workbook_and_list(pool: FormValues, tmp_path: Path) -> None:
    ctx = _ctx(pool)
    filled = output.fill_department_workbook(
        ctx,
        pool,
        "rs_resident_pension_enrollment_county",
        "441900199000",
        P,
        tmp_path / "county.xlsx",
    )
    assert load_workbook(filled).active["B6"].value is not None
    listed = output.export_list(ctx, Query(PERSONS, {"village": V}), tmp_path / "l.xlsx")
    assert listed.masked and listed.rows > 0
    with pytest.raises(UserError, match="须说明事由"):
        output.export_list(ctx, Query(PERSONS, {}), tmp_path / "x.xlsx", masked=False)


# ---------------------------------------------------------------- administration


@pytest.fixture
def office(tmp_path: Path) -> Context:
    prepared = setup.prepare_township(
        tmp_path / "gov.db", code="441900199000", name="青禾镇", admin_password="Guanli#2026svc"
    )
    prepared.finish()
    signed = signin.sign_in(tmp_path / "gov.db", "admin", "Guanli#2026svc")
    yield Context(signed.store, clock=lambda: NOW)
    signed.store.dispose()


@covers(
    "admin.list_accounts",
    "admin.add_account",
    "admin.change_account",
    "admin.change_own_password",
)
def test_accounts(office: Context) -> None:
    admin.add_account(office, "li", Role.CLERK, "Wenshu#2026svc", display_name="李经办")
    admin.change_account(office, "li", role=Role.REVIEWER)
    admin.change_account(office, "li", disabled=True)
    accounts = {a.username: a for a in admin.list_accounts(office)}
    assert accounts["li"].role == "reviewer" and accounts["li"].disabled
    admin.change_own_password(office, "Guanli#2026svc", "Zhanghu#2026svc")
    office.store.dispose()
    signin.sign_in(office.store.path, "admin", "Zhanghu#2026svc").store.dispose()


@covers("admin.trust_sender", "admin.trusted_senders")
def test_senders(office: Context) -> None:
    from govshare_desktop.core.resources import resource_path

    pem = resource_path("demo", "county-demo-ed25519.pub.pem").read_bytes()
    sender = admin.trust_sender(office, pem, code="441900000000", name="东莞市")
    assert [s.code for s in admin.trusted_senders(office)] == [sender.code]


@covers("admin.back_up", "admin.restore", "admin.restore_unreadable")
def test_backup_and_restore(office: Context, tmp_path: Path) -> None:
    made = admin.back_up(office, tmp_path / "backups")
    assert made.path.exists() and Path(f"{made.path}.keys").exists()
    safety = admin.restore(office, made.path)
    assert safety is not None and safety.exists()
    with pytest.raises(UserError, match="可以正常打开"):
        admin.restore_unreadable(office.store.path, made.path, "admin", "Guanli#2026svc")


@covers("admin.verify_audit", "admin.audit_entries", "admin.export_audit")
def test_the_audit_trail(office: Context, tmp_path: Path) -> None:
    result = admin.verify_audit(office)
    assert result.ok and result.entries > 0
    auditor = Context(office.store.acting(AUDITOR), clock=lambda: NOW)
    assert admin.audit_entries(auditor, limit=1)
    with pytest.raises(PermissionDenied):
        admin.audit_entries(office)
    shown = admin.audit_entries(auditor, limit=5)
    exported = admin.export_audit(auditor, tmp_path / "trail.xlsx", shown)
    assert exported.forms == len(shown) and load_workbook(exported.path)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(UserError, match="没有审计锚点"):
        admin.verify_audit(office, against=plain)


@covers("forms.install_template_file", "forms.catalog")
def test_installing_a_template_from_a_file(office: Context, tmp_path: Path) -> None:
    from govshare_desktop.core.resources import resource_path

    shipped = resource_path("forms", "templates", "mz_elderly.toml").read_text(encoding="utf-8")
    path = tmp_path / "mz_elderly_2027.toml"
    path.write_text('version = "2027.1"\n' + shipped.replace("统计表", "统计表（2027版）"), "utf-8")
    said = forms.install_template_file(office, path, effective_from="2027-01")
    assert said == (
        "已安装报表模板“老年人口及高龄津贴情况统计表（2027版）”（民政，mz_elderly_2027.toml，"
        "版本 2027.1），自 2027-01 期起适用；已上报的报表仍按上报时的版本"
    )
    assert "内容相同，未作改动" in forms.install_template_file(office, path)
    (entry,) = audit_trail(office.store).entries(AUDITOR, action="install_forms")
    assert entry.object == "mz_elderly" and json.loads(entry.detail)["version"] == "2027.1"
    found = forms.catalog(office)
    assert [t.version for t in found.templates.versions("mz_elderly")] == ["", "2027.1"]
    elements = tmp_path / "elements.toml"
    elements.write_text(
        '[[element]]\ncode = "S_NEW"\nname = "新数据项"\ntype = "integer"\nlevel = "area"\n',
        "utf-8",
    )
    assert forms.install_template_file(office, elements) == "已向数据项字典添加 1 个数据项：S_NEW"
    assert "S_NEW" in forms.catalog(office).dictionary
    clerk = Context(office.store.acting(Principal("li", Role.CLERK)), clock=lambda: NOW)
    with pytest.raises(PermissionDenied, match="无权安装报表模板"):
        forms.install_template_file(clerk, path)


# ---------------------------------------------------------------- the loop with the county


@covers(
    "reports.ensure_township_key",
    "reports.township_public_keys",
    "reports.export_public_key",
    "reports.rotate_township_key",
    "reports.print_key_sheet",
)
def test_the_township_key(pool: FormValues, tmp_path: Path) -> None:
    admin_ctx = Context(pool.store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        reports.export_public_key(_ctx(pool), tmp_path / "k.pem")
    first = reports.ensure_township_key(_ctx(pool))  # made on first need (an older database)
    assert reports.ensure_township_key(_ctx(pool)) == first
    exported = reports.export_public_key(admin_ctx, tmp_path / "k.pem")
    assert exported.fingerprint == first.fingerprint
    assert (tmp_path / "k.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    sheet = reports.print_key_sheet(admin_ctx, tmp_path / "登记单.pdf")
    assert (tmp_path / "登记单.pdf").read_bytes().startswith(b"%PDF")
    assert sheet.fingerprint == first.fingerprint
    new = reports.rotate_township_key(admin_ctx)
    keys = reports.township_public_keys(admin_ctx)
    assert [k.fingerprint for k in keys] == [new.fingerprint, first.fingerprint]
    assert keys[1].retired_at == NOW
    actions = [e.action for e in _actions(admin_ctx, "key_rotate")]
    assert actions == ["key_rotate"]


@covers(
    "reports.set_report_recipient",
    "reports.set_review_required",
    "reports.submit_report",
    "reports.approve_report",
    "reports.report_package",
    "reports.outbox",
    "reports.write_package",
    "reports.write_unwritten",
    "reports.tasks",
)
def test_submit_review_approve_and_write(pool: FormValues, tmp_path: Path) -> None:
    ctx = _ctx(pool)
    admin_ctx = Context(pool.store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    data = pool.collect("mz_elderly", V, P)
    for column in data.template.columns:
        if data.value(column.element, V) is None:
            forms.set_value(ctx, pool, column.element, V, P, "0")
    with pytest.raises(PermissionDenied):
        reports.set_report_recipient(ctx, data.template.department, "441900000021")
    reports.set_report_recipient(admin_ctx, data.template.department, "441900000021")
    reports.set_review_required(admin_ctx, "mz_elderly", True)
    waiting = reports.submit_report(ctx, pool, "mz_elderly", V, P)
    assert waiting.status == "review" and waiting.package is None
    assert pool.collect("mz_elderly", V, P).locked
    with pytest.raises(PermissionDenied):
        reports.approve_report(ctx, pool, "mz_elderly", V, P)
    reviewer = Context(pool.store.acting(Principal("shen", Role.REVIEWER)), clock=lambda: NOW)
    checked = FormValues(reviewer.store, pool.dictionary, pool.templates)
    sent = reports.approve_report(reviewer, checked, "mz_elderly", V, P)
    assert sent.status == "submitted" and sent.package is not None
    assert sent.package.recipient_code == "441900000021"
    assert reports.report_package(ctx, "mz_elderly", V, P).package_id == sent.package.package_id
    (entry,) = reports.outbox(ctx)
    assert entry.kind == "report" and entry.receipt_label == "待回执"
    folder = tmp_path / "usb"
    folder.mkdir()
    assert reports.write_unwritten(ctx, folder) == [folder / entry.file_name]
    assert reports.write_unwritten(ctx, folder) == []
    (again,) = reports.write_package(ctx, entry.package_id, folder)
    assert again.read_bytes() == sent.package.content
    views, warning = reports.tasks(ctx, NOW.date())
    assert views == [] and warning is None


@covers("reports.report_state", "reports.report_settings")
def test_what_the_window_shows_of_a_report(pool: FormValues) -> None:
    ctx = _ctx(pool)
    admin_ctx = Context(pool.store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    assert reports.report_state(ctx, "mz_elderly", V, P) is None  # never submitted
    data = pool.collect("mz_elderly", V, P)
    for column in data.template.columns:
        if data.value(column.element, V) is None:
            forms.set_value(ctx, pool, column.element, V, P, "0")
    reports.set_review_required(admin_ctx, "mz_elderly", True)
    reports.set_report_recipient(admin_ctx, "县档案局", "441900000031")
    review, recipients = reports.report_settings(admin_ctx)
    assert {(r.template_id, r.required) for r in review} >= {
        ("mz_elderly", True),
        ("wj_population", False),
    }
    assert all(r.template_id != "mz_elderly_allowance_application" for r in review)  # 登记表
    by_department = {r.department: r for r in recipients}
    assert by_department["县档案局"].code == "441900000031"  # set, though no form names it
    assert not by_department["县档案局"].matched and by_department["县档案局"].registered_name == ""
    assert by_department["民政"].code and by_department["民政"].registered_name  # the demo's
    with pytest.raises(PermissionDenied):
        reports.report_settings(ctx)
    reports.submit_report(ctx, pool, "mz_elderly", V, P)
    waiting = reports.report_state(ctx, "mz_elderly", V, P)
    assert waiting is not None and (waiting.status, waiting.submitted_by) == ("review", "clerk")
    assert waiting.package_file is None and waiting.reason is None
    reviewer = Context(pool.store.acting(Principal("shen", Role.REVIEWER)), clock=lambda: NOW)
    checked = FormValues(reviewer.store, pool.dictionary, pool.templates)
    forms.return_form(reviewer, checked, "mz_elderly", V, P, "老年人口数请与台账核对")
    returned = reports.report_state(ctx, "mz_elderly", V, P)
    assert returned is not None and returned.status == "returned"
    assert (returned.reason, returned.changed_by) == ("老年人口数请与台账核对", "shen")
    reports.submit_report(ctx, pool, "mz_elderly", V, P)
    sent = reports.approve_report(reviewer, checked, "mz_elderly", V, P)
    shown = reports.report_state(ctx, "mz_elderly", V, P)
    assert shown is not None and shown.reviewed_by == "shen"
    assert sent.package is not None and shown.package_file == sent.package.file_name


# ---------------------------------------------------------------- 比对核查


@covers(
    "checks.checks", "checks.run", "checks.after_import", "checks.cases", "checks.set_case_state"
)
def test_checks_run_after_an_import_and_cases_are_worked(pool: FormValues) -> None:
    ctx = _ctx(pool)
    assert set(checks.checks()) >= {"deceased_still_paid", "over_60_not_receiving"}
    assert checks.after_import(ctx, []) is None  # nothing went in: nothing to check
    outcomes = imports.import_back_flow(ctx, [PAYMENT_CSV])
    done = checks.after_import(ctx, outcomes)
    assert done is not None and "比对核查：运行" in done.summary()
    assert len(_actions(ctx, "check_run")) == 1
    found = checks.cases(ctx, check_id="over_60_not_receiving")
    assert found and all(c.state == "open" for c in found)
    first = found[0]
    assert "年龄" in first.evidence_text() and first.as_json()["state_label"] == "待核实"
    with pytest.raises(UserError, match="须写明理由"):
        checks.set_case_state(ctx, first.id, "false_alarm")
    checks.set_case_state(ctx, first.id, "false_alarm", "已在外省领取，有证明")
    assert first.id not in {c.id for c in checks.cases(ctx, check_id="over_60_not_receiving")}
    again = checks.run(ctx)  # the same evidence: the closed case stays closed
    assert sum(o.new + o.reopened for o in again.outcomes) == 0
    closed = checks.cases(ctx, states=("false_alarm",))
    assert [c.id for c in closed] == [first.id] and closed[0].note == "已在外省领取，有证明"
    auditor = Context(pool.store.acting(Principal("a", Role.AUDITOR)), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        checks.set_case_state(auditor, first.id, "confirmed")


@covers("checks.export_sheet")
def test_the_check_sheet_goes_to_the_village(pool: FormValues, tmp_path: Path) -> None:
    ctx = _ctx(pool)
    checks.run(ctx)
    village = checks.cases(ctx, check_id="over_60_not_receiving")[0].village_code
    assert village is not None
    pdf = checks.export_sheet(
        ctx, "over_60_not_receiving", tmp_path / "核查表.pdf", village=village
    )
    assert pdf.path.read_bytes().startswith(b"%PDF") and pdf.forms > 0
    sheet = load_workbook(
        checks.export_sheet(ctx, "over_60_not_receiving", tmp_path / "核查表.xlsx").path
    ).active
    texts = [str(c.value or "") for row in sheet.iter_rows() for c in row]
    assert "核实情况" in texts and any("*" in t for t in texts)  # masked
    assert any("领取养老待遇：否" in t for t in texts)
    with pytest.raises(UserError, match="须说明事由"):
        checks.export_sheet(ctx, "over_60_not_receiving", tmp_path / "x.pdf", masked=False)
    with pytest.raises(UserError, match="没有核查规则"):
        checks.export_sheet(ctx, "nope", tmp_path / "x.pdf")
    assert _actions(ctx, "export")


@covers("checks.correctable")
def test_the_fields_a_correction_may_name_with_their_values(pool: FormValues) -> None:
    ctx = _ctx(pool)
    person = pool.collect("mz_elderly_allowance_roster", "441900199000", P).subjects[0][0]
    fields = checks.correctable(ctx, "person", person)
    assert list(fields)[:2] == ["姓名", "性别代码"] and fields["人员状态"] == "normal"
    assert fields["出生日期"] == f"{person[6:10]}-{person[10:12]}-{person[12:14]}"
    with pytest.raises(UserError, match="建议值与现值相同"):  # the value the request states
        reports.raise_correction(
            ctx,
            dataset="person",
            record_key=person,
            field="出生日期",
            proposed=fields["出生日期"],
            basis="户口簿",
        )
    household = checks.correctable(ctx, "household", fields["户号"])
    assert set(household) == {"户别", "户主公民身份号码", "户主姓名", "所属村（社区）代码", "住址"}
    with pytest.raises(UserError, match="本地没有记录"):
        checks.correctable(ctx, "person", "110101199001011234")
    with pytest.raises(UserError, match="不能纠错"):
        checks.correctable(ctx, "ss_payment", person)
    admin_ctx = Context(pool.store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):  # residents' data
        checks.correctable(admin_ctx, "person", person)


@covers(
    "reports.raise_correction",
    "reports.send_corrections",
    "reports.correction_list",
    "reports.print_reminder",
)
def test_corrections_are_raised_sent_and_tracked(pool: FormValues) -> None:
    ctx = _ctx(pool)
    admin_ctx = Context(pool.store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    reports.set_report_recipient(admin_ctx, "东莞市公安局（演示数据）", "441900000003")
    person = pool.collect("mz_elderly_allowance_roster", "441900199000", P).subjects[0][0]
    raised = reports.raise_correction(
        ctx,
        dataset="person",
        record_key=person,
        field="联系电话",
        proposed="13700000000",
        basis="本人",
    )
    assert [v.state_label for v in reports.correction_list(ctx)] == ["待发送"]
    (package,) = reports.send_corrections(ctx)
    assert package.recipient_code == "441900000003" and raised.correction_id
    assert reports.send_corrections(ctx) == []
    assert [v.state_label for v in reports.correction_list(ctx)] == ["已发送"]
    with pytest.raises(UserError, match="超期未答复"):
        reports.print_reminder(ctx, "东莞市公安局（演示数据）", Path("/nonexistent/x.pdf"))


# ---------------------------------------------------------------- the map


def _use_cases() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(services.__path__):
        if info.name == "context":
            continue
        module = importlib.import_module(f"{services.__name__}.{info.name}")
        for name, value in vars(module).items():
            own = inspect.isfunction(value) and value.__module__ == module.__name__
            if own and not name.startswith("_"):
                found.add(f"{module.__name__.rsplit('.', 1)[1]}.{name}")
    return found


def test_every_use_case_has_its_headless_test() -> None:
    tested = every_tested()
    assert _use_cases() - tested == set()
    assert tested - _use_cases() == set()


def test_every_command_calls_the_use_cases_it_names() -> None:
    from govshare_desktop.cli import COMMANDS

    for command in COMMANDS:
        if command.database:
            assert command.use_cases, f"govshare {command.words} names no use case"
        source = inspect.getsource(command.run)
        for name in command.use_cases:
            assert name in _use_cases(), f"govshare {command.words}: no use case {name}"
            assert f"{name.split('.')[1]}(" in source, f"govshare {command.words} skips {name}"
