"""The 一表通 loop with the county: report tasks coming down (:mod:`.tasks`), reports going up as
signed packages (:mod:`.sending`), replies and receipts coming back (:mod:`.replies`).

Packages are read by the same import as back-flow data (``core/backflow/packages.py``: trust,
signature, recipient, sequence, checksums); the functions here apply a verified package's data in
the import's transaction, and raise a :class:`~govshare_desktop.core.errors.UserError` naming the file
and field when its content is unusable — the whole package is then refused and nothing stays.
"""

from __future__ import annotations
