"""One error type for the whole product: a stable code, a Chinese message and where it happened.

The CLI and (later) the web show the same messages; no stack trace ever reaches a user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, TypedDict, Unpack

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is: file, sheet, 1-based row as the user sees it, column header, field key, value."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None

    def describe(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(f"文件「{self.file}」")
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"列「{self.column}」")
        elif self.field:
            parts.append(f"字段「{self.field}」")
        if self.value is not None:
            shown = self.value if len(self.value) <= 40 else self.value[:37] + "…"
            parts.append(f"值「{shown}」")
        return "，".join(parts)


class Where(TypedDict, total=False):
    """The keywords of ``YoujunError.single``: the fields of a ``Location``."""

    file: str | None
    sheet: str | None
    row: int | None
    column: str | None
    field: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    """A hard error (input rejected) or a soft warning (must be confirmed or explained)."""

    code: str
    message: str
    severity: Severity = "error"
    location: Location = field(default_factory=Location)

    def describe(self) -> str:
        where = self.location.describe()
        return f"{where}：{self.message}" if where else self.message


class YoujunError(Exception):
    """Raised when input cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        first = self.problems[0].describe() if self.problems else "未知错误"
        more = f"（另有 {len(self.problems) - 1} 个问题）" if len(self.problems) > 1 else ""
        super().__init__(first + more)

    @classmethod
    def single(cls, code: str, message: str, **where: Unpack[Where]) -> YoujunError:
        return cls([Problem(code, message, "error", Location(**where))])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]
