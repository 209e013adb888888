"""Senders whose packages this township accepts: their Ed25519 public keys, registered at
installation by the administrator (``govshare trust add``) — never taken from a package."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import load_public_key, public_key_fingerprint
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import TrustedSender


def trust_sender(
    session: Session, pem: bytes, *, code: str, name: str, user: str, now: datetime
) -> TrustedSender:
    """Register (or replace) a sender's Ed25519 public key."""
    if len(code) != 12 or not code.isdigit():
        raise UserError(f"发送方代码“{code}”应为12位统计用区划代码")
    load_public_key(pem)  # a UserError with a clear message if it is not an Ed25519 public key
    sender = session.get(TrustedSender, code) or TrustedSender(code=code)
    sender.name = name
    sender.public_key_pem = pem.decode("ascii")
    sender.fingerprint = public_key_fingerprint(pem)
    sender.added_by = user
    sender.added_at = now
    session.add(sender)
    return sender


def trusted_keys(session: Session) -> dict[str, bytes]:
    return {
        s.code: s.public_key_pem.encode("ascii") for s in session.scalars(select(TrustedSender))
    }


def register_sender(
    store: Store, pem: bytes, *, code: str, name: str, now: datetime
) -> TrustedSender:
    """Trust a sender's key as the signed-in 系统管理员: checked and audited."""
    store.principal.require(Action.TRUST_SENDERS)
    with store.transaction() as session:
        sender = trust_sender(
            session, pem, code=code, name=name, user=store.principal.username, now=now
        )
        audit_trail(store).record(
            session,
            store.principal,
            "trust",
            code,
            detail={"name": name, "fingerprint": sender.fingerprint},
            now=now,
        )
    return sender
