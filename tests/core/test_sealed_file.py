"""Sealed files (server dumps on the PC's disk): what goes in comes out under the right key, and
nothing else opens — another key, a changed, moved or dropped chunk, a cut tail."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from govshare_desktop.core.security.crypto import subkey
from govshare_desktop.core.security.sealed_file import (
    CHUNK,
    MAGIC,
    SealedFileError,
    SealingWriter,
    is_sealed,
    unseal_file,
)

KEY = subkey(b"k" * 32, "server-dump")


def _seal(path: Path, data: bytes, key: bytes = KEY, pieces: int = 7) -> None:
    with path.open("wb") as fh:
        writer = SealingWriter(fh, key)
        step = max(1, len(data) // pieces)
        for start in range(0, len(data), step):
            writer.write(data[start : start + step])
        writer.close()


def _open(path: Path, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    unseal_file(path, out, key)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12345])
def test_round_trip_at_chunk_edges(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "dump"
    _seal(path, data)
    assert is_sealed(path) and path.read_bytes().startswith(MAGIC)
    assert _open(path) == data
    assert data[:64] not in path.read_bytes() or size < 16  # no plaintext on disk


def test_another_key_opens_nothing(tmp_path: Path) -> None:
    path = tmp_path / "dump"
    _seal(path, b"PGDMP resident data" * 1000)
    with pytest.raises(SealedFileError):
        _open(path, subkey(b"k" * 32, "another purpose"))


def _chunks(path: Path) -> tuple[bytes, list[bytes]]:
    raw = path.read_bytes()
    header, rest = raw[: len(MAGIC) + 8], raw[len(MAGIC) + 8 :]
    chunks = []
    while rest:
        size = int.from_bytes(rest[:4], "big")
        chunks.append(rest[: 4 + size])
        rest = rest[4 + size :]
    return header, chunks


def test_changed_moved_dropped_or_cut_chunks_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dump"
    _seal(path, os.urandom(3 * CHUNK + 5))
    header, chunks = _chunks(path)
    assert len(chunks) == 4
    bad = tmp_path / "bad"

    def refused(raw: bytes) -> None:
        bad.write_bytes(raw)
        with pytest.raises(SealedFileError):
            _open(bad)

    flipped = bytearray(chunks[1])
    flipped[100] ^= 1
    refused(header + chunks[0] + bytes(flipped) + chunks[2] + chunks[3])  # changed
    refused(header + chunks[1] + chunks[0] + chunks[2] + chunks[3])  # moved
    refused(header + chunks[0] + chunks[2] + chunks[3])  # dropped
    refused(header + chunks[0] + chunks[1] + chunks[2])  # the tail cut at a chunk's edge
    refused(header + b"".join(chunks)[:-10])  # cut inside the last chunk
    refused(header + b"".join(chunks) + b"x")  # something after the last chunk
    refused(b"PGDMP" + b"".join(chunks))  # not sealed at all
    bad.write_bytes(header + b"".join(chunks))
    assert len(_open(bad)) == 3 * CHUNK + 5  # the pieces put back are the file again
