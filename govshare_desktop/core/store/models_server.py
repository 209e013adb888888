"""What a database on a server holds that a SQLite file keeps beside itself (office mode, issue 18).
Re-exported by :mod:`govshare_desktop.core.store.models`.
"""

from __future__ import annotations

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from govshare_desktop.core.store.models_base import Base


class KeyVault(Base):
    """The accounts' keys on a server: what the key file beside a SQLite database holds
    (:mod:`govshare_desktop.core.security.vault` — each user's Argon2id hash and the database key
    wrapped under their password, the recovery wrap, failed sign-ins), as one row, since no file
    is beside a server for every PC to reach. Empty in a SQLite database.

    ``version`` makes each write a compare-and-set: a PC that read an older row is refused and
    reads again; it never overwrites another PC's change unseen."""

    __tablename__ = "key_vault"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)  # the key file's JSON
    version: Mapped[int] = mapped_column(Integer)
