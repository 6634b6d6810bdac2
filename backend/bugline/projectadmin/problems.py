"""What is wrong with a submitted form, field by field, in words the person can act on."""

from __future__ import annotations

from collections.abc import Iterable


class Problems(ValueError):
    """Raised by the form readers; ``items`` are (field, message) pairs, in form order."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.items = list(items)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.items))

    @property
    def fields(self) -> set[str]:
        return {field for field, _ in self.items}


def one(field: str, message: str) -> Problems:
    return Problems([(field, message)])
