"""What every command shares: the declarative command table, the argument parser in Chinese
(:class:`ChineseArgumentParser`: help, usage and argparse's own errors), signing in through the
environment (``GOVSHARE_USER`` / ``GOVSHARE_PASSWORD``, or asked for at the terminal), the use-case
:class:`Context`, and argument parsing helpers. Commands are thin: parse, call one use case of
:mod:`govshare_desktop.core.services`, print."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from govshare_desktop.core.errors import UserError

if TYPE_CHECKING:  # the heavy modules load inside the commands that need them
    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.forms.values import FormValues
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.core.store.engine import Store

ENV_USER, ENV_PASSWORD = "GOVSHARE_USER", "GOVSHARE_PASSWORD"
ENV_ADMIN_PASSWORD, ENV_NEW_PASSWORD = "GOVSHARE_ADMIN_PASSWORD", "GOVSHARE_NEW_PASSWORD"
ENV_CLERK_PASSWORD = "GOVSHARE_CLERK_PASSWORD"
PERIOD_HELP = "统计期：2026-10、2026Q3、2026H2、2026"
DATASET_CHOICES = ("household", "person", "ss_enrollment", "ss_payment")
# What a file may be imported as (core/backflow/packages.py DATASET_ORDER, checked by a test).
IMPORT_DATASET_CHOICES = (
    *DATASET_CHOICES,
    "medical_enrollment",
    "assistance",
    "allowance_payment",
    "disability_card",
    "death_certificate",
    "cremation",
)


# ---------------------------------------------------------------- the parser, in Chinese

# A line of help may break between any two Chinese characters, not before closing punctuation and
# not after opening punctuation; an ASCII word (a path, an option, a code) stays whole.
_TOKEN = re.compile(r"[!-~]+| |.")
_NO_LINE_START = frozenset("，。、；：？！）」』”’》】")
_NO_LINE_END = frozenset("（「『“‘《【")
_HEADING = re.compile(r"^([^\x00-\x7f][^\n:]*):$", re.M)  # a Chinese heading, with its ASCII colon


def display_width(text: str) -> int:
    """Columns on a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns (a word longer than that overflows)."""
    lines: list[list[str]] = [[]]
    for token in _TOKEN.findall(" ".join(text.split())):
        line = lines[-1]
        if display_width("".join([*line, token]).rstrip()) <= width or not "".join(line).strip():
            line.append(token)
            continue
        if token in _NO_LINE_START and len(line) < 2:
            line.append(token)  # nothing to take along: the line overflows by the mark
            continue
        moved = [token]  # to the next line, with what may not end this one
        if token in _NO_LINE_START:
            moved.insert(0, line.pop())
        while len(line) > 1 and (line[-1] == " " or line[-1] in _NO_LINE_END):
            moved.insert(0, line.pop())
        while moved[0] == " ":
            moved.pop(0)
        lines.append(moved)
    return [text for line in lines if (text := "".join(line).strip())]


class ChineseHelpFormatter(argparse.HelpFormatter):
    """Help with argparse's headings in Chinese ("用法：") and lines wrapped by display width.
    Descriptions and epilogs keep their own line breaks (an aligned list stays aligned)."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[Any],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def _format_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[Any],
        prefix: str | None,
    ) -> str:
        """argparse's usage, its lines within the width in columns and aligned under the first
        (argparse indents them by the prefix's characters, "用法：" takes six columns)."""
        actions, groups = list(actions), list(groups)
        width = self._width
        try:
            for _ in range(5):
                text = super()._format_usage(usage, actions, groups, prefix)
                lines = text.splitlines()
                over = max(map(display_width, lines)) + self._shift(prefix) - width
                if over <= 0 or self._width <= 40:
                    break
                self._width -= over
        finally:
            self._width = width
        indent = " " * self._shift(prefix)
        return (
            "\n".join(
                indent + line if n and line.startswith(" ") else line
                for n, line in enumerate(lines)
            )
            + "\n\n"
        )

    @staticmethod
    def _shift(prefix: str | None) -> int:
        return display_width(prefix or "") - len(prefix or "")

    def format_help(self) -> str:
        return _HEADING.sub(r"\1：", super().format_help())  # "选项:" → "选项："

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)  # measured in characters: a Chinese metavar takes two columns
        if action.help is not argparse.SUPPRESS:
            shown = [action, *self._iter_indented_subactions(action)]
            widest = max(display_width(self._format_action_invocation(a)) for a in shown)
            self._action_max_length = max(self._action_max_length, widest + self._current_indent)

    def _format_action(self, action: argparse.Action) -> str:
        """argparse's layout (the help beside the option, or below it if the option is too wide),
        measured in columns."""
        help_position = min(self._action_max_length + 2, self._max_help_position)
        room = help_position - self._current_indent - 2
        header = " " * self._current_indent + self._format_action_invocation(action)
        lines: list[str] = []
        if action.help and action.help.strip():
            lines = self._split_lines(
                self._expand_help(action), max(self._width - help_position, 11)
            )
        width = display_width(header) - self._current_indent
        if lines and width <= room:
            header += " " * (room - width + 2) + lines.pop(0)
        parts = [header + "\n", *(" " * help_position + line + "\n" for line in lines)]
        parts += [self._format_action(sub) for sub in self._iter_indented_subactions(action)]
        return self._join_parts(parts)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        """Line by line, each wrapped within the width: a line of a list ("NAME  what it is")
        continues under its text."""
        width -= len(indent)
        lines = []
        for line in text.splitlines():
            item = _LIST_ITEM.match(line)
            head = item[1] if item else line[: len(line) - len(line.lstrip())]
            hang = " " * display_width(head)
            parts = wrap(line[len(head) :], width - len(hang)) or [""]
            lines += [indent + head + parts[0], *(indent + hang + part for part in parts[1:])]
        return "\n".join(line.rstrip() for line in lines)


