"""The row checks declared as data in ``checks.toml``: loaded, checked and compiled to ``RowCheck``.

The file is checked whole before anything is read with it: every key, every column a check names, every
expression (``youjun.io.reader.expressions``) and every placeholder of a message; all mistakes are reported at
once in Chinese with the file and the dotted key (``school[3].fails``), as for the rule sets. A check with
``stages`` becomes one check per stage, in the order of the stages; ``{key!h}`` in a message becomes the
column's header. See the comments at the top of ``checks.toml`` for what an entry holds.
"""

from __future__ import annotations

import functools
import os
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from youjun.contract import COUNTY_COLUMNS, SCHOOL_COLUMNS, Column
from youjun.errors import Severity, YoujunError
from youjun.io.reader.expressions import ExpressionError, Kind, Names, Value, compile_typed
from youjun.io.reader.plausibility import THRESHOLDS, Plausibility
from youjun.io.reader.rowchecks import RowCheck
from youjun.io.reader.sources import SheetKind
from youjun.standards.tables import TableReader, join

CHECKS_FILE = Path(__file__).parent.parent / "checks.toml"

#: (parts summed, whole summed, the rule in words): the hard checks "Σ parts ≤ Σ whole" (decision 28).
PartWhole = tuple[tuple[str, ...], tuple[str, ...], str]

PART_WHOLE_CODE = "part_exceeds_whole"
_COLUMNS: dict[SheetKind, tuple[Column, ...]] = {"school": SCHOOL_COLUMNS, "county": COUNTY_COLUMNS}
#: Names an expression may use besides columns and thresholds (computed before the checks run).
DERIVED: dict[SheetKind, dict[str, pl.Expr]] = {"school": {"students": pl.col("__students")}, "county": {}}
_CHECK_KEYS = frozenset({"code", "field", "fails", "message", "severity", "values", "stages"})
_PART_WHOLE_KEYS = frozenset({"parts", "whole", "reason", "stages"})
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC_KINDS = ("int", "number", "year")


@dataclass(frozen=True, slots=True)
class DeclaredCheck:
    """One check of the file, stages expanded and headers filled in; compiled with the thresholds by ``compile``."""

    code: str
    field: str
    fails: str
    message: str
    severity: Severity
    values: tuple[tuple[str, str], ...]  # (name, expression), in order
    part_whole: PartWhole | None = None  # set for a "parts ≤ whole" entry

    def compile(self, sheet: SheetKind, thresholds: Mapping[str, int | float]) -> RowCheck:
        names = _names(sheet, thresholds)
        values: dict[str, tuple[Value, Kind]] = {}
        for name, text in self.values:
            values[name] = compile_typed(text, Names(names.columns, names.thresholds, names.derived, values))
        fails, _ = compile_typed(self.fails, Names(names.columns, names.thresholds, names.derived, values))
        assert isinstance(fails, pl.Expr)
        extra = {name: value if isinstance(value, pl.Expr) else pl.lit(value) for name, (value, _) in values.items()}
        return RowCheck(self.code, self.field, fails, self.message, self.severity, extra)


@dataclass(frozen=True, slots=True)
class CheckRules:
    """The declared checks of both sheets, in the file's order."""

    school: tuple[DeclaredCheck, ...]
    county: tuple[DeclaredCheck, ...]
    file: str

    def of(self, sheet: SheetKind) -> tuple[DeclaredCheck, ...]:
        return self.school if sheet == "school" else self.county

    def part_whole(self, sheet: SheetKind) -> tuple[PartWhole, ...]:
        return tuple(c.part_whole for c in self.of(sheet) if c.part_whole is not None)

    def row_checks(self, sheet: SheetKind, limits: Plausibility) -> list[RowCheck]:
        thresholds = limits.values()
        return [check.compile(sheet, thresholds) for check in self.of(sheet)]


