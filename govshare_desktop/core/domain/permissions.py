"""Roles and what each may do, checked in the core services (hiding a button is not enough).

Value types and a rule, with no behaviour beyond the check: they sit in the domain so that the store
can say who is acting (:attr:`govshare_desktop.core.store.engine.Store.principal`) without knowing
anything of :mod:`govshare_desktop.core.security` (accounts, sign-in, the audit trail, keys), which
sits above it and re-exports these names from :mod:`govshare_desktop.core.security.permissions`.

Four separated roles (三权分立, GB/T 22239 访问控制):

* 经办人 (clerk): imports, browses, fills and submits forms, exports and prints;
* 审核人 (reviewer): what a clerk does, and returns submitted forms;
* 系统管理员 (sysadmin): accounts, trusted senders, backups and restore — no residents' data and
  no audit details;
* 审计管理员 (audit admin): reads, filters and exports the audit trail — cannot change data and
  sees residents' data only masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from govshare_desktop.core.errors import UserError


class Role(str, Enum):
    CLERK = "clerk"
    REVIEWER = "reviewer"
    SYSADMIN = "sysadmin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        for role in cls:
            if text in (role.value, role.label):
                return role
        raise UserError(
            f"角色“{text}”无效，可用：" + "、".join(f"{r.value}（{r.label}）" for r in cls)
        )


ROLE_LABELS = {
    Role.CLERK: "经办人",
    Role.REVIEWER: "审核人",
    Role.SYSADMIN: "系统管理员",
    Role.AUDITOR: "审计管理员",
}


class Action(str, Enum):
    VIEW = "view"  # browse and search residents' data, masked
    UNMASK = "unmask"  # see full names, ID numbers… (with a reason)
    IMPORT = "import"
    EDIT_FORMS = "edit_forms"  # prefill, enter values
    SUBMIT_FORM = "submit_form"
    RETURN_FORM = "return_form"
    REVIEW_FORM = "review_form"  # approve a form waiting for review before it goes up
    EXPORT = "export"  # forms and lists, masked
    EXPORT_UNMASKED = "export_unmasked"
    PRINT = "print"
    TRUST_SENDERS = "trust_senders"
    MANAGE_USERS = "manage_users"
    BACKUP = "backup"
    RESTORE = "restore"
    VERIFY_AUDIT = "verify_audit"  # is the chain intact? (no entry contents)
    READ_AUDIT = "read_audit"  # entries, filters, export
    INSTALL_FORMS = "install_forms"  # add a department's form template from a file
    MANAGE_KEYS = "manage_keys"  # the township's signing key: export, rotate; report recipients

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.VIEW: "查看数据",
    Action.UNMASK: "查看完整个人信息",
    Action.IMPORT: "导入回流数据",
    Action.EDIT_FORMS: "填报报表",
    Action.SUBMIT_FORM: "上报报表",
    Action.RETURN_FORM: "退回报表",
    Action.REVIEW_FORM: "审核报表",
    Action.EXPORT: "导出",
    Action.EXPORT_UNMASKED: "导出完整个人信息",
    Action.PRINT: "打印",
    Action.TRUST_SENDERS: "登记数据包发送方",
    Action.MANAGE_USERS: "管理用户",
    Action.BACKUP: "备份",
    Action.RESTORE: "恢复备份",
    Action.VERIFY_AUDIT: "校验审计日志",
    Action.READ_AUDIT: "查看审计日志",
    Action.INSTALL_FORMS: "安装报表模板",
    Action.MANAGE_KEYS: "管理本单位签名密钥",
}

_WORK = {
    Action.VIEW,
    Action.UNMASK,
    Action.IMPORT,
    Action.EDIT_FORMS,
    Action.SUBMIT_FORM,
    Action.EXPORT,
    Action.EXPORT_UNMASKED,
    Action.PRINT,
    Action.BACKUP,
}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.CLERK: frozenset(_WORK),
    Role.REVIEWER: frozenset(_WORK | {Action.RETURN_FORM, Action.REVIEW_FORM}),
    Role.SYSADMIN: frozenset(
        {
            Action.TRUST_SENDERS,
            Action.MANAGE_USERS,
            Action.BACKUP,
            Action.RESTORE,
            Action.VERIFY_AUDIT,
            Action.INSTALL_FORMS,
            Action.MANAGE_KEYS,
        }
    ),
    Role.AUDITOR: frozenset({Action.VIEW, Action.VERIFY_AUDIT, Action.READ_AUDIT}),
}


class PermissionDenied(UserError):
    """The signed-in user's role does not allow the action."""


# What a damaged database must not take (it is opened read-only until restored).
WRITES = frozenset(
    {
        Action.IMPORT,
        Action.EDIT_FORMS,
        Action.SUBMIT_FORM,
        Action.RETURN_FORM,
        Action.REVIEW_FORM,
        Action.TRUST_SENDERS,
        Action.INSTALL_FORMS,
        Action.MANAGE_KEYS,
        Action.MANAGE_USERS,
        Action.BACKUP,
    }
)


class IntegrityGate:
    """The start-up integrity check running beside the window (it reads the whole file: 15 s on
    the largest townships): until it has passed, nothing is written — a damaged database is
    caught before anything goes into it. Shared by every copy of the principal (one object)."""

    CHECKING, PASSED, FAILED = "checking", "passed", "failed"

    def __init__(self) -> None:
        self.state = self.CHECKING
        self.problems: list[str] = []

    def passed(self) -> None:
        self.state = self.PASSED

    def failed(self, problems: list[str]) -> None:
        self.problems = list(problems)
        self.state = self.FAILED


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in account, or the application itself (start-up tasks).
    ``read_only``: the database failed its integrity check; only reading (and restoring).
    ``gate``: the integrity check still running, if any (:class:`IntegrityGate`)."""

    username: str
    role: Role | None  # None: the system (migrations, automatic backup), not a person
    read_only: bool = False
    gate: IntegrityGate | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.username}（{self.role.label}）" if self.role else self.username

    @property
    def damaged(self) -> bool:
        """Opened read-only, or the check beside the window found damage."""
        return self.read_only or (self.gate is not None and self.gate.state == IntegrityGate.FAILED)

    def may(self, action: Action) -> bool:
        if self.damaged and action in WRITES:
            return False
        return self.role is not None and action in PERMISSIONS[self.role]

    def require(self, action: Action) -> None:
        if self.damaged and action in WRITES:
            raise PermissionDenied(
                f"数据库检查发现损坏，已以只读方式打开，不能{action.label}；请系统管理员从备份恢复"
            )
        if self.gate is not None and self.gate.state == IntegrityGate.CHECKING and action in WRITES:
            raise PermissionDenied(
                f"正在检查数据库是否完好（启动时的完整性检查，数据量大时需要十几秒），"
                f"检查完成前不能{action.label}；请稍候再试"
            )
        if not self.may(action):
            role = self.role.label if self.role else "系统"
            raise PermissionDenied(f"“{self.username}”的角色（{role}）无权{action.label}")


SYSTEM = Principal("system", None)