_LIST_ITEM = re.compile(r"(\s*\S+ {2,})\S")


def _unquoted(value: str) -> str:
    """A value as argparse quotes it (its repr), between Chinese quotation marks."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return f"“{value}”"


def _listed(text: str, separator: str = ", ") -> str:
    return "、".join(_unquoted(item)[1:-1] for item in text.split(separator))


_TYPE_NAMES = {"int": "整数", "float": "数字"}

# argparse's own messages (from gettext's "argparse" domain, not translated on a Chinese system
# either), as Python 3.10 to 3.14 word them, and what a clerk reads instead.
_ERRORS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"argument (?P<name>.+?): (?P<message>.+)", re.S),
        lambda m: f"参数 {m['name']}：{translate_error(m['message'])}",
    ),
    (
        re.compile(r"the following arguments are required: (?P<names>.+)"),
        lambda m: f"缺少必需的参数：{_listed(m['names'])}",
    ),
    (
        re.compile(r"one of the arguments (?P<names>.+) is required"),
        lambda m: f"须给出以下参数之一：{_listed(m['names'], ' ')}",
    ),
    (
        re.compile(r"unrecognized arguments: (?P<words>.*)"),
        lambda m: f"无法识别的参数：{m['words']}",
    ),
    (
        re.compile(
            r"invalid choice: (?P<value>.+?)(?:, maybe you meant (?P<closest>.+?)\?)?"
            r" \(choose from (?P<choices>.*)\)"
        ),
        lambda m: (
            f"{_unquoted(m['value'])}不是可选的值"
            + (f"（是不是{_unquoted(m['closest'])}？）" if m["closest"] else "")
            + f"；可选：{_listed(m['choices'])}"
        ),
    ),
    (
        re.compile(r"invalid (?P<type>\S+) value: (?P<value>.+)"),
        lambda m: (
            f"{_unquoted(m['value'])}不是" + _TYPE_NAMES.get(m["type"], f"有效的{m['type']}值")
        ),
    ),
    (re.compile(r"expected one argument"), lambda m: "须跟一个值"),
    (re.compile(r"expected at most one argument"), lambda m: "最多跟一个值"),
    (re.compile(r"expected at least one argument"), lambda m: "须跟至少一个值"),
    (re.compile(r"expected (?P<n>\d+) arguments?"), lambda m: f"须跟 {m['n']} 个值"),
    (
        re.compile(r"not allowed with argument (?P<name>.+)"),
        lambda m: f"不能与参数 {m['name']} 同时使用",
    ),
    (
        re.compile(r"ignored explicit argument (?P<value>.+)"),
        lambda m: f"不接受值 {_unquoted(m['value'])}",
    ),
    (
        re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)"),
        lambda m: f"选项 {m['option']} 不明确，可能是：{_listed(m['matches'])}",
    ),
    (
        re.compile(r"unexpected option string: (?P<option>.+)"),
        lambda m: f"多余的选项 {m['option']}",
    ),
]


def translate_error(message: str) -> str:
    """argparse's error message in Chinese (one it does not know of stays as it is)."""
    for pattern, chinese in _ERRORS:
        match = pattern.fullmatch(message)
        if match:
            return chinese(match)
    return message


