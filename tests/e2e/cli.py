"""Running ``govshare`` as scripts do: signed in through the environment (``GOVSHARE_USER``,
``GOVSHARE_PASSWORD``). A database made by ``init`` or ``demo`` gets its administrator from
``GOVSHARE_ADMIN_PASSWORD`` and, here, a 经办人 account ``clerk`` who has set their own password.

``govshare`` runs through the test launcher (:mod:`tests.e2e.launch`: the test suite's cheap
Argon2id profile); ``product=True`` runs the product as installed, for a test about the hashing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.launch import command

ADMIN_PASSWORD = "Guanli#2026e2e"
CLERK_PASSWORD = "Jingban#2026e2e"
FIRST_PASSWORD = "Start#2026e2e"
PASSWORDS = {"admin": ADMIN_PASSWORD, "clerk": CLERK_PASSWORD}


def govshare(
    *args: str,
    db: Path | str,
    user: str = "clerk",
    password: str | None = None,
    check: bool = False,
    env: dict[str, str] | None = None,
    timeout: int = 300,
    product: bool = False,
) -> subprocess.CompletedProcess[str]:
    argv = [*args, "--db", str(db)]
    result = subprocess.run(
        [sys.executable, "-m", "govshare_desktop.cli", *argv] if product else command("cli", *argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            **os.environ,
            "PYTHONIOENCODING": "utf-8",
            "GOVSHARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "GOVSHARE_USER": user,
            "GOVSHARE_PASSWORD": password or PASSWORDS.get(user, ""),
            **(env or {}),
        },
    )
    if check:
        assert result.returncode == 0, result.stderr
    if (
        args
        and args[0] in ("init", "demo")
        and result.returncode == 0
        and "恢复密钥" in result.stdout
    ):
        add_clerk(db, product=product)
    return result


def add_clerk(db: Path | str, *, product: bool = False) -> None:
    """The administrator adds the 经办人 ``clerk``, who then changes the first password."""
    govshare(
        "users",
        "add",
        "clerk",
        "--role",
        "clerk",
        db=db,
        user="admin",
        env={"GOVSHARE_NEW_PASSWORD": FIRST_PASSWORD},
        check=True,
        product=product,
    )
    govshare(
        "passwd",
        db=db,
        password=FIRST_PASSWORD,
        env={"GOVSHARE_NEW_PASSWORD": CLERK_PASSWORD},
        check=True,
        product=product,
    )


def provision(db: Path) -> None:
    """A plain demo database (the test session's template) made ready for the CLI: encrypted,
    with its administrator and the 经办人."""
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, user="admin", check=True)


def connect(db: Path):  # type: ignore[no-untyped-def]
    """A raw DB-API connection to the encrypted database (the key unwrapped with the
    administrator's password), for looking at the file the way SQLite sees it."""
    from datetime import datetime

    import sqlcipher3

    from govshare_desktop.core.security.vault import Vault

    key = Vault.load(db).unlock("admin", ADMIN_PASSWORD, datetime.now())
    connection = sqlcipher3.connect(str(db))
    connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return connection


def cli_env(user: str = "clerk") -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "GOVSHARE_USER": user,
        "GOVSHARE_PASSWORD": PASSWORDS[user],
    }
