"""Files and folders that hold personal data or keys are private to their owner: 0600 files and
0700 folders on POSIX. (On Windows ``chmod`` only clears read-only; there files inherit the access
list of the user's profile folder.) Also the two other things every writer of such files needs:
a durable rename (``fsync_dir``) and the file's SHA-256 for the audit trail (``file_sha256``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path


def make_private(path: Path) -> None:
    """Readable and writable by its owner only (0600; a folder 0700)."""
    os.chmod(path, 0o700 if path.is_dir() else 0o600)


def private_dir(path: Path) -> Path:
    """``path`` as a folder (created if needed, parents included) that only its owner can enter."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder of someone else's (a chosen --out) stays as it is
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o700)
    return path


def private_copy(source: Path, target: Path) -> None:
    """Copy ``source`` into a new file ``target`` that is private from its creation, fsynced."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
    make_private(target)  # an existing file keeps its mode through O_TRUNC


def private_write(target: Path, data: bytes) -> None:
    """Write ``data`` into a new file ``target``, private from its creation, fsynced."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    make_private(target)


def fsync_dir(directory: Path) -> None:
    """Make renames in ``directory`` durable (POSIX; NTFS journals them)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
