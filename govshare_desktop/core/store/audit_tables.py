"""The audit tables in copies of the database: no backup holds the trail's writer key, and a
restore carries the live trail over.

Plain SQL over tables the store defines (``audit_log``, ``audit_state``), on DB-API connections to
the files :mod:`govshare_desktop.core.store.backup` writes and reads. Signing and verifying the
trail are :mod:`govshare_desktop.core.security.audit`'s, above the store: these two steps need
neither, so every backup and restore takes them without the store knowing anything of security.
"""

from __future__ import annotations

from typing import Any

STATE_ID = 1
"""The one row of ``audit_state``: the writer key of the next entry."""


def _has(connection: Any, table: str, column: str | None = None) -> bool:
    rows = connection.execute(f"PRAGMA table_info({table})").fetchall()
    return bool(rows) and (column is None or any(row[1] == column for row in rows))


def seal_copy(connection: Any, reason: str = "backup") -> None:
    """Remove the writer key from a copy of the database (a DB-API connection to a backup being
    made): whoever reads a backup later cannot re-sign what was written after it. The freed
    bytes are overwritten and the change never touches a journal file."""
    if not _has(connection, "audit_state"):
        return
    connection.execute("PRAGMA secure_delete = ON")
    connection.execute("PRAGMA journal_mode = MEMORY")
    connection.execute(
        "UPDATE audit_state SET private_key = NULL, sealed = ? WHERE private_key IS NOT NULL",
        (reason,),
    )
    connection.commit()


def carry_over(live: Any, restored: Any) -> int:
    """Copy into ``restored`` (a backup about to replace the database) the entries the live
    database has beyond the backup's head, and the live writer key — if the backup's trail is
    the beginning of the live one. Returns how many entries were carried (0: none could be)."""
    if not (_has(restored, "audit_log", "seal") and _has(restored, "audit_state")):
        return 0
    if not (_has(live, "audit_log", "seal") and _has(live, "audit_state")):
        return 0
    head = restored.execute("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    after = 0
    if head is not None:
        same = live.execute("SELECT mac FROM audit_log WHERE seq = ?", (head[0],)).fetchone()
        if same is None or same[0] != head[1]:
            return 0
        after = int(head[0])
    columns = "seq, at, username, role, action, object, outcome, detail, mac, seal"
    rows = live.execute(
        f"SELECT {columns} FROM audit_log WHERE seq > ? ORDER BY seq", (after,)
    ).fetchall()
    state = live.execute(
        "SELECT id, seq, public_key, private_key, sealed FROM audit_state WHERE id = ?",
        (STATE_ID,),
    ).fetchone()
    if state is None:
        return 0
    restored.executemany(
        f"INSERT INTO audit_log ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
    )
    restored.execute(
        "INSERT INTO audit_state (id, seq, public_key, private_key, sealed) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, public_key = excluded.public_key,"
        " private_key = excluded.private_key, sealed = excluded.sealed",
        tuple(state),
    )
    restored.commit()
    return len(rows)
