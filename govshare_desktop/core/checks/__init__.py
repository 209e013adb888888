"""Cross-department checks (比对核查): checks as data (``resources/checks/*.toml``), run as SQL
over the back-flowed datasets, each hit a case the township verifies (:mod:`.cases`)."""

from __future__ import annotations