class ChineseArgumentParser(argparse.ArgumentParser):
    """An argument parser that speaks Chinese: headings (用法、位置参数、选项), its ``-h``, and
    the errors argparse itself reports (a required argument missing, a bad choice, an unknown
    option …), each followed by where to find the help. Subcommands' parsers are of this class
    too (``add_subparsers`` makes them of the parser's own class)."""

    def __init__(self, *args: Any, add_help: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        kwargs["add_help"] = False  # its own -h, in Chinese, below
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument(
                "-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出"
            )

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{translate_error(message)}\n（{self.prog} -h 查看各参数的说明）\n")


# ---------------------------------------------------------------- the command table


@dataclass(frozen=True)
class Arg:
    """One ``add_argument`` call, as data."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    """A ``govshare`` command: ``group`` (e.g. ``forms``) and ``name`` (``prefill``), its help,
    arguments and function, and the use cases of :mod:`govshare_desktop.core.services` it calls
    (checked by a test)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    args: Sequence[Arg] = ()
    group: str = ""
    database: bool = True  # takes --db (and so the database's writer lock)
    use_cases: tuple[str, ...] = ()  # "module.function" under core.services

    @property
    def words(self) -> str:
        return f"{self.group} {self.name}".strip()


GROUP_HELP = {
    "trust": "登记和查看数据包发送方的公钥",
    "forms": "一表通：数据项和报表",
    "users": "用户管理（系统管理员）",
    "audit": "审计日志",
    "keys": "本单位签名密钥：导出公钥、更换密钥",
    "tasks": "县里下发的报表任务",
    "report": "上报报表：生成签名的上报数据包",
    "outbox": "发件箱：本单位发出的数据包",
    "checks": "比对核查：运行核查、列出待核实事项、填写核查结果",
    "corrections": "校核纠错：提出、发送、跟踪",
    "catalog": "数据资源目录（县级下发）：查找可申请共享的数据",
    "share": "共享申请：起草、审核、发送、催办，以及数据使用登记",
    "calendar": "工作日日历：法定节假日和调休",
    "server": "多人办公：PostgreSQL 服务器上的共用数据库",
    "laptop": "下村笔记本：把一个村（社区）检出到笔记本离线填报，回来后检入",
}


DB_HELP = "数据库文件的路径（默认：环境变量 GOVSHARE_DB，或用户数据目录中的数据库）"


def build(parser: argparse.ArgumentParser, commands: Sequence[Command]) -> None:
    """The commands under ``parser``: ``govshare NAME`` or ``govshare GROUP NAME``, each with its
    help as the description of its own ``-h``."""
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="命令",
        help=f"要执行的命令（{parser.prog} 命令 -h 查看该命令的说明）",
    )
    groups: dict[str, Any] = {}
    for command in commands:
        where = sub
        if command.group:
            if command.group not in groups:
                text = GROUP_HELP[command.group]
                group = sub.add_parser(command.group, help=text, description=text)
                groups[command.group] = group.add_subparsers(
                    dest=f"{command.group}_command",
                    required=True,
                    metavar="操作",
                    help=f"要执行的操作（{group.prog} 操作 -h 查看该操作的说明）",
                )
            where = groups[command.group]
        p = where.add_parser(command.name, help=command.help, description=command.help)
        for a in command.args:
            p.add_argument(*a.flags, **a.options)
        if command.database:
            p.add_argument("--db", metavar="路径", help=DB_HELP)
        p.set_defaults(func=command.run)


# ---------------------------------------------------------------- signing in


def open_store(args: argparse.Namespace, credentials: tuple[str, str] | None = None) -> Store:
    """Sign in — the user from ``GOVSHARE_USER`` and the password from ``GOVSHARE_PASSWORD``, or
    asked for — and open the database as that user (permissions and audit follow)."""
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.location import held_lock

    db = initialised_db(args)
    user, password = credentials or ask_credentials()
    signed = signin.sign_in(db, user, password)
    lock = held_lock(db) if isinstance(db, Path) else None  # a server has no lock file
    if lock is not None:  # a second writer is told who has the database
        lock.note(account=user)
    if signed.must_change_password and args.command != "passwd":
        signed.store.dispose()
        raise UserError(f"“{user}”首次登录（或密码被重置），须先修改密码：govshare passwd")
    if not signed.store.encrypted and not signed.store.server:
        print("警告：本机无法使用 SQLCipher，数据库未加密。", file=sys.stderr)
    return signed.store


def context(args: argparse.Namespace, label: str = "") -> Context:
    """Signed in, with progress on the terminal."""
    from govshare_desktop.core.services.context import Context

    return Context(open_store(args), progress=terminal_progress if label else None)


