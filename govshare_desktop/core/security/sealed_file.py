"""Files sealed under the township's key as they are written: a server dump (office mode) never
lies on a PC's disk in the clear.

The format (``GOVSHARE-SEALED/1``), streamed — memory stays flat whatever the size:

* a header: the magic line, a random 8-byte file id;
* chunks of at most :data:`CHUNK` bytes of plaintext, each ``length (4 bytes, big-endian) ||
  AES-256-GCM(ciphertext || tag)`` with the nonce ``file id || chunk number (4 bytes)`` and the
  header plus a last-chunk flag as associated data.

So every chunk is authenticated in its place: a chunk changed, moved, dropped or a tail cut off
(the last chunk carries the flag, and nothing may follow it) is refused, as is another key. The
key is :func:`~govshare_desktop.core.security.crypto.subkey` of the database key for the file's
purpose, so a key of one purpose opens nothing else.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from govshare_desktop.core.security.crypto import CryptoError, seal_chunk, unseal_chunk

MAGIC = b"GOVSHARE-SEALED/1\n"
CHUNK = 1 << 20  # plaintext bytes a chunk
_ID = 8
_LENGTH = struct.Struct(">I")
_TAG = 16


class SealedFileError(CryptoError):
    """Not a sealed file, sealed under another key, or damaged (changed, cut short)."""


def is_sealed(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


class SealingWriter:
    """Writes a sealed file: :meth:`write` as often as needed, then :meth:`close` (which writes
    the last chunk; a writer not closed leaves a file that never opens)."""

    def __init__(self, out: BinaryIO, key: bytes) -> None:
        self._out = out
        self._key = key
        self._id = os.urandom(_ID)
        self._header = MAGIC + self._id
        self._number = 0
        self._buffer = bytearray()
        out.write(self._header)

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep one chunk back: it may be the last
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        sealed = seal_chunk(
            self._key, _nonce(self._id, self._number), chunk, _aad(self._header, last)
        )
        self._out.write(_LENGTH.pack(len(sealed)))
        self._out.write(sealed)
        self._number += 1


def unseal_file(source: Path, target: BinaryIO, key: bytes) -> int:
    """Write the plaintext of the sealed file ``source`` into ``target``; the bytes written.
    Raises :class:`SealedFileError` (nothing trustworthy was written: the caller discards
    ``target``) when the file is not sealed, the key is another or the file was damaged."""
    written = 0
    with source.open("rb") as fh:
        header = fh.read(len(MAGIC) + _ID)
        if len(header) < len(MAGIC) + _ID or not header.startswith(MAGIC):
            raise SealedFileError("not a sealed file")
        file_id = header[len(MAGIC) :]
        number = 0
        while True:
            length = fh.read(_LENGTH.size)
            if len(length) < _LENGTH.size:
                raise SealedFileError("cut short: the last chunk is missing")
            (size,) = _LENGTH.unpack(length)
            if not _TAG <= size <= CHUNK + _TAG:
                raise SealedFileError("damaged: a chunk of impossible length")
            sealed = fh.read(size)
            if len(sealed) < size:
                raise SealedFileError("cut short inside a chunk")
            nonce = _nonce(file_id, number)
            try:
                chunk = unseal_chunk(key, nonce, sealed, _aad(header, False))
                last = False
            except CryptoError:
                try:
                    chunk = unseal_chunk(key, nonce, sealed, _aad(header, True))
                except CryptoError:
                    raise SealedFileError("another key, or a chunk changed or moved") from None
                last = True
            target.write(chunk)
            written += len(chunk)
            number += 1
            if last:
                if fh.read(1):
                    raise SealedFileError("damaged: data after the last chunk")
                return written


def _nonce(file_id: bytes, number: int) -> bytes:
    if number >= 1 << 32:
        raise SealedFileError("file too large to seal")  # 4 PiB: never in practice
    return file_id + number.to_bytes(4, "big")


def _aad(header: bytes, last: bool) -> bytes:
    return header + (b"\x01" if last else b"\x00")
