"""``govshare`` speaks Chinese (issue 19): its help and argparse's own words (用法、选项、errors),
every argument explained; no English logger lines on the terminal; and a command with nobody at a
terminal to sign in says which environment variables to set instead of an EOFError traceback."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from govshare_desktop.cli import build_parser, main
from govshare_desktop.cli.common import translate_error, wrap
from tests.e2e.cli import CLERK_PASSWORD, govshare
from tests.e2e.launch import command

CJK = re.compile(r"[\u4e00-\u9fff]")
# argparse's English, as Python 3.10 to 3.14 print it.
ENGLISH = re.compile(
    r"usage:|options:|optional arguments|positional arguments|show this help|"
    r"program's version|error:|required|invalid|unrecognized|expected|argument|choose from",
    re.IGNORECASE,
)


def _parsers(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the tree — ``govshare``, its groups and commands — by its words."""
    yield " ".join(words), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*words, name))


def _value_named(action: argparse.Action) -> bool:
    """The value's placeholder in the usage says what to write: Chinese, or the values to choose
    from (``--format {xlsx,pdf}``, ``on|off``). A positional's name is also the one its errors
    give, so it needs a metavar even with choices."""
    metavar, choices = action.metavar, [str(c) for c in action.choices or ()]
    if metavar is None:
        return bool(action.option_strings and choices)
    assert isinstance(metavar, str)
    return bool(CJK.search(metavar)) or (bool(choices) and set(metavar.split("|")) <= set(choices))


def _unexplained(words: str, parser: argparse.ArgumentParser) -> list[str]:
    where = f"govshare {words}".strip()
    found = []
    if words and not CJK.search(parser.description or ""):
        found.append(f"{where}: 没有中文说明（description）")
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        name = "/".join(action.option_strings) or action.dest
        if not CJK.search(action.help or ""):
            found.append(f"{where} {name}: 没有中文说明（help）")
        if action.nargs != 0 and not _value_named(action):
            found.append(f"{where} {name}: 值的占位名 {action.metavar or action.dest} 不是中文")
    return found


def test_every_command_and_argument_is_explained_in_chinese() -> None:
    found = [p for words, parser in _parsers(build_parser()) for p in _unexplained(words, parser)]
    assert found == []


def test_every_help_is_chinese() -> None:
    for words, parser in _parsers(build_parser()):
        text = parser.format_help()
        assert text.startswith(f"用法：govshare {words}".strip()), words
        assert "选项：" in text and "显示本帮助并退出" in text, words
        assert not ENGLISH.search(text), (words, ENGLISH.search(text))


