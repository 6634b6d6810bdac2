"""Why an action was refused, said so that a person can fix it (pure)."""

from __future__ import annotations


class OpError(Exception):
    """``status`` is the HTTP status both the page and the API answer with; ``field`` names
    the form field or JSON key to fix, when there is one."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
