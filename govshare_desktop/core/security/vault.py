"""The key file beside the database (``govshare.db.keys``): who may open it, and how. On a server
(office mode) the same keys are one row of the database (:class:`~govshare_desktop.core.security.
server_keys.ServerKeys`): where they are kept is a :class:`KeyPlace`.

The database is encrypted with a random 256-bit key (the DEK). The DEK is stored only wrapped —
AES-256-GCM under a key derived from each user's password with Argon2id — and once more under an
administrator recovery secret printed at setup. Changing a password re-wraps the DEK; the database
is never re-encrypted. Each user's entry also holds an Argon2id password hash (PHC string) that is
checked first and upgraded when the parameters change.

Failed sign-ins are counted here, per typed user name whether or not the account exists (so a
lockout says nothing about which names exist): five failures lock the name for fifteen minutes.
A typed name is never written here: failures are counted under a keyed, slow hash of it
(:func:`crypto.name_tag` under the file's own random key — an ID number typed as the name cannot
be read back, nor found by trying every ID number quickly), and a failure waiting for the audit
trail names the account only when it exists (the accounts are listed here anyway). Files of
earlier versions, which held the typed names, are rewritten when loaded.

Each user's entry keeps the hashes of their last :data:`HISTORY` passwords: none may be reused.

All cryptography goes through :mod:`govshare_desktop.core.security.crypto` so that a national
(SM3/SM4) provider can replace it.

On a server several PCs read and write the keys. Each write is a compare-and-set
(:class:`KeysChanged` when another PC wrote since this one read); what a sign-in writes — a
failure counted, failures queued for the audit trail or taken from it, a lock cleared, a hash
upgraded — is then applied again to what is there (:meth:`Vault.commit`), so none of it is lost
and no failed attempt goes uncounted.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security import crypto
from govshare_desktop.core.security.passwords import check_password_policy as check

KEY_FILE_SUFFIX = ".keys"
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
FORMAT = "govshare-keys/1"
HISTORY = 5  # earlier passwords that may not be used again
UNKNOWN_NAME = "（未知用户名）"  # who a failed sign-in under a name that is no account was


class LoginFailed(UserError):
    """Wrong user name or password — the message never says which."""


class AccountLocked(UserError):
    """Too many failures for this name: wait."""


class KeysChanged(UserError):
    """Another PC changed the keys on the server since they were read here."""

    def __init__(self) -> None:
        super().__init__("账户信息刚被另一台电脑修改，本次修改没有保存，请重试")


class KeyPlace(Protocol):
    """Where a database's keys are kept: the key file beside it, or a row on the server."""

    def read(self) -> str | None:
        """The keys' JSON text; None when there are none."""

    def write(self, text: str) -> None:
        """Replace them, all or nothing; :class:`KeysChanged` if another writer came first."""

    @property
    def missing(self) -> str:
        """What to say when there are none."""


@dataclass
class KeyFile:
    """The key file beside a SQLite database, replaced atomically (a crash leaves the old file or
    the new one, never half of one)."""

    path: Path

    def read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UserError(f"密钥文件 {self.path} 无法读取：{exc.strerror or exc}") from None

    def write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, self.path)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            raise UserError(f"无法写入密钥文件 {self.path}：{exc.strerror or exc}") from None

    @property
    def missing(self) -> str:
        return f"找不到数据库的密钥文件 {self.path}。没有它无法打开加密的数据库；请从备份中恢复该文件。"

    def __str__(self) -> str:
        return f"密钥文件 {self.path}"


def _place(where: Path | KeyPlace) -> KeyPlace:
    """A database file's key file, or ``where`` itself."""
    return KeyFile(key_file_for(where)) if isinstance(where, Path) else where


def key_file_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + KEY_FILE_SUFFIX)


def check_password_policy(password: str, username: str = "") -> None:
    """See :func:`govshare_desktop.core.security.passwords.check_password_policy`."""
    check(password, username)