@pytest.mark.parametrize("argv", [["-h"], ["export", "-h"], ["users", "add", "--help"]])
def test_asking_for_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：govshare") and "选项：" in out
    assert not ENGLISH.search(out)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ([], "缺少必需的参数：命令"),
        (["nope"], "参数 命令：“nope”不是可选的值；可选：init、demo、"),
        (["init"], "缺少必需的参数：--area、--name"),
        (["init", "--area"], "参数 --area：须跟一个值"),
        (["demo", "--households", "many"], "参数 --households：“many”不是整数"),
        (["report", "review", "t", "maybe"], "参数 on|off：“maybe”不是可选的值；可选：on、off"),
        (["info", "--bogus"], "无法识别的参数：--bogus"),
        (["users"], "缺少必需的参数：操作"),
        (["export-list", "people", "--out", "x.xlsx"], "参数 名单：“people”不是可选的值"),
    ],
)
def test_a_mistyped_command_is_told_in_chinese(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：govshare")
    assert f"错误：{said}" in err and "-h 查看各参数的说明" in err
    assert not ENGLISH.search(err), err


@pytest.mark.parametrize(
    ("message", "chinese"),
    [  # the wordings of other Python versions too
        (
            "argument 命令: invalid choice: nope (choose from init, demo)",
            "参数 命令：“nope”不是可选的值；可选：init、demo",
        ),
        (
            "argument --format: invalid choice: 'pfd', maybe you meant 'pdf'? (choose from xlsx, pdf)",
            "参数 --format：“pfd”不是可选的值（是不是“pdf”？）；可选：xlsx、pdf",
        ),
        ("argument --x: expected 2 arguments", "参数 --x：须跟 2 个值"),
        ("argument --x: expected at least one argument", "参数 --x：须跟至少一个值"),
        ("argument --seed: invalid float value: 'a'", "参数 --seed：“a”不是数字"),
        ("argument --a: not allowed with argument --b", "参数 --a：不能与参数 --b 同时使用"),
        ("argument --json: ignored explicit argument 'yes'", "参数 --json：不接受值 “yes”"),
        ("one of the arguments --a --b is required", "须给出以下参数之一：--a、--b"),
        (
            "ambiguous option: --ver could match --version, --verbose",
            "选项 --ver 不明确，可能是：--version、--verbose",
        ),
        ("something argparse may say one day", "something argparse may say one day"),
    ],
)
def test_argparse_messages_in_chinese(message: str, chinese: str) -> None:
    assert translate_error(message) == chinese


def test_help_lines_are_wrapped_by_columns() -> None:
    lines = wrap("导出完整的姓名、身份号码等（默认脱敏；须用 --reason 说明事由，注意保密）", 30)
    assert all(len(line.encode("gbk")) <= 30 for line in lines)  # GBK: two bytes a character
    assert (
        "".join(lines).replace(" ", "")
        == "导出完整的姓名、身份号码等（默认脱敏；须用--reason说明事由，注意保密）"
    )
    assert not any(line[0] in "，。、；）" or line[-1] == "（" for line in lines)


# ---------------------------------------------------------------- without a terminal


@pytest.fixture(scope="module")
def township(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("township") / "t.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    return db


def _unattended(
    *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``govshare ARGS`` as a scheduled task runs it: no terminal, no GOVSHARE_USER/PASSWORD
    unless given here."""
    names = ("GOVSHARE_USER", "GOVSHARE_PASSWORD", "GOVSHARE_NEW_PASSWORD")
    return subprocess.run(
        command("cli", *args),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **{k: v for k, v in os.environ.items() if k not in names},
            "PYTHONIOENCODING": "utf-8",
            **env,
        },
    )


def test_without_a_terminal_a_command_says_what_to_set(township: Path) -> None:
    ran = _unattended("info", "--db", str(township))
    assert ran.returncode != 0
    assert "Traceback" not in ran.stderr and "EOFError" not in ran.stderr
    assert "错误：未读到用户名" in ran.stderr
    assert "GOVSHARE_USER、GOVSHARE_PASSWORD" in ran.stderr
    assert ran.stdout == ""  # no prompt written where a script reads the output

    no_password = _unattended("info", "--db", str(township), GOVSHARE_USER="clerk")
    assert no_password.returncode != 0 and "Traceback" not in no_password.stderr
    assert "未读到密码" in no_password.stderr and "GOVSHARE_PASSWORD" in no_password.stderr
    assert "GOVSHARE_USER" not in no_password.stderr  # it is set


def test_without_a_terminal_a_new_password_is_asked_of_the_environment(township: Path) -> None:
    ran = _unattended(
        "passwd", "--db", str(township), GOVSHARE_USER="clerk", GOVSHARE_PASSWORD=CLERK_PASSWORD
    )
    assert ran.returncode != 0 and "Traceback" not in ran.stderr
    assert "未读到新密码" in ran.stderr and "GOVSHARE_NEW_PASSWORD" in ran.stderr


def test_a_script_may_pipe_the_user_and_password(township: Path) -> None:
    ran = _unattended("info", "--db", str(township), stdin=f"clerk\n{CLERK_PASSWORD}\n")
    assert ran.returncode == 0, ran.stderr
    assert "青禾镇（441900199000）" in ran.stdout


# ---------------------------------------------------------------- no English logger lines


def test_a_fresh_database_is_migrated_quietly(tmp_path: Path) -> None:
    made = govshare("demo", "--households", "5", db=tmp_path / "fresh.db")
    assert made.returncode == 0, made.stderr
    assert "INFO" not in made.stderr and "alembic" not in made.stderr
    assert all(CJK.search(line) for line in made.stderr.splitlines() if line.strip())


def test_the_window_migrates_quietly_too(tmp_path: Path) -> None:
    """The window logs INFO to its file; the terminal gets warnings and errors only."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "GOVSHARE_ADMIN_PASSWORD": "Guanli#2026zh",
        "GOVSHARE_CLERK_PASSWORD": "Qingshui#2026zh",
        "GOVSHARE_USER": "jingban",
        "GOVSHARE_PASSWORD": "Qingshui#2026zh",
    }
    argv = ["--db", str(tmp_path / "w.db"), "--demo", "--demo-households", "5", "--quit-after-load"]
    started = subprocess.run(
        command("window", *argv), capture_output=True, text=True, env=env, timeout=120
    )
    assert started.returncode == 0, started.stderr
    assert "INFO" not in started.stderr and "alembic" not in started.stderr
    logs = list((tmp_path / "state").rglob("govshare-desktop.log"))
    assert logs and "alembic" in logs[0].read_text(encoding="utf-8")  # kept in the log file
