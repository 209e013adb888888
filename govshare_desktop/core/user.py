"""Who is acting, until accounts exist (security issue): the operating-system login name."""

from __future__ import annotations

import getpass


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name on some service accounts
        return "unknown"