def new_recovery_secret() -> str:
    """24 random base32 characters in groups of four, to print and keep in the safe."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


@dataclass
class UserKey:
    phc: str  # Argon2id password hash
    wrapped: crypto.Wrapped
    must_change: bool = True
    changed_at: str = ""
    history: list[str] = field(default_factory=list)  # hashes of earlier passwords, newest first

    def to_json(self) -> dict[str, Any]:
        return {
            "phc": self.phc,
            "wrapped": self.wrapped.to_json(),
            "must_change": self.must_change,
            "changed_at": self.changed_at,
            "history": self.history,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserKey:
        return cls(
            data["phc"],
            crypto.Wrapped.from_json(data["wrapped"]),
            bool(data.get("must_change", True)),
            str(data.get("changed_at", "")),
            [str(h) for h in data.get("history", [])][:HISTORY],
        )

    def used_before(self, password: str) -> bool:
        """The password is the current one or one of the last :data:`HISTORY`."""
        return any(crypto.verify_password(phc, password) for phc in [self.phc, *self.history])


@dataclass
class Vault:
    place: KeyPlace
    # "sqlcipher" | "none" (plain SQLite where SQLCipher is not available) | "server" (PostgreSQL)
    cipher: str
    users: dict[str, UserKey] = field(default_factory=dict)
    recovery: crypto.Wrapped | None = None
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Failed sign-ins not yet in the audit trail (it is inside the database, which a failed
    # sign-in cannot open): written there by the next successful sign-in.
    events: list[dict[str, Any]] = field(default_factory=list)
    # The key of the typed names' hashes (random, per key file).
    name_key: bytes = field(default_factory=lambda: os.urandom(16), repr=False)
    _tags: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    # ---------------------------------------------------------------- file

    @classmethod
    def exists(cls, db_path: Path) -> bool:
        return key_file_for(db_path).is_file()

    @classmethod
    def load(cls, where: Path | KeyPlace) -> Vault:
        """The keys of the database file ``where`` (its key file), or those kept at ``where``."""
        place = _place(where)
        text = place.read()
        if text is None:
            raise UserError(place.missing)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UserError(f"{place} 已损坏：{exc}") from None
        if data.get("format") != FORMAT:
            raise UserError(f"{place} 的格式不认识（{data.get('format')}）")
        vault = cls(
            place=place,
            cipher=data["cipher"],
            users={name: UserKey.from_json(u) for name, u in data["users"].items()},
            recovery=crypto.Wrapped.from_json(data["recovery"]) if data.get("recovery") else None,
            failures=data.get("failures", {}),
            events=data.get("events", []),
        )
        if data.get("name_key"):
            vault.name_key = _unb64(data["name_key"])
        if vault._forget_typed_names(datetime.now()) or not data.get("name_key"):
            with contextlib.suppress(UserError):  # read-only: rewritten at the next save
                vault.save()
        return vault

    def _forget_typed_names(self, now: datetime) -> bool:
        """Rewrite what an earlier version kept of typed names: the names in waiting failures
        (kept only when they are accounts), and unkeyed hashes counting failures (kept, to move
        under the keyed one when the name is typed again, only while they lock).
        True if anything changed."""
        changed = False
        for event in self.events:
            name = event.pop("name", None)
            if name is not None:
                changed = True
                event["user"] = name if name in self.users else None
                event["tag"] = self._tag(name)[:16]
        for key in [k for k in self.failures if not k.startswith(_TAG_PREFIX)]:
            until = self.failures[key].get("locked_until")
            if not (until and datetime.fromisoformat(until) > now):
                del self.failures[key]
                changed = True
        return changed

    def _tag(self, username: str) -> str:
        """The keyed hash a typed name is counted under (the same for the same name)."""
        name = username.strip().lower()
        if name not in self._tags:
            self._tags[name] = _TAG_PREFIX + crypto.name_tag(self.name_key, name)
        return self._tags[name]

    def _failure_key(self, username: str) -> str:
        """The key of ``username``'s failures; a count kept by an earlier version under an
        unkeyed hash moves under the keyed one."""
        tag = self._tag(username)
        legacy = _legacy_name_key(username)
        if tag not in self.failures and legacy in self.failures:
            self.failures[tag] = self.failures.pop(legacy)
        return tag

    def save(self) -> None:
        """All or nothing (:meth:`KeyPlace.write`); :class:`KeysChanged` on a server where another
        PC wrote since these keys were read."""
        data = {
            "format": FORMAT,
            "cipher": self.cipher,
            "users": {name: u.to_json() for name, u in sorted(self.users.items())},
            "recovery": self.recovery.to_json() if self.recovery else None,
            "failures": self.failures,
            "events": self.events,
            "name_key": _b64(self.name_key),
        }
        self.place.write(json.dumps(data, ensure_ascii=False, indent=1))

    def commit(self, change: Callable[[Vault], None], *, tries: int = 5) -> None:
        """Apply ``change`` and save. Where another PC wrote the keys since they were read (a
        server), read them again and apply ``change`` to what is there instead."""
        change(self)
        for _ in range(tries):
            try:
                self.save()
                return
            except KeysChanged:
                fresh = Vault.load(self.place)
                change(fresh)
                self.users, self.recovery = fresh.users, fresh.recovery
                self.failures, self.events = fresh.failures, fresh.events
                self.name_key, self._tags = fresh.name_key, fresh._tags
        raise KeysChanged()

    @classmethod
    def create(
        cls, where: Path | KeyPlace, cipher: str, recovery_secret: str
    ) -> tuple[Vault, bytes]:
        """A new vault and the new database key (only for a database that does not exist yet,
        or one being encrypted)."""
        dek = crypto.random_key()
        vault = cls(_place(where), cipher)
        vault.recovery = crypto.wrap(dek, _normalise_secret(recovery_secret))
        return vault, dek

    # ---------------------------------------------------------------- users

    def add_user(self, username: str, password: str, dek: bytes, *, must_change: bool) -> None:
        if username in self.users:
            raise UserError(f"用户“{username}”已存在")
        self._set(username, password, dek, must_change)

    def remove_user(self, username: str) -> None:
        self.users.pop(username, None)

    def _set(self, username: str, password: str, dek: bytes, must_change: bool) -> None:
        earlier = self.users.get(username)
        history = [earlier.phc, *earlier.history][:HISTORY] if earlier else []
        self.users[username] = UserKey(
            phc=crypto.hash_password(password),
            wrapped=crypto.wrap(dek, password),
            must_change=must_change,
            changed_at=datetime.now().isoformat(timespec="seconds"),
            history=history,
        )

    def unlock(self, username: str, password: str, now: datetime) -> bytes:
        """The database key for a correct password; LoginFailed or AccountLocked otherwise."""
        failure = self.failures.get(self._failure_key(username), {})
        locked_until = failure.get("locked_until")
        if locked_until and datetime.fromisoformat(locked_until) > now:
            minutes = max(
                1, int((datetime.fromisoformat(locked_until) - now).total_seconds() // 60)
            )
            raise AccountLocked(f"连续登录失败次数过多，已锁定，请 {minutes} 分钟后再试")
        entry = self.users.get(username)
        if entry is None or not crypto.verify_password(entry.phc, password):
            if entry is None:
                crypto.dummy_verify(password)  # the same time as a real check
            self._failed(username, now)
            raise LoginFailed("用户名或密码错误")
        try:
            dek = crypto.unwrap(entry.wrapped, password)
        except crypto.CryptoError:
            self._failed(username, now)
            raise LoginFailed("用户名或密码错误") from None
        key = self._failure_key(username)
        phc = crypto.hash_password(password) if crypto.needs_rehash(entry.phc) else None
        if key in self.failures or phc is not None:

            def succeeded(vault: Vault) -> None:
                vault.failures.pop(key, None)
                if phc is not None and username in vault.users:
                    vault.users[username].phc = phc

            self.commit(succeeded)
        return dek

    def _failed(self, username: str, now: datetime) -> None:
        key = self._failure_key(username)

        def counted(vault: Vault) -> None:
            failure = vault.failures.setdefault(key, {"count": 0})
            failure["count"] = int(failure.get("count", 0)) + 1
            if failure["count"] >= MAX_FAILURES:
                failure["locked_until"] = (now + LOCK_TIME).isoformat(timespec="seconds")
                failure["count"] = 0

        self.commit(counted)

    def note_failure(self, username: str, now: datetime) -> None:
        event = {
            "at": now.isoformat(timespec="seconds"),
            "user": username if username in self.users else None,
            "tag": self._tag(username)[:16],
            "reason": "locked" if self.is_locked(username, now) else "wrong name or password",
        }

        def queued(vault: Vault) -> None:
            vault.events = [*vault.events, event][-1000:]

        self.commit(queued)

    def take_failures(self) -> list[dict[str, Any]]:
        """The failed sign-ins waiting for the audit trail: ``at``, ``reason``, ``user`` (the
        account, or None for a name that is no account) and ``tag`` (a keyed hash of the
        typed name, so that repeated tries of one unknown name can be told apart). They stay
        queued until :meth:`forget_failures` (once they are in the trail)."""
        return list(self.events)

    def forget_failures(self, taken: list[dict[str, Any]]) -> None:
        """Failures written to the audit trail leave the queue (others queued since stay)."""

        def forgotten(vault: Vault) -> None:
            vault.events = [event for event in vault.events if event not in taken]

        if taken:
            self.commit(forgotten)

    def is_locked(self, username: str, now: datetime) -> bool:
        until = self.failures.get(self._failure_key(username), {}).get("locked_until")
        return bool(until and datetime.fromisoformat(until) > now)

    def clear_lock(self, username: str) -> None:
        key = self._failure_key(username)

        def cleared(vault: Vault) -> None:
            vault.failures.pop(key, None)

        if key in self.failures:
            self.commit(cleared)

    def change_password(self, username: str, old: str, new: str, now: datetime) -> None:
        dek = self.unlock(username, old, now)
        check_password_policy(new, username)
        if old == new:
            raise UserError("新密码不能与旧密码相同")
        if self.users[username].used_before(new):
            raise UserError(f"新密码不能与最近 {HISTORY} 次用过的密码相同")
        self._set(username, new, dek, must_change=False)
        self.save()

    def reset_password(self, username: str, new: str, dek: bytes) -> None:
        """An administrator sets a new password; the user must change it at next sign-in."""
        if username not in self.users:
            raise UserError(f"没有用户“{username}”")
        self._set(username, new, dek, must_change=True)
        self.save()

    def recover(self, secret: str) -> bytes:
        if self.recovery is None:
            raise UserError("此数据库没有恢复密钥")
        try:
            return crypto.unwrap(self.recovery, _normalise_secret(secret))
        except crypto.CryptoError:
            raise LoginFailed("恢复密钥不正确") from None


def _normalise_secret(secret: str) -> str:
    return re.sub(r"[\s-]", "", secret).upper()


_TAG_PREFIX = "k1:"


def _legacy_name_key(username: str) -> str:
    """How earlier versions counted failures: an unkeyed hash (read only, to migrate)."""
    return hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:32]