def initialised_db(args: argparse.Namespace) -> Path | str:
    """The database ``--db`` names, once it is known to be set up: a file's path, or a server's
    URL (office mode)."""
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.engine import resolve_url
    from govshare_desktop.core.store.server import is_server_url, shown

    url = resolve_url(args.db)
    if not is_server_url(url):
        return initialised_path(args)
    if not signin.is_initialised(url):
        raise UserError(
            f"数据库服务器 {shown(url)} 上还没有建立本乡镇的数据库："
            "请系统管理员先运行 govshare server init --url 连接地址 --area 区划代码 --name 名称"
        )
    return url


def initialised_path(args: argparse.Namespace) -> Path:
    """The database file ``--db`` names, once it is known to be set up (a backup, a restore
    and a repair need a file)."""
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.engine import resolve_url, sqlite_path

    path = sqlite_path(resolve_url(args.db))
    if path is None:
        raise UserError(
            "该命令只用于本机的数据库文件；服务器上的数据库请登录后用 govshare backup、"
            "govshare restore 备份和恢复（系统管理员）"
        )
    if not signin.is_initialised(path):
        if not path.exists():
            raise UserError(f"数据库 {path} 不存在：请先运行 govshare init 或 govshare demo")
        raise UserError(
            f"数据库 {path} 由早期版本创建，尚未设置管理员和加密。"
            "请运行 govshare init --area 区划代码 --name 名称 完成设置（数据会被加密，原数据保留）"
        )
    return path


NO_TERMINAL = (
    "未读到{what}：没有可输入的终端，或输入已结束。"
    "请在终端中运行并按提示输入，或先设置环境变量 {names}（脚本、计划任务中）。"
)


def answer(prompt: str, what: str, names: Sequence[str], *, secret: bool = False) -> str:
    """What the clerk types at the terminal (a password unechoed) — or, with no terminal, a line
    of standard input (a script may pipe it). Nothing to read (no terminal, stdin at its end)
    is a :class:`UserError` naming the environment variables that give it instead."""
    import getpass  # lazy: only to ask

    stdin = sys.stdin
    line = ""
    try:
        if stdin is not None and stdin.isatty():
            return getpass.getpass(prompt) if secret else input(prompt)
        if stdin is not None:
            line = stdin.readline()
    except EOFError:  # Ctrl+D at the prompt
        line = ""
    except (OSError, ValueError):  # standard input closed or unreadable
        line = ""
    if not line:
        raise UserError(NO_TERMINAL.format(what=what, names="、".join(names)))
    return line.rstrip("\r\n")


def ask_credentials() -> tuple[str, str]:
    user = (
        os.environ.get(ENV_USER)
        or answer("用户名：", "用户名", _unset(ENV_USER, ENV_PASSWORD)).strip()
    )
    password = os.environ.get(ENV_PASSWORD) or answer("密码：", "密码", [ENV_PASSWORD], secret=True)
    if os.environ.get(ENV_PASSWORD) and sys.stderr.isatty() and not os.environ.get("CI"):
        print(
            f"警告：密码取自环境变量 {ENV_PASSWORD}，同一台电脑上的其他程序可能读到它；"
            "请只在脚本中使用，用完即删除。",
            file=sys.stderr,
        )
    return user, password


def _unset(*names: str) -> list[str]:
    """Those of ``names`` not set (the message names what is missing, not what is there)."""
    return [name for name in names if not os.environ.get(name)]


def current_password() -> str:
    """The signed-in user's password again (``govshare passwd``)."""
    return os.environ.get(ENV_PASSWORD) or answer(
        "当前密码：", "当前密码", [ENV_PASSWORD], secret=True
    )


def new_password(prompt: str = "新密码：") -> str:
    if os.environ.get(ENV_NEW_PASSWORD):
        return os.environ[ENV_NEW_PASSWORD]
    what, names = prompt.rstrip("：:"), [ENV_NEW_PASSWORD]
    first = answer(prompt, what, names, secret=True)
    if answer("再输入一次：", what, names, secret=True) != first:
        raise UserError("两次输入的密码不一致")
    return first


# ---------------------------------------------------------------- values


def terminal_progress(done: int, total: int, label: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{label} {done}/{total}", end="", file=sys.stderr, flush=True)


def end_progress() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)


def period(text: str) -> Period:
    from govshare_desktop.core.domain.period import Period

    try:
        return Period.parse(text)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"日期“{text}”格式不对，应写作 2026-10-31") from None


def pool(store: Store) -> FormValues:
    """The value pool with the element dictionary and the templates: the shipped ones and those
    installed in the database (every version)."""
    from govshare_desktop.core.forms.catalog import load_catalog
    from govshare_desktop.core.forms.values import FormValues

    catalog = load_catalog(store)
    for problem in catalog.problems:
        print(f"警告：{problem}", file=sys.stderr)
    return FormValues(store, catalog.dictionary, catalog.templates)
