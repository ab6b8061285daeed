"""Problems found while reading: where each one is, in what order they are listed, and how many are listed.

Every problem carries a sort key (file, sheet, row, column position) so that the user reads them in the order of
the files, however they were found (cell checks per sheet, row checks over all files). At most a cap are listed
one by one; the rest are counted in one summary per severity, so a wholly wrong file cannot exhaust memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from youjun.errors import Location, Problem, Severity

MAX_LISTED_PROBLEMS = 100_000
"""At most this many problems are listed one by one; the rest are counted in a summary problem."""

#: (file index, sheet index, row, column position): a file-level problem has sheet -1.
Order = tuple[int, int, int, int]


class Sink:
    """Problems with a sort key (file, sheet, row, column), listing capped at ``cap``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.items: list[tuple[Order, Problem]] = []
        self.unlisted: dict[Severity, int] = {"error": 0, "warning": 0}
        self.has_error = False

    def room(self) -> int:
        return max(self.cap - len(self.items), 0)

    def add(self, problem: Problem, order: Order = (0, 0, 0, 0)) -> None:
        if problem.severity == "error":
            self.has_error = True
        if len(self.items) >= self.cap:
            self.unlisted[problem.severity] += 1
            return
        self.items.append((order, problem))

    def skip(self, severity: Severity, count: int) -> None:
        if count > 0:
            self.unlisted[severity] += count
            if severity == "error":
                self.has_error = True

    def drop(self, codes: frozenset[str]) -> None:
        """Forget the listed problems with these codes (and recount whether an error remains)."""
        self.items = [(o, p) for o, p in self.items if p.code not in codes]
        self.has_error = any(p.severity == "error" for _, p in self.items) or self.unlisted["error"] > 0

    def result(self) -> tuple[list[Problem], list[Problem]]:
        ordered = [p for _, p in sorted(self.items, key=lambda item: item[0])]
        errors = [p for p in ordered if p.severity == "error"]
        warnings = [p for p in ordered if p.severity == "warning"]
        if self.unlisted["error"]:
            errors.append(self._summary("error", "错误"))
        if self.unlisted["warning"]:
            warnings.append(self._summary("warning", "警告"))
        return errors, warnings

    def _summary(self, severity: Severity, what: str) -> Problem:
        n = self.unlisted[severity]
        return Problem("too_many_problems", f"另有 {n} 个{what}未逐一列出，请先修正上面列出的问题后重新导入", severity)


@dataclass(frozen=True, slots=True)
class Source:
    """One sheet (or CSV file) that was read: provenance for every problem of its rows."""

    file: str
    sheet: str | None
    file_index: int
    sheet_index: int
    headers: dict[str, str]  # key -> header text as found in the file

    def where(self, **kw: Any) -> Location:
        return Location(file=self.file, sheet=self.sheet, **kw)
