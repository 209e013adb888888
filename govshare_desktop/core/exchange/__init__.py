"""Exchange packages between the county platform and the township (``govshare-exchange/1``).

A package is a ZIP holding ``manifest.json``, ``manifest.sig`` (the sender's Ed25519 signature over the
exact manifest bytes) and the data files the manifest lists under ``data/``; the contract both sides
keep is ``exchange-format.md`` in the shared reference.

:mod:`.package` reads, verifies and builds the container. It never extracts anything to disk; a verified
package hands out the data files' bytes from memory. Applying the data (sequence bookkeeping, imports) is
the store's business: the verifier only exposes the manifest's ``sequence``.
"""

from __future__ import annotations
