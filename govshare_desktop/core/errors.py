"""User errors (shown to the clerk in Chinese) versus bugs (logged with a traceback)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can understand and fix: a bad file, a wrong ID number, a locked record.

    ``message`` is Simplified Chinese and says what is wrong and where.
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message if not self.detail else f"{self.message}\n{self.detail}"
