"""How a server dump is sealed, as the store's backup and restore see it: an object handed in by
the layer above (:class:`~govshare_desktop.core.security.server_sealed.TownshipSealing`), so
that the store knows nothing of keys. Without one, dumps are written and read in the clear
(a dump made before sealing; a tool's store that holds no key)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from govshare_desktop.core.progress import Cancel


class DumpSealing(Protocol):
    """Seals pg_dump's output as it is written, and opens a sealed dump for pg_restore."""

    name: str  # the manifest's "sealed": how the dump is sealed

    def dump(
        self, argv: Sequence[str], env: dict[str, str] | None, target: Path, cancel: Cancel | None
    ) -> None:
        """Run ``argv`` (pg_dump writing to standard output) and seal its output into
        ``target``."""

    def opened(self, path: Path, manifest: dict[str, Any]) -> AbstractContextManager[Path]:
        """The sealed dump ``path`` as a plain file for the block's time."""

    def write_opened(self, path: Path, manifest: dict[str, Any], target: Path) -> None:
        """The plaintext of the sealed dump ``path`` into the new file ``target``."""
