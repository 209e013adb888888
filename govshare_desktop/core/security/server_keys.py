"""The accounts' keys on a server (office mode): the key file's JSON as the one row of
``key_vault`` (:class:`~govshare_desktop.core.store.models_server.KeyVault`), read and written by
every PC, each write a compare-and-set on its ``version``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from govshare_desktop.core.security.vault import KeysChanged
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import KeyVault

ROW = 1


@dataclass
class ServerKeys:
    """A :class:`~govshare_desktop.core.security.vault.KeyPlace` in the database ``store`` opens.
    Each read and write is a transaction of its own (within a setup still being built, a
    savepoint of its transaction)."""

    store: Store
    version: int | None = field(default=None, compare=False)

    def read(self) -> str | None:
        with self.store.transaction() as session:
            row = session.get(KeyVault, ROW)
            self.version = row.version if row is not None else None
            return row.data if row is not None else None

    def write(self, text: str) -> None:
        try:
            with self.store.transaction() as session:
                if self.version is None:
                    session.add(KeyVault(id=ROW, data=text, version=1))
                    session.flush()
                    written = 1
                else:
                    written = (
                        session.connection()
                        .execute(
                            update(KeyVault)
                            .where(KeyVault.id == ROW, KeyVault.version == self.version)
                            .values(data=text, version=self.version + 1)
                        )
                        .rowcount
                    )
                if written != 1:
                    raise KeysChanged()
        except IntegrityError:  # another PC created the row first
            raise KeysChanged() from None
        self.version = (self.version or 0) + 1

    def exists(self) -> bool:
        with self.store.sessions() as session:
            return session.get(KeyVault, ROW) is not None

    @property
    def missing(self) -> str:
        return (
            f"数据库服务器 {self.store.where} 上还没有设置账户和密钥："
            "请系统管理员先运行 govshare server init --url 连接地址"
        )

    def __str__(self) -> str:
        return f"服务器 {self.store.where} 上的账户密钥"
