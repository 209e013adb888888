"""The township's own Ed25519 key: it signs every package the township sends up.

Made at setup (and, for a database set up by an earlier version, the first time it is needed). The
private half never touches the disk in the clear: it is sealed with AES-256-GCM under a key derived
from the database key (HKDF, purpose :data:`PURPOSE`) and kept inside the (SQLCipher-encrypted)
database, so a backup holds it only encrypted, twice. It is unsealed in memory for one signature.

The public half goes to the county as a PEM file with its fingerprint (SHA-256 of the raw 32-byte key,
as ``govshare trust list`` shows the county's). Rotating makes a new key and retires the old one: the
retired key's private half is erased, its public half kept, so that every package it signed stays
verifiable (the outbox names the key each package was signed with).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import public_key_fingerprint
from govshare_desktop.core.security import crypto
from govshare_desktop.core.store.models import TownshipKey

PURPOSE = "govshare township signing key v1"


@dataclass(frozen=True)
class PublicKey:
    """What may be shown and handed out: the PEM, its fingerprint and since when it is used."""

    pem: bytes
    fingerprint: str
    created_at: datetime
    created_by: str
    retired_at: datetime | None = None

    @property
    def grouped_fingerprint(self) -> str:
        """The fingerprint in groups of four, to read aloud over the phone."""
        return " ".join(self.fingerprint[i : i + 4] for i in range(0, len(self.fingerprint), 4))


def _public(row: TownshipKey) -> PublicKey:
    return PublicKey(
        row.public_key_pem.encode("ascii"),
        row.fingerprint,
        row.created_at,
        row.created_by,
        row.retired_at,
    )


def current_key(session: Session) -> TownshipKey | None:
    return session.scalar(
        select(TownshipKey).where(TownshipKey.retired_at.is_(None)).order_by(TownshipKey.id.desc())
    )


def make_key(session: Session, secret: bytes, *, user: str, now: datetime) -> TownshipKey:
    """A new key pair, its private half sealed under the database key."""
    private, public = crypto.new_signing_key()
    pem = crypto.signing_public_pem(public)
    fingerprint = public_key_fingerprint(pem)
    sealed = crypto.seal(crypto.subkey(secret, PURPOSE), private, fingerprint.encode("ascii"))
    row = TownshipKey(
        fingerprint=fingerprint,
        public_key_pem=pem.decode("ascii"),
        private_wrapped=json.dumps(sealed),
        created_by=user,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def ensure_key(session: Session, secret: bytes, *, user: str, now: datetime) -> TownshipKey:
    """The key in use, made now if the township has none yet."""
    return current_key(session) or make_key(session, secret, user=user, now=now)


def rotate_key(
    session: Session, secret: bytes, *, user: str, now: datetime
) -> tuple[TownshipKey | None, TownshipKey]:
    """Retire the key in use (its private half erased) and make a new one: (old, new)."""
    old = current_key(session)
    if old is not None:
        old.private_wrapped, old.retired_at, old.retired_by = None, now, user
        session.flush()
    return old, make_key(session, secret, user=user, now=now)


def signing_pem(row: TownshipKey, secret: bytes) -> bytes:
    """The private half as PEM, unsealed in memory for one signature."""
    if row.private_wrapped is None:
        raise UserError("本单位的签名密钥已停用，不能再用于签名")
    try:
        private = crypto.unseal(
            crypto.subkey(secret, PURPOSE),
            json.loads(row.private_wrapped),
            row.fingerprint.encode("ascii"),
        )
    except crypto.CryptoError as exc:
        raise UserError(
            "本单位签名密钥无法解开：它不是用本数据库的密钥保存的（数据库文件与密钥文件不配套？）"
        ) from exc
    return crypto.signing_private_pem(private)


def public_keys(session: Session) -> list[PublicKey]:
    """Every key the township has used, newest first (the first is the one in use, if any)."""
    rows = session.scalars(select(TownshipKey).order_by(TownshipKey.id.desc()))
    return [_public(row) for row in rows]


def public_key(row: TownshipKey) -> PublicKey:
    return _public(row)