def load_checks(path: str | os.PathLike[str] | None = None) -> CheckRules:
    """The checks of a TOML file (default: the packaged ``checks.toml``); ``YoujunError`` with every mistake.

    A file is read and checked once per version (its modification time and size are remembered)."""
    source = Path(path) if path is not None else CHECKS_FILE
    shown = os.fspath(source)
    try:
        stat = source.stat()
        resolved = os.fspath(source.resolve())
    except (OSError, RuntimeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise YoujunError.single("bad_checks_config", f"无法读取行检查配置（{reason}）", file=shown) from None
    return _load(shown, resolved, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load(shown: str, resolved: str, _mtime: int, _size: int) -> CheckRules:
    try:
        text = Path(resolved).read_text(encoding="utf-8")
    except OSError as exc:
        raise YoujunError.single(
            "bad_checks_config", f"无法读取行检查配置（{exc.strerror or exc}）", file=shown
        ) from None
    except UnicodeDecodeError:
        raise YoujunError.single("bad_checks_config", "行检查配置文件应为 UTF-8 编码", file=shown) from None
    return parse_checks(text, shown)


def parse_checks(text: str, file: str = "checks.toml") -> CheckRules:
    """The checks of the TOML ``text`` (``file`` names it in problems); ``YoujunError`` with every mistake.

    A province's own check, a warning on very large primary schools:

    >>> rules = parse_checks('''
    ... [[school]]
    ... code = "large_primary"
    ... severity = "warning"
    ... field = "students_primary"
    ... fails = "students_primary > 3000"
    ... message = "「{students_primary!h}」为 {students_primary:,} 人，请核实"
    ... ''')
    >>> rules.school[0].message
    '「小学在校生数」为 {students_primary:,} 人，请核实'

    Mistakes are reported together, each with its dotted key:

    >>> try:
    ...     parse_checks('''
    ... [[county]]
    ... code = "odd"
    ... field = "recognition_rat"
    ... fails = "recognition_rate >"
    ... message = "{rate}"
    ... ''', "province.toml")
    ... except YoujunError as exc:
    ...     for p in exc.problems:
    ...         print(p.location.field, p.message)
    county[1].field 「recognition_rat」不是县级指标表的列名
    county[1].fails 表达式有语法错误：「recognition_rate >」
    county[1].message 消息模板中的「{rate}」无法填写（应为列名、合理性阈值或 values 中的名称）
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise YoujunError.single("bad_checks_config", f"行检查配置格式错误（TOML）：{exc}", file=file) from None
    reader = _Reader(file)
    reader.unknown(data, {"stages", "school", "county"}, "")
    stages = reader.stages(data)
    school = reader.entries(data, "school", stages)
    county = reader.entries(data, "county", stages)
    if reader.problems:
        raise YoujunError(reader.problems)
    return CheckRules(school, county, file)


def _names(sheet: SheetKind, thresholds: Mapping[str, int | float]) -> Names:
    columns: dict[str, Kind] = {c.key: "number" if c.kind in _NUMERIC_KINDS else "text" for c in _COLUMNS[sheet]}
    return Names(columns, thresholds, DERIVED[sheet])


class _Reader(TableReader):
    """Typed access to the file's tables, collecting problems with their dotted keys."""

    def __init__(self, file: str) -> None:
        super().__init__(file, "bad_checks_config")
        self.sample_thresholds = {name: 1 for name in THRESHOLDS}  # to check expressions without the values

    def fail(self, key: str, message: str, value: object = None) -> None:
        """As ``TableReader.fail``, once: an entry with stages is read once per stage."""
        before = self.problems[:]
        super().fail(key, message, value)
        if self.problems[-1] in before:
            self.problems.pop()

    def stages(self, data: Mapping[str, Any]) -> dict[str, str]:
        table = self.table(data, "stages", "", required=False)
        return {key: self.get(table, key, "stages", str) for key in table}

    def entries(
        self, data: Mapping[str, Any], sheet: SheetKind, stages: Mapping[str, str]
    ) -> tuple[DeclaredCheck, ...]:
        items = data.get(sheet, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            self.fail(sheet, f"应为检查项列表（[[{sheet}]]）")
            return ()
        checks: list[DeclaredCheck] = []
        for number, item in enumerate(items, start=1):
            path = f"{sheet}[{number}]"
            group = self._group(item, path)
            for words in self._stage_words(item, path, stages):  # stage by stage, each with the group's checks
                for sub, sub_path in group:
                    entry = _Entry(self, sheet, sub, sub_path, words)
                    check = entry.part_whole() if "parts" in sub else entry.check()
                    if check is not None:
                        checks.append(check)
        return tuple(checks)

    def _group(self, item: Mapping[str, Any], path: str) -> list[tuple[Mapping[str, Any], str]]:
        """The checks of an entry, with their dotted keys: the entry itself, or the list under its ``checks``."""
        if "checks" not in item:
            self.unknown(item, _PART_WHOLE_KEYS if "parts" in item else _CHECK_KEYS, path)
            return [(item, path)]
        self.unknown(item, {"stages", "checks"}, path)
        subs = item["checks"]
        if not isinstance(subs, list) or not subs or not all(isinstance(sub, dict) for sub in subs):
            self.fail(join(path, "checks"), "应为检查项列表（[[…checks]]）")
            return []
        group = []
        for number, sub in enumerate(subs, start=1):
            sub_path = f"{path}.checks[{number}]"
            known = (_PART_WHOLE_KEYS if "parts" in sub else _CHECK_KEYS) - {"stages"}
            self.unknown(sub, known, sub_path)
            group.append((sub, sub_path))
        return group

    def _stage_words(self, item: Mapping[str, Any], path: str, stages: Mapping[str, str]) -> list[dict[str, str]]:
        """The words for ``$stage`` / ``$stage_name`` of each check the entry becomes (none without stages)."""
        wanted = self.strings(item, "stages", path, default=None)
        if wanted is None:
            return [{}]
        out: list[dict[str, str]] = []
        for stage in wanted:
            if stage not in stages:
                known = f"[stages] 中有：{'、'.join(stages)}" if stages else "文件中没有 [stages] 表"
                self.fail(join(path, "stages"), f"未知学段「{stage}」（{known}）", stage)
                continue
            out.append({"stage": stage, "stage_name": stages[stage]})
        return out


class _Entry:
    """One entry of the file for one stage: its texts with ``$stage`` replaced, checked against the sheet."""

    def __init__(self, reader: _Reader, sheet: SheetKind, item: Mapping[str, Any], path: str, words: dict[str, str]):
        self.reader, self.sheet, self.item, self.path, self.words = reader, sheet, item, path, words
        self.columns = {c.key: c for c in _COLUMNS[sheet]}
        self.ok = True

    def fail(self, key: str, message: str, value: object = None) -> None:
        stage = f"（学段 {self.words['stage']}）" if self.words else ""
        self.reader.fail(join(self.path, key), message + stage, value)
        self.ok = False

    def text(self, key: str, required: bool = True) -> str:
        """A string of the entry with ``$stage`` and ``$stage_name`` replaced ("" when it is missing or wrong)."""
        before = len(self.reader.problems)
        raw = self.reader.get(self.item, key, self.path, str, ... if required else None)
        if len(self.reader.problems) > before:
            self.ok = False
        if not raw:
            return ""
        return self.expand(key, raw)

    def expand(self, key: str, raw: str) -> str:
        try:
            return string.Template(raw).substitute(self.words)
        except KeyError as exc:
            where = "只能使用 $stage 和 $stage_name" if self.words else "没有 stages 的检查不能使用 $ 占位符"
            self.fail(key, f"未知的占位符「${exc.args[0]}」（{where}；$ 本身请写作 $$）", raw)
        except ValueError:
            self.fail(key, "$ 占位符写法有误（如 $stage、${stage}；$ 本身请写作 $$）", raw)
        self.ok = False
        return ""

    def column(self, key: str, value: str, numeric: bool = False) -> bool:
        if value not in self.columns:
            self.fail(key, f"「{value}」不是{'学校' if self.sheet == 'school' else '县级指标'}表的列名", value)
            return False
        if numeric and self.columns[value].kind not in _NUMERIC_KINDS:
            self.fail(key, f"「{value}」不是数值列", value)
            return False
        return True

    def check(self) -> DeclaredCheck | None:
        r, path = self.reader, self.path
        code = r.get(self.item, "code", path, str)
        if code and not _CODE.match(code):
            self.fail("code", "应为小写英文字母、数字和下划线", code)
        field = self.text("field")
        if field:
            self.column("field", field)
        severity = r.get(self.item, "severity", path, str, "error", choices=("error", "warning"))
        values = self.values()
        fails = self.text("fails")
        message = self.text("message")
        names = _names(self.sheet, r.sample_thresholds)
        compiled: dict[str, tuple[Value, Kind]] = {}
        for name, expression in values:
            compiled[name] = self.expression(f"values.{name}", expression, names, compiled, ("number", "text"))
        if fails:
            self.expression("fails", fails, names, compiled, ("bool",))
        if message:
            message = self.message(message, {name for name, _ in values})
        return DeclaredCheck(code, field, fails, message, severity, values) if self.ok else None

    def values(self) -> tuple[tuple[str, str], ...]:
        table = self.reader.table(self.item, "values", self.path, required=False)
        out = []
        for name, raw in table.items():
            key = f"values.{name}"
            if not isinstance(raw, str):
                self.fail(key, "应为表达式（字符串）", raw)
            elif not _NAME.match(name) or name in self.columns or name in THRESHOLDS or name in DERIVED[self.sheet]:
                self.fail(key, "名称应为英文标识符，且不能与列名或阈值相同", name)
            else:
                out.append((name, self.expand(key, raw)))
        return tuple(out)

    def expression(
        self, key: str, text: str, names: Names, values: dict[str, tuple[Value, Kind]], kinds: tuple[Kind, ...]
    ) -> tuple[Value, Kind]:
        try:
            value, kind = compile_typed(text, Names(names.columns, names.thresholds, names.derived, values))
        except ExpressionError as exc:
            self.fail(key, str(exc), text)
            return pl.lit(None), kinds[0]
        if kind not in kinds:
            wanted = "比较（结果为是/否）" if kinds == ("bool",) else "数值或文本，不能是比较"
            self.fail(key, f"结果应为{wanted}", text)
        return value, kind

    def message(self, template: str, values: set[str]) -> str:
        """The message with ``{key!h}`` replaced by headers; every placeholder checked."""
        known = set(self.columns) | set(THRESHOLDS) | values
        out: list[str] = []
        try:
            pieces = list(string.Formatter().parse(template))
        except ValueError as exc:
            self.fail("message", f"消息模板格式错误（{exc}）；花括号本身请写作 {{{{ 和 }}}}", template)
            return template
        for literal, name, spec, conversion in pieces:
            out.append(literal.replace("{", "{{").replace("}", "}}"))
            if name is None:
                continue
            if conversion == "h":
                if self.column("message", name):
                    out.append(self.columns[name].header.replace("{", "{{").replace("}", "}}"))
                continue
            if name not in known:
                self.fail(
                    "message", f"消息模板中的「{{{name}}}」无法填写（应为列名、合理性阈值或 values 中的名称）", template
                )
                continue
            if conversion is not None:
                self.fail("message", f"消息模板中的「{{{name}!{conversion}}}」：只能用 !h（该列的表头）", template)
                continue
            if spec and "{" in spec:
                self.fail("message", f"消息模板中「{{{name}:{spec}}}」的格式说明中不能再有占位符", template)
                continue
            if spec and not _spec_ok(spec, numeric=name not in self.columns or name in self._numeric()):
                self.fail("message", f"消息模板中「{{{name}:{spec}}}」的格式不适用于该值", template)
                continue
            out.append("{" + name + (":" + spec if spec else "") + "}")
        return "".join(out)

    def _numeric(self) -> set[str]:
        return {k for k, c in self.columns.items() if c.kind in _NUMERIC_KINDS}

    def part_whole(self) -> DeclaredCheck | None:
        parts = tuple(self.expand("parts", p) for p in self.reader.strings(self.item, "parts", self.path))
        whole = tuple(self.expand("whole", w) for w in self.reader.strings(self.item, "whole", self.path))
        reason = self.text("reason")
        for key, names in (("parts", parts), ("whole", whole)):
            if not names:
                self.fail(key, "至少应有一列")
            for name in names:
                if name:
                    self.column(key, name, numeric=True)
        if not self.ok:
            return None
        message = self.message(f"{_named(parts)}不得大于{_named(whole)}：{reason}", set())
        fails = f"{' + '.join(parts)} > {' + '.join(whole)}"
        if not self.ok:
            return None
        return DeclaredCheck(PART_WHOLE_CODE, parts[0], fails, message, "error", (), (parts, whole, reason))


def _named(keys: Sequence[str]) -> str:
    """「header」（{key}） + …: the columns of a part-whole check as its message names them."""
    return " + ".join(f"「{{{k}!h}}」（{{{k}}}）" for k in keys)


def _spec_ok(spec: str, numeric: bool) -> bool:
    samples: tuple[Any, ...] = (1, 1.5) if numeric else ("x",)
    try:
        for sample in samples:
            format(sample, spec)
    except (ValueError, TypeError):
        return False
    return True
