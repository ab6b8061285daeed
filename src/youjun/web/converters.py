"""URL parts that can never reach the database out of range (a year of 2147483648 or an id beyond 64 bits would
otherwise raise a database error, an HTTP 500): ``<year:year>`` matches 2000–2100 and ``<id:pk>`` 1 to 18 digits.
Anything else simply does not match: 404."""

from __future__ import annotations

from django.urls import register_converter

#: The years the web application accepts: statistics years, windows, batches and targets.
MIN_YEAR, MAX_YEAR = 2000, 2100


class YearConverter:
    regex = "20[0-9]{2}|2100"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


class IdConverter:
    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


_registered = False


def register() -> None:
    """Called by every URL module that uses ``year`` or ``id``; registers them once."""
    global _registered
    if not _registered:
        register_converter(YearConverter, "year")
        register_converter(IdConverter, "id")
        _registered = True


def valid_year(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and MIN_YEAR <= value <= MAX_YEAR
