"""Server dumps sealed as pg_dump writes them (office mode): the dump of every resident of the
township never lies on the PC's disk in the clear.

``pg_dump`` writes to a pipe; each block is sealed (:mod:`~govshare_desktop.core.security.
sealed_file`) under a key derived from the township's database key — the key every account of
the township unwraps at sign-in, so any 系统管理员 of the township can restore it, and nobody
else can read it. A restore opens the dump into a private temporary folder (0700, the file 0600)
for pg_restore's time only, and removes it after, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, check
from govshare_desktop.core.security.crypto import subkey
from govshare_desktop.core.security.sealed_file import (
    CHUNK,
    SealedFileError,
    SealingWriter,
    unseal_file,
)
from govshare_desktop.core.store.backup_io import CANCELLED
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.server_backup import DumpFailed

PURPOSE = "govshare-server-dump/1"
SEALING = "aes-256-gcm-stream/1"  # the manifest's "sealed": how the dump is sealed


class TownshipSealing:
    """:class:`~govshare_desktop.core.store.dump_sealing.DumpSealing` under the township's key
    (derived from the database key of ``store``)."""

    name = SEALING

    def __init__(self, store: Store) -> None:
        if not store.secret:
            raise ValueError("sealing needs the database key: a signed-in store")
        self._key = subkey(store.secret, PURPOSE)

    def dump(
        self, argv: Sequence[str], env: dict[str, str] | None, target: Path, cancel: Cancel | None
    ) -> None:
        """Run pg_dump (``argv`` writes the archive to standard output) and seal what it writes
        into ``target``. Raises :class:`DumpFailed`, :class:`~govshare_desktop.core.progress.
        Cancelled` (the tool is stopped) or the ``OSError`` of writing ``target`` (a full
        disk)."""
        check(cancel, CANCELLED)
        with tempfile.TemporaryFile() as errors, target.open("wb") as out:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
            writer = SealingWriter(out, self._key)
            failed: list[BaseException] = []

            def pump() -> None:
                assert process.stdout is not None
                try:
                    while block := process.stdout.read(CHUNK):
                        writer.write(block)
                except BaseException as exc:  # a full disk: stop the tool, say it below
                    failed.append(exc)
                    process.kill()

            reader = threading.Thread(target=pump, name="pg_dump-sealer", daemon=True)
            reader.start()
            while reader.is_alive():
                reader.join(0.2)
                if cancel is not None and cancel.cancelled and process.poll() is None:
                    process.kill()
            process.wait()
            check(cancel, CANCELLED)
            if failed:
                raise failed[0]
            if process.returncode != 0:
                errors.seek(0)
                said = errors.read().decode("utf-8", "replace")
                lines = [line for line in said.strip().splitlines() if line.strip()]
                raise DumpFailed("\n".join(lines[-5:]) or f"退出码 {process.returncode}")
            writer.close()

    @contextlib.contextmanager
    def opened(self, path: Path, manifest: dict[str, Any]) -> Iterator[Path]:
        """The sealed dump's plaintext in a private temporary folder, removed when the block
        ends."""
        with tempfile.TemporaryDirectory(prefix="govshare-dump-") as work:  # 0700
            plain = Path(work) / path.name
            self.write_opened(path, manifest, plain)
            yield plain

    def write_opened(self, path: Path, manifest: dict[str, Any], target: Path) -> None:
        """The plaintext of the sealed dump ``path`` into the new file ``target`` (0600;
        refused if it exists). On any failure no ``target`` is left."""
        if manifest.get("sealed") != SEALING:
            raise UserError(f"本程序无法打开这份加密的备份（{manifest.get('sealed')}）：{path}")
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise UserError(f"文件已存在，不会覆盖：{target}") from None
        try:
            with os.fdopen(descriptor, "wb") as out:
                unseal_file(path, out, self._key)
        except SealedFileError:
            target.unlink(missing_ok=True)
            raise UserError(
                f"无法解开这份备份：它不是用本乡镇（街道）的密钥加密的，或已损坏，不能恢复：{path}"
            ) from None
        except BaseException:
            target.unlink(missing_ok=True)
            raise
