"""Writing audit entries: one entry signed with the writer key, which is replaced in the same
transaction, and the raw append used by migrations and tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, text

from govshare_desktop.core.security import crypto
from govshare_desktop.core.security.audit_format import GENESIS, OK, _digest, _seal, canonical
from govshare_desktop.core.store.audit_tables import STATE_ID


@dataclass(frozen=True)
class _Written:
    mac: str
    seal: str
    next_seq: int
    next_public: str
    next_private: str


def _write(
    seq: int,
    previous: str,
    last_seal: str | None,
    has_last: bool,
    state: tuple[int, str, str | None] | None,
    body: bytes,
    upgrade: bool = False,
) -> _Written:
    """Sign entry ``seq`` with the writer key in ``state`` (seq, public, private), or with a
    fresh key (a restart) where that key is not the one the last entry names. ``upgrade``: the
    migration's entry that follows the format-1 entries."""
    private, restart = _writer_key(seq, last_seal, has_last, state, upgrade)
    next_private, next_public = crypto.new_signing_key()
    mac = _digest(previous, body, next_public.hex(), restart)
    seal: dict[str, str] = {
        "next": next_public.hex(),
        "sig": crypto.sign(private, bytes.fromhex(mac)).hex(),
    }
    if restart:
        seal.update(restart)
    return _Written(
        mac,
        json.dumps(seal, sort_keys=True, separators=(",", ":")),
        seq + 1,
        next_public.hex(),
        next_private.hex(),
    )


def _writer_key(
    seq: int,
    last_seal: str | None,
    has_last: bool,
    state: tuple[int, str, str | None] | None,
    upgrade: bool = False,
) -> tuple[bytes, dict[str, str] | None]:
    why, was = None, None
    if not has_last:
        why = "setup" if state is None else "emptied"
    elif last_seal is None:
        why = "upgrade" if upgrade else "format1"
    elif state is None:
        why = "missing"
    else:
        state_seq, public, private = state
        named = (_seal(last_seal) or {}).get("next")
        if private is None:
            why = "backup"
        elif state_seq != seq or public != named or not _pair(private, public):
            why = "mismatch"
        else:
            return bytes.fromhex(private), None
    if state is not None and state[0] > seq:
        was = str(state[0])  # the writer key was for a later entry: the tail was cut
    private_key, public_key = crypto.new_signing_key()
    restart = {"key": public_key.hex(), "why": str(why)}
    if was:
        restart["was"] = was
    return private_key, restart


def _pair(private: str, public: str) -> bool:
    try:
        return crypto.signing_public(bytes.fromhex(private)).hex() == public
    except ValueError:
        return False


# ---------------------------------------------------------------- copies of the database


def append_raw(
    connection: Connection,
    username: str,
    role: str,
    action: str,
    obj: str = "",
    *,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Append an entry through a Core connection (the migration that brings format 2)."""
    log = sa.table(
        "audit_log",
        *(sa.column(n) for n in ("seq", "username", "role", "action", "object")),
        *(sa.column(n) for n in ("outcome", "detail", "mac", "seal")),
        sa.column("at", sa.DateTime()),
    )
    last = connection.execute(
        text("SELECT seq, mac, seal FROM audit_log ORDER BY seq DESC LIMIT 1")
    ).first()
    state_row = connection.execute(
        text("SELECT seq, public_key, private_key FROM audit_state WHERE id = :i"), {"i": STATE_ID}
    ).first()
    seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = now or datetime.now()
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    written = _write(
        seq,
        previous,
        last[2] if last else None,
        last is not None,
        (state_row[0], state_row[1], state_row[2]) if state_row else None,
        canonical(seq, at, username, role, action, obj, OK, body),
        upgrade=action == "upgrade",
    )
    connection.execute(
        sa.insert(log).values(
            seq=seq,
            at=at,
            username=username,
            role=role,
            action=action,
            object=obj,
            outcome=OK,
            detail=body,
            mac=written.mac,
            seal=written.seal,
        )
    )
    connection.execute(
        text(
            "INSERT INTO audit_state (id, seq, public_key, private_key, sealed)"
            " VALUES (:i, :s, :pub, :priv, NULL) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq,"
            " public_key = excluded.public_key, private_key = excluded.private_key, sealed = NULL"
        ),
        {
            "i": STATE_ID,
            "s": written.next_seq,
            "pub": written.next_public,
            "priv": written.next_private,
        },
    )
