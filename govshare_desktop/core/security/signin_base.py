"""What signing in is on a file and on a server alike: the result (:class:`SignedIn`), the
first administrator, generated passwords, where the keys are (:func:`vault_of`), and writing the
sign-in into the audit trail. :mod:`.signin` (files) and :mod:`.office` (servers) build on it;
callers import these names from :mod:`.signin`.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.security.server_keys import ServerKeys
from govshare_desktop.core.security.vault import (
    UNKNOWN_NAME,
    LoginFailed,
    Vault,
    check_password_policy,
)
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Account

ADMIN = "admin"


@dataclass
class Setup:
    store: Store  # signed in as the administrator
    admin_password: str | None  # generated: show it once; None when it was given
    recovery_secret: str  # print once, keep in the safe


@dataclass
class SignedIn:
    store: Store
    must_change_password: bool
    vault: Vault

    @property
    def principal(self) -> Principal:
        return self.store.principal


def generate_password() -> str:
    """12 characters that pass the policy (no look-alike characters)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(10))
        password = body[:5] + secrets.choice("@#%+") + secrets.choice(string.digits[2:]) + body[5:]
        try:
            check_password_policy(password)
            return password
        except UserError:
            continue


def vault_of(store: Store) -> Vault:
    """The keys of ``store``'s database: its key file, or its row on the server."""
    if store.path is not None:
        return Vault.load(store.path)
    if store.server:
        return Vault.load(ServerKeys(store))
    raise UserError("账户只支持数据库文件或数据库服务器")


def secret_of(store: Store) -> bytes:
    if store.secret is None:
        raise UserError("未登录")
    return store.secret


def signed_in(store: Store, vault: Vault, username: str, dek: bytes, now: datetime) -> SignedIn:
    """The key unlocked: the sign-in (and the failures before it) into the audit trail — or, for
    an account that may not sign in, the refusal. The caller disposes of ``store`` on error."""
    store, refusal = _record_sign_in(store, vault, username, dek, now)
    if refusal is not None:
        audit_trail(store).log(
            Principal(username, None),
            "login_failed",
            outcome="refused",
            detail={"reason": refusal},
            now=now,
        )
        raise LoginFailed(refusal)
    return SignedIn(store, vault.users[username].must_change, vault)


def add_first_admin(
    store: Store,
    vault: Vault,
    dek: bytes,
    admin_password: str | None,
    now: datetime,
    detail: dict[str, object],
) -> str:
    """The first 系统管理员: their key in ``vault`` (saved), their account and its audit entry in
    ``store``. Returns the password (generated where none was given: changed at first sign-in)."""
    password = admin_password or generate_password()
    vault.add_user(ADMIN, password, dek, must_change=admin_password is None)
    with store.transaction() as session:
        session.add(
            Account(
                username=ADMIN,
                display_name="系统管理员",
                role=Role.SYSADMIN.value,
                disabled=False,
                created_by="setup",
                created_at=now,
            )
        )
        audit_trail(store).record(
            session,
            store.principal,
            "user_add",
            ADMIN,
            detail={"role": Role.SYSADMIN.value, **detail},
            now=now,
        )
    vault.save()
    return password


def _record_sign_in(
    store: Store, vault: Vault, username: str, dek: bytes, now: datetime
) -> tuple[Store, str | None]:
    """Earlier failed attempts and this sign-in into the audit trail; the account's role, or why
    the account may not sign in. The failures written leave the key file's queue."""
    store = store.acting(Principal(username, None), dek)
    audit = audit_trail(store)
    taken = vault.take_failures()
    with store.transaction() as session:
        for event in taken:
            audit.record(
                session,
                Principal(event.get("user") or UNKNOWN_NAME, None),
                "login_failed",
                outcome="refused",
                detail={"reason": event["reason"], "name_tag": event.get("tag")},
                now=datetime.fromisoformat(event["at"]),
            )
        account = session.get(Account, username)
        refusal = None
        if account is None:
            refusal = "账户不存在于数据库中"
        elif account.disabled:
            refusal = "账户已停用，请联系系统管理员"
        elif account.expires_at is not None and account.expires_at < now.date():
            refusal = f"账户已于 {account.expires_at} 过期，请联系系统管理员"
        if refusal is None and account is not None:
            store = store.acting(Principal(username, Role(account.role)), dek)
            audit.record(session, store.principal, "login", now=now)
    vault.forget_failures(taken)
    return store, refusal
