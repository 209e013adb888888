"""Roles and what each may do: defined in :mod:`govshare_desktop.core.domain.permissions` (value
types the store can name without importing security) and offered here, where the rest of the
security layer — accounts, sign-in, the audit trail — is found."""

from govshare_desktop.core.domain.permissions import (
    ACTION_LABELS,
    PERMISSIONS,
    ROLE_LABELS,
    SYSTEM,
    WRITES,
    Action,
    PermissionDenied,
    Principal,
    Role,
)

__all__ = [
    "ACTION_LABELS",
    "PERMISSIONS",
    "ROLE_LABELS",
    "SYSTEM",
    "WRITES",
    "Action",
    "PermissionDenied",
    "Principal",
    "Role",
]
