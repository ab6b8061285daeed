"""Load and validate rule sets: TOML files, one per national or provincial standard.

A variant names its parent with ``extends`` and overrides keys: tables merge key by key, any other value
(number, string, list) replaces the parent's. Every key of every part is checked (the later parts — eligibility,
guarantee, quality, recognition, vetoes — by ``youjun.standards.sections``); all mistakes of a file are reported at
once, each with the dotted key and the file of the chain it comes from (the variant that set or introduced it).
Parsed files are kept by their content (rule sets are loaded per request); every load returns tables of its own.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import youjun.standards.enumerations as contract
from youjun.errors import Problem, YoujunError
from youjun.standards.model import (
    EVALUATED_STAGES,
    Balance,
    Condition,
    Indicator,
    Precision,
    Relaxation,
    RuleSet,
    SchoolRule,
    Scope,
    Split,
    Stage,
    Term,
)
from youjun.standards.sections import SECTIONS, check_sections
from youjun.standards.tables import TableReader
from youjun.standards.tables import join as _join

BUILTIN_DIR = Path(__file__).with_name("rulesets")
DEFAULT_RULE_SET = "national-2017"

#: Unit-level fields an indicator numerator may use: per-stage counts by their base name, shared resources.
UNIT_FIELDS = frozenset(
    {
        "teachers",
        "qualified_teachers",
        "backbone_teachers",
        "pe_teachers",
        "music_teachers",
        "art_teachers",
        "itinerant_pe_art_teachers",
        "titled_teachers",
        "teaching_aux_area",
        "indoor_sports_area",
        "outdoor_sports_area",
        "extra_sports_area",
        "equipment_value",
        "multimedia_rooms",
        "books",
        "computers",
    }
)
SHAREABLE_FIELDS = frozenset(
    {
        "teaching_aux_area",
        "indoor_sports_area",
        "outdoor_sports_area",
        "extra_sports_area",
        "equipment_value",
        "multimedia_rooms",
        "books",
        "computers",
    }
)
FLAG_FIELDS = frozenset({"dense_city_centre", "boarding"})
STAGE_KEYS = ("primary", "junior", "senior")
TOP_LEVEL_KEYS = frozenset(
    {
        "id",
        "name",
        "method",
        "extends",
        "stages",
        "stage_names",
        "scope",
        "split",
        "indicators",
        "relaxations",
        "school_rule",
        "balance",
        "precision",
        "eligibility",
        "guarantee",
        "quality",
        "recognition",
        "vetoes",
        "monitoring",
    }
)


#: Sections that no evaluation reads (left out of the digest).
NOT_EVALUATED = frozenset({"monitoring"})


def available_rule_sets() -> list[str]:
    """Identifiers of the rule sets shipped with youjun."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_rule_set(ref: str | os.PathLike[str] = DEFAULT_RULE_SET) -> RuleSet:
    """Load a shipped rule set by id (``national-2017``) or a rule-set file by path, resolving ``extends``."""
    layers = _resolve(ref, chain=())
    merged, origins = _merge_layers(layers)
    # The digest stamps stored results with the rules that made them: the warning rules of monitoring make none, so a
    # change to them leaves every stored result current.
    evaluated = {k: v for k, v in merged.items() if k not in NOT_EVALUATED}
    digest = hashlib.sha256(json.dumps(evaluated, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return replace(_build(merged, tuple(name for name, _ in layers), origins), digest=digest)


def _locate(ref: str | os.PathLike[str], base: Path | None) -> Path:
    text = os.fspath(ref)
    if text.endswith(".toml") or os.sep in text or "/" in text:
        path = Path(text)
        if not path.is_absolute() and base is not None and not path.exists():
            path = base / path
        return path
    for folder in (base, BUILTIN_DIR):
        if folder is not None and (folder / f"{text}.toml").exists():
            return folder / f"{text}.toml"
    known = "、".join(available_rule_sets())
    raise YoujunError.single("ruleset_unknown", f"找不到规则集「{text}」。可用的规则集：{known}")


def _resolve(ref: str | os.PathLike[str], chain: tuple[Path, ...]) -> list[tuple[str, dict[str, Any]]]:
    """The files of the ``extends`` chain, root first, each as (file name, its tables without ``extends``)."""
    path = _locate(ref, chain[-1].parent if chain else None).resolve()
    if path in chain:
        names = " → ".join(p.name for p in (*chain, path))
        raise YoujunError.single("ruleset_cycle", f"规则集继承关系出现循环：{names}", file=path.name)
    try:
        parsed = _parsed(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise YoujunError.single("ruleset_missing", "规则集文件不存在", file=str(ref)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise YoujunError.single("ruleset_syntax", f"规则集文件格式错误（TOML）：{exc}", file=path.name) from None
    parent = parsed.get("extends")
    data = {k: v for k, v in parsed.items() if k != "extends"}
    if parent is None:
        return [(path.name, data)]
    if not isinstance(parent, str):
        raise YoujunError.single("ruleset_type", "extends 应为父规则集的标识或文件名", file=path.name, field="extends")
    return [*_resolve(parent, (*chain, path)), (path.name, data)]


_LAST_PART = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


@functools.lru_cache(maxsize=32)
def _parsed(text: str) -> dict[str, Any]:
    """The parsed text of a rule-set file, kept by its content (rule sets are loaded per request, and parsing is
    most of the cost): an edited file is parsed again. Shared between loads, hence never written to."""
    return tomllib.loads(text)


@dataclass
class _Origins:
    """Which file of the chain each dotted key comes from, so a problem names the file to correct.

    ``set_by``: the file whose value is in force (a leaf, or a table the file writes into); ``opened_by``: the
    file that introduced a table (a key missing from it is that file's to add)."""

    set_by: dict[str, str] = field(default_factory=dict)
    opened_by: dict[str, str] = field(default_factory=dict)

    def record(self, path: str, value: Any, file: str, *, replaces_table: bool = False) -> None:
        """``value`` replaces whatever was at ``path``: it and everything below come from ``file``."""
        if replaces_table:  # no key of the replaced table stays behind
            below = path + "."
            for table in (self.set_by, self.opened_by):
                for key in [k for k in table if k.startswith(below)]:
                    del table[key]
            self.opened_by.pop(path, None)
        self._add(path, value, file)

    def _add(self, path: str, value: Any, file: str) -> None:
        self.set_by[path] = file
        if isinstance(value, dict):
            self.opened_by[path] = file
            for key, inner in value.items():
                self._add(_join(path, key), inner, file)

    def file_of(self, key: str) -> str | None:
        """The file to blame for a problem at ``key``: the one that set it, else the one that introduced the
        nearest enclosing table (or list) present."""
        if key in self.set_by:
            return self.set_by[key]
        while (shorter := _LAST_PART.sub("", key)) != key:
            key = shorter
            if key in self.opened_by:
                return self.opened_by[key]
            if key in self.set_by:
                return self.set_by[key]
        return None


def _merge_layers(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], _Origins]:
    """Merge the chain (tables key by key, any other value replaced) and record where each key comes from."""
    merged: dict[str, Any] = {}
    origins = _Origins()
    for file, data in layers:
        _merge_into(merged, data, "", file, origins)
    return merged, origins


def _merge_into(out: dict[str, Any], override: Mapping[str, Any], path: str, file: str, origins: _Origins) -> None:
    for key, value in override.items():
        where = _join(path, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            origins.set_by[where] = file
            _merge_into(out[key], value, where, file, origins)
        else:
            origins.record(where, value, file, replaces_table=isinstance(out.get(key), dict))
            out[key] = _copy(value)


def _copy(value: Any) -> Any:
    """A copy of the parsed tables and lists, so merging never writes into another file's tables."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class _Reader(TableReader):
    """Typed access to the merged tables, collecting problems with their dotted keys."""

    def __init__(self, file: str):
        super().__init__(file, "ruleset_invalid")

    def by_stage(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        stages: tuple[str, ...],
        required: bool = True,
        **rules: Any,
    ) -> dict[str, float] | None:
        table = self.table(data, key, path, required)
        if not table:
            return None
        for extra in sorted(set(table) - set(stages)):
            self.fail(_join(path, key, extra), "未知学段（可用：" + "、".join(stages) + "）")
        return {s: self.get(table, s, _join(path, key), float, **rules) for s in stages}

    def among(self, values: tuple[str, ...], allowed: tuple[str, ...], key: str, what: str) -> None:
        """Each of ``values`` is one of the workbook's ``allowed`` values."""
        for value in values:
            if value not in allowed:
                self.fail(key, f"不是工作簿中的{what}（可用：{'、'.join(allowed)}）", value)


def _build(data: dict[str, Any], sources: tuple[str, ...], origins: _Origins) -> RuleSet:
    r = _Reader(sources[-1])
    r.unknown(data, TOP_LEVEL_KEYS, "")
    rid = r.get(data, "id", "", str)
    name = r.get(data, "name", "", str)
    method = r.get(data, "method", "", str, choices=("quality-2017", "basic-2012"))
    stage_list = r.strings(data, "stages", "")
    for s in stage_list:
        if s not in EVALUATED_STAGES:
            r.fail("stages", "学段应为 primary（小学）或 junior（初中）", s)
    stages = cast(tuple[Stage, ...], tuple(s for s in stage_list if s in EVALUATED_STAGES))
    stage_names: dict[str, str] = {}
    for key, value in r.table(data, "stage_names", "", required=False).items():
        if key not in STAGE_KEYS:
            r.fail(_join("stage_names", key), "未知学段（可用：" + "、".join(STAGE_KEYS) + "）")
        stage_names[key] = r.get({key: value}, key, "stage_names", str)

    sc = r.table(data, "scope", "")
    r.unknown(
        sc,
        {"excluded_school_types", "include_private", "teaching_point_type", "teaching_point_min_students"},
        "scope",
    )
    scope = Scope(
        excluded_school_types=r.strings(sc, "excluded_school_types", "scope", ()),
        include_private=r.get(sc, "include_private", "scope", bool, True),
        teaching_point_type=r.get(sc, "teaching_point_type", "scope", str, "教学点"),
        teaching_point_min_students=r.get(sc, "teaching_point_min_students", "scope", int, 0, ge=0),
    )
    r.among(scope.excluded_school_types, contract.SCHOOL_TYPES, "scope.excluded_school_types", "办学类型")
    r.among((scope.teaching_point_type,), contract.SCHOOL_TYPES, "scope.teaching_point_type", "办学类型")

    sp = r.table(data, "split", "")
    r.unknown(sp, {"method", "weights", "shared"}, "split")
    weights = r.by_stage(sp, "weights", "split", STAGE_KEYS, gt=0) or {}
    shared = r.strings(sp, "shared", "split", ())
    for f in shared:
        if f not in SHAREABLE_FIELDS:
            r.fail("split.shared", "不是可分摊的校舍或设备字段", f)
    split = Split(
        method=r.get(sp, "method", "split", str, "weighted_students", choices=("weighted_students", "student_share")),
        weights=weights,
        shared=shared,
    )

    indicators: dict[str, Indicator] = {}
    for code, spec in r.table(data, "indicators", "").items():
        path = f"indicators.{code}"
        if not isinstance(spec, dict):
            r.fail(path, "应为表（table）", spec)
            continue
        r.unknown(spec, {"name", "short", "unit", "per", "numerator", "integral", "standard"}, path)
        terms = []
        for raw in r.strings(spec, "numerator", path):
            key = raw.lstrip("-").strip()
            if key not in UNIT_FIELDS:
                r.fail(f"{path}.numerator", "分子中出现未知字段", raw)
            terms.append(Term(key, -1 if raw.startswith("-") else 1))
        if not terms:
            r.fail(f"{path}.numerator", "分子至少包含一个字段")
        indicators[code] = Indicator(
            code=code,
            name=r.get(spec, "name", path, str),
            short=r.get(spec, "short", path, str, ""),
            unit=r.get(spec, "unit", path, str, ""),
            per=r.get(spec, "per", path, float, 1.0, gt=0),
            numerator=tuple(terms),
            integral=r.get(spec, "integral", path, bool, False),
            standard=r.by_stage(spec, "standard", path, stages, required=method == "quality-2017", gt=0),
        )
    if not indicators:
        r.fail("indicators", "至少需要一个指标")

    relaxations: dict[str, Relaxation] = {}
    for key, spec in r.table(data, "relaxations", "", required=False).items():
        path = f"relaxations.{key}"
        if not isinstance(spec, dict):
            r.fail(path, "应为表（table）", spec)
            continue
        r.unknown(spec, {"name", "enabled", "indicator", "add", "when"}, path)
        target = r.get(spec, "indicator", path, str)
        if target and target not in indicators:
            r.fail(f"{path}.indicator", "指标代码不存在", target)
        add = r.strings(spec, "add", path)
        for f in add:
            if f not in UNIT_FIELDS:
                r.fail(f"{path}.add", "未知字段", f)
        conditions = []
        for i, cond in enumerate(r.get(spec, "when", path, list)):
            cpath = f"{path}.when[{i}]"
            if not isinstance(cond, dict):
                r.fail(cpath, "应为表（table）", cond)
                continue
            r.unknown(cond, {"urban_rural", "school_types", "min_students", "max_students", "flags"}, cpath)
            flags = r.strings(cond, "flags", cpath, ())
            for f in flags:
                if f not in FLAG_FIELDS:
                    r.fail(f"{cpath}.flags", "未知的是/否字段", f)
            urban_rural = r.strings(cond, "urban_rural", cpath, None)
            school_types = r.strings(cond, "school_types", cpath, None)
            r.among(urban_rural or (), contract.URBAN_RURAL, f"{cpath}.urban_rural", "城乡分类")
            r.among(school_types or (), contract.SCHOOL_TYPES, f"{cpath}.school_types", "办学类型")
            conditions.append(
                Condition(
                    urban_rural=urban_rural,
                    school_types=school_types,
                    min_students=r.get(cond, "min_students", cpath, int, None, ge=0),
                    max_students=r.get(cond, "max_students", cpath, int, None, ge=0),
                    flags=flags,
                )
            )
        if not conditions:
            r.fail(f"{path}.when", "至少需要一个适用条件")
        relaxations[key] = Relaxation(
            key=key,
            name=r.get(spec, "name", path, str),
            enabled=r.get(spec, "enabled", path, bool, False),
            indicator=target,
            add=add,
            when=tuple(conditions),
        )

    school_rule = None
    if "school_rule" in data:
        sr = r.table(data, "school_rule", "")
        r.unknown(sr, {"min_met", "min_ratio", "allow_exceptions"}, "school_rule")
        school_rule = SchoolRule(
            min_met=r.get(sr, "min_met", "school_rule", int, ge=0, le=len(indicators)),
            min_ratio=r.get(sr, "min_ratio", "school_rule", float, ge=0, le=1),
            allow_exceptions=r.get(sr, "allow_exceptions", "school_rule", bool, False),
        )
    elif method == "quality-2017":
        r.fail("school_rule", "quality-2017 方法需要每所学校的达标规则（school_rule）")

    ba = r.table(data, "balance", "")
    r.unknown(ba, {"cv_limit", "single_unit_cv", "composite", "composite_limit"}, "balance")
    composite = r.get(ba, "composite", "balance", str, "none", choices=("none", "mean"))
    balance = Balance(
        cv_limit=r.by_stage(ba, "cv_limit", "balance", stages, required=composite == "none", gt=0),
        single_unit_cv=r.get(ba, "single_unit_cv", "balance", float, 0.0, ge=0),
        composite=composite,
        composite_limit=r.by_stage(ba, "composite_limit", "balance", stages, required=composite == "mean", gt=0),
    )

    pr = r.table(data, "precision", "")
    keys = {"display_cv_decimals", "display_value_decimals", "compare", "compare_cv_decimals"}
    r.unknown(pr, keys | {"compare_value_decimals", "tolerance"}, "precision")
    precision = Precision(
        display_cv_decimals=r.get(pr, "display_cv_decimals", "precision", int, 3, ge=0, le=10),
        display_value_decimals=r.get(pr, "display_value_decimals", "precision", int, 2, ge=0, le=10),
        compare=r.get(pr, "compare", "precision", str, "unrounded", choices=("unrounded", "rounded")),
        compare_cv_decimals=r.get(pr, "compare_cv_decimals", "precision", int, 2, ge=0, le=10),
        compare_value_decimals=r.get(pr, "compare_value_decimals", "precision", int, 2, ge=0, le=10),
        tolerance=r.get(pr, "tolerance", "precision", float, 1e-9, ge=0, le=1e-6),
    )

    check_sections(data, method, stages, r.fail)
    sections = {section: data[section] for section in SECTIONS if isinstance(data.get(section), dict)}

    if r.problems:
        raise YoujunError(_attributed(r.problems, origins))
    return RuleSet(
        id=rid,
        name=name,
        method=method,
        sources=sources,
        stages=stages,
        stage_names=stage_names,
        scope=scope,
        split=split,
        indicators=indicators,
        relaxations=relaxations,
        school_rule=school_rule,
        balance=balance,
        precision=precision,
        sections=sections,
    )


def _attributed(problems: list[Problem], origins: _Origins) -> list[Problem]:
    """Each problem with the file its key comes from (the variant that introduced it, when it can be told)."""
    out = []
    for problem in problems:
        where = problem.location
        file = origins.file_of(where.field) if where.field else None
        out.append(problem if file is None else replace(problem, location=replace(where, file=file)))
    return out
