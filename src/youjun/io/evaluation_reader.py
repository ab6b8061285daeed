"""The evaluation JSON read back (data-contract.md §2): county objects of several years as monitoring's ``Stacked``.

The web application keeps no engine objects: it stores, per county-year, the county object that
``youjun.io.evaluation_json`` writes (the resource evaluation, or the full assessment with every part's items and
the verdict). ``stacked_from_documents`` turns such objects back into the ``youjun.engine.monitoring.Stacked`` that
``stack`` makes of the live engine objects, so that ``series`` and ``warnings`` give the same frames from either.

What comes back, frame by frame (every value at the full precision the JSON carries; ``null`` where the engine has
null — the engine's undefined CVs and values are nulls, never NaN, and the JSON writes them as ``null``):

- ``stages``: the columns of ``ResourceEvaluation.stages``, in the engine's column order and dtypes: the keys,
  ``county_name``, ``units``, ``students``, ``units_passed``, ``county_value_k`` and ``cv_k``, ``cv_limit``,
  ``cv_passed_k`` and ``cv_boundary_k`` (with a CV limit in the rule set), ``composite`` and ``composite_limit``
  (2012 composite) and ``passed``; the engine has no other stage column;
- ``units``: ``UNIT_SCHEMA`` with ``value_k``, ``met_k``, ``shortfall_k`` (from the county's ``shortfalls``) and
  ``standard_k`` (the standard of the unit's stage under the rule set, as ``stack`` takes it). ``school_type`` and
  ``max_class_size`` come from the unit objects (the writer puts them there since schema 1's monitoring addition);
  documents written before lack them: then they come from ``schools`` (the school rows of the years) when it is
  given, else they are null, and only the school-size and class-size warnings read them;
- ``counties`` and ``items``: as ``stack`` makes them (the eligibility item's ``name`` comes from the rule set, its
  ``boundary`` is always false in the engine).

Rows come in the engine's order: stage rows by year, county and the rule set's stage order; units by year, stage,
county and their order in the county object (the engine's: school id); counties by year and county; items by year,
part (eligibility, guarantee, quality, recognition, vetoes), county and their order in the part. That is the order of
``stack`` of evaluations made one per year, except ``counties`` of assessments, which ``stack`` leaves in the order
of a join and ``series`` sorts by year and county as here.

Each object is checked; one that cannot be read (another ``schema_version``, a missing key, a value of the wrong type,
indicators other than those of its rule set) is refused with a Chinese message naming the county, the year and the
key. Every column is built once for all the objects, by C-level getters mapped over each object's units, stages and
items (no Python code runs per unit, no frame is made per object); the full check of an object runs only to explain
a refusal.

>>> import polars as pl
>>> from youjun.engine import evaluate_resources
>>> from youjun.engine.monitoring import series, stack
>>> from youjun.io.evaluation_json import to_dict
>>> from youjun.io.synth import generate
>>> from youjun.standards import load_rule_set
>>> rules = load_rule_set()
>>> schools = {y: generate(2, seed=y, year=y).schools for y in (2023, 2024)}
>>> live = {y: evaluate_resources(frame, rules) for y, frame in schools.items()}
>>> documents = [d for ev in live.values() for d in evaluation_documents(to_dict(ev))]
>>> stacked = stacked_from_documents(documents)
>>> stacked.stages.equals(stack(live).stages), series(stacked).indicators.equals(series(live).indicators)
(True, True)
>>> stacked.units["school_type"].null_count()  # in each unit object
0
>>> stacked_from_documents(documents, schools=pl.concat(schools.values())).units.equals(stack(live).units)
True
>>> stacked_from_documents([{**documents[0], "schema_version": 2}])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
youjun.errors.YoujunError: 字段「schema_version」，值「2」：...的评估结果格式版本为 2，只能读取版本 1
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl

from youjun.engine.assessment import PARTS
from youjun.engine.balance import stage_order
from youjun.engine.monitoring import (
    COUNTY_SCHEMA,
    ITEM_PARTS,
    SERIES_ITEM_SCHEMA,
    STAGE_SCHEMA,
    UNIT_INDICATOR_SCHEMA,
    UNIT_SCHEMA,
    Stacked,
)
from youjun.engine.resources import standard_of
from youjun.engine.split import ALL_STAGES
from youjun.engine.status import INSUFFICIENT
from youjun.errors import YoujunError
from youjun.io.evaluation_json import SCHEMA_VERSION
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet

#: The sections of an assessment beside ``resource_allocation`` (docs/assessment-json.md).
ASSESSMENT_SECTIONS = ("government_guarantee", "education_quality", "social_recognition", "vetoes", "verdict")
#: The name of the eligibility item when the rule set's ``[eligibility]`` gives none (as ``assess`` names it).
ELIGIBILITY_NAME = "通过国家义务教育基本均衡发展认定满规定年限"
#: The sections whose ``items`` list gives the item rows of their part (eligibility and S1 are single objects).
ITEM_LISTS = ("government_guarantee", "education_quality", "vetoes")

_ITEM_FIELDS = ("code", "name", "status", "value", "threshold", "boundary", "detail")
#: A getter per key read (C-level: mapped over every unit, stage, shortfall and item).
_GETTERS = {
    key: itemgetter(key)
    for key in (
        *_ITEM_FIELDS,
        *("school_id", "school_name", "stage", "students", "values", "met", "passed", "indicator", "shortfall"),
        *("units", "units_passed", "county_value", "cv", "cv_limit", "cv_passed", "cv_boundary"),
        *("composite", "composite_limit"),
    )
}
#: Unit keys the writer does not write (the stack's columns), read where an object has them.
_UNIT_EXTRA = {name: methodcaller("get", name) for name in ("school_type", "max_class_size")}
_FAULTS = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, pl.exceptions.PolarsError)


# ---------------------------------------------------------------------------------------------------------------
# Whole files


def _refuse(code: str, message: str, **where: Any) -> YoujunError:
    return YoujunError.single(code, message, **where)


def evaluation_documents(envelope: Any, *, file: str | None = None) -> list[dict[str, Any]]:
    """The county objects of a parsed evaluation JSON (``{"schema_version":…, "standard":…, "counties":[…]}``).

    Each object gets the envelope's ``schema_version`` and ``standard`` unless it names its own (as the web's stored
    objects name their rule set), so that ``stacked_from_documents`` can check and load them."""
    if not isinstance(envelope, Mapping) or not isinstance(envelope.get("counties"), list):
        raise _refuse(
            "evaluation_envelope", "评估结果应为含 schema_version、standard 和 counties 的 JSON 对象", file=file
        )
    version = envelope.get("schema_version")
    if version != SCHEMA_VERSION:
        raise _refuse(
            "evaluation_schema_version",
            f"评估结果的格式版本为 {version}，只能读取版本 {SCHEMA_VERSION}",
            file=file,
            field="schema_version",
            value=str(version),
        )
    standard = envelope.get("standard")
    if not isinstance(standard, str) or not standard:
        raise _refuse("evaluation_envelope", "评估结果未注明规则集（standard）", file=file, field="standard")
    documents: list[dict[str, Any]] = []
    for county in envelope["counties"]:
        if isinstance(county, dict):
            county.setdefault("schema_version", version)
            county.setdefault("standard", standard)
        documents.append(county)
    return documents


def read_evaluation_json(source: str | os.PathLike[str] | IO[bytes] | IO[str]) -> list[dict[str, Any]]:
    """The county objects of an evaluation JSON file (a path or an open stream), checked as
    ``evaluation_documents`` checks them."""
    name: str | None = None
    if isinstance(source, (str, os.PathLike)):
        name = Path(source).name
        try:
            text: str | bytes = Path(source).read_bytes()
        except FileNotFoundError:
            raise _refuse("evaluation_file", "找不到评估结果文件", file=name) from None
        except OSError as exc:
            raise _refuse("evaluation_file", f"无法读取评估结果文件（{exc.strerror or exc}）", file=name) from None
    else:
        text = source.read()
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refuse(
            "evaluation_json", f"评估结果不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）", file=name
        ) from None
    except UnicodeDecodeError:
        raise _refuse("evaluation_json", "评估结果不是 UTF-8 编码的 JSON", file=name) from None
    return evaluation_documents(envelope, file=name)


# ---------------------------------------------------------------------------------------------------------------
# The full check of one object (run only to explain why it cannot be read)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "文本"),
    "int": (_is_int, "整数"),
    "count": (lambda v: _is_int(v) and 0 <= v < 2**32, "非负整数"),
    "num": (lambda v: _is_int(v) or isinstance(v, float), "数值"),
    "bool": (lambda v: isinstance(v, bool), "true 或 false"),
}
#: A spec: a kind (``"num?"``: or null), a dict of keys → specs (an object; key ``*``: any keys, each value of that
#: spec), or a one-element list (a list of them).
Spec = str | dict[str, Any] | list[Any]


def _problem(value: Any, spec: Spec, path: str) -> tuple[str, str] | None:
    """The first (path, what is wrong) of ``value`` against ``spec``, or None."""
    if isinstance(spec, str):
        kind, optional = spec.removesuffix("?"), spec.endswith("?")
        if value is None and optional:
            return None
        test, name = _KINDS[kind]
        return None if test(value) else (path, f"应为{name}{'或 null' if optional else ''}")
    if isinstance(spec, list):
        if not isinstance(value, list):
            return path, "应为列表"
        for i, element in enumerate(value):
            if found := _problem(element, spec[0], f"{path}[{i}]"):
                return found
        return None
    if not isinstance(value, Mapping):
        return path, "应为 JSON 对象"
    if "*" in spec:  # an object of any keys, every value of the same spec
        for key, element in value.items():
            if found := _problem(element, spec["*"], f"{path}.{key}"):
                return found
        return None
    for key, inner in spec.items():
        where = f"{path}.{key}" if path else key
        if key not in value:
            return where, "缺少该项"
        if found := _problem(value[key], inner, where):
            return found
    return None


def _spec(rules: RuleSet, assessment: bool) -> dict[str, Any]:
    """What a county object written under ``rules`` holds (and this reader reads)."""
    codes = list(rules.indicators)
    stage: dict[str, Any] = {
        "units": "count",
        "units_passed": "count?",
        "students": "int",
        "county_value": dict.fromkeys(codes, "num?"),
        "cv": dict.fromkeys(codes, "num?"),
        "passed": "bool",
    }
    if rules.balance.cv_limit is not None:
        stage |= {"cv_limit": "num?", "cv_passed": dict.fromkeys(codes, "bool"), "cv_boundary": ["str"]}
    if _has_composite(rules):
        stage |= {"composite": "num?", "composite_limit": "num?"}
    unit: dict[str, Any] = {
        "school_id": "str",
        "school_name": "str",
        "stage": "str",
        "students": "int",
        "values": dict.fromkeys(codes, "num?"),
    }
    if _has_met(rules):
        unit |= {"met": dict.fromkeys(codes, "bool?"), "passed": "bool?"}
    shortfall = {"school_id": "str", "stage": "str", "indicator": "str", "shortfall": "num?"}
    spec: dict[str, Any] = {
        "county_code": "str",
        "county_name": "str",
        "year": "int",
        "resource_allocation": {
            "passed": "bool",
            "stages": {"*": stage},
            "units": [unit],
            "shortfalls": [shortfall],
        },
    }
    if assessment:
        item = {"code": "str", "name": "str", "status": "str", "value": "num?", "threshold": "num?"}
        item |= {"boundary": "bool", "detail": "str"}
        spec |= {section: {"items": [item]} for section in ITEM_LISTS}
        spec["social_recognition"] = item
        eligibility = {"status": "str", "years": "int?", "min_years": "int?", "detail": "str"}
        spec["verdict"] = {"status": "str", "parts": dict.fromkeys(PARTS, "str"), "eligibility": eligibility}
    return spec


# ---------------------------------------------------------------------------------------------------------------
# Reading the objects


def _has_met(rules: RuleSet) -> bool:
    """Whether units carry per-indicator verdicts (``met``, ``passed``): a per-school rule and every standard."""
    return rules.school_rule is not None and all(ind.standard for ind in rules.indicators.values())


def _has_composite(rules: RuleSet) -> bool:
    return rules.balance.composite == "mean" and rules.balance.composite_limit is not None


def _label(doc: Any, index: int) -> str:
    """How a message names the object: 华坪县（130101）2023 年 (or its place in the list when it cannot say)."""
    if not isinstance(doc, Mapping):
        return f"第 {index + 1} 个县（区）"
    code, name, year = doc.get("county_code"), doc.get("county_name"), doc.get("year")
    if isinstance(code, str):
        who = f"{name}（{code}）" if isinstance(name, str) else f"县（区）{code}"
    else:
        who = f"第 {index + 1} 个县（区）"
    return who + (f"{year} 年" if _is_int(year) else "（年度不明）")


@dataclass(slots=True)
class _Doc:
    index: int
    doc: Mapping[str, Any]
    year: int
    code: str
    name: str
    rules: RuleSet
    group: int
    assessment: bool

    @property
    def label(self) -> str:
        return _label(self.doc, self.index)


def _explained(d: _Doc, fallback: str) -> YoujunError:
    """The refusal of an object that could not be read: the full check says where, else ``fallback``."""
    found = _problem(d.doc, _spec(d.rules, d.assessment), "")
    if found is None:
        return _refuse("evaluation_document", f"{d.label}的评估结果无法读取：{fallback}")
    path, what = found
    return _refuse("evaluation_document", f"{d.label}的评估结果中「{path}」{what}", field=path)


@dataclass
class _Rules:
    """The rule set of each object: the year's given one, else the one it names (loaded once per reference)."""

    by_year: Mapping[int, RuleSet] | None
    load: Callable[[str], RuleSet]
    loaded: dict[str, RuleSet] = field(default_factory=dict)
    groups: list[RuleSet] = field(default_factory=list)

    def of(self, doc: Mapping[str, Any], year: int, label: str) -> tuple[RuleSet, int]:
        if self.by_year is not None and year in self.by_year:
            rules = self.by_year[year]
        else:
            ref = doc.get("standard")
            if not isinstance(ref, str) or not ref:
                raise _refuse(
                    "evaluation_standard",
                    f"{label}的评估结果未注明规则集（standard），请给出该年度的规则集",
                    field="standard",
                )
            if ref not in self.loaded:
                try:
                    self.loaded[ref] = self.load(ref)
                except YoujunError as exc:
                    raise _refuse(
                        "evaluation_standard", f"{label}的评估结果所用规则集「{ref}」无法载入：{exc}", value=ref
                    ) from None
            rules = self.loaded[ref]
        for i, known in enumerate(self.groups):
            if known is rules:
                return rules, i
        self.groups.append(rules)
        return rules, len(self.groups) - 1


def _heads(documents: Iterable[Mapping[str, Any]], rules: _Rules) -> list[_Doc]:
    """Every object with its identity and rule set, ordered by year and county; duplicates and other schema
    versions refused."""
    heads: list[_Doc] = []
    seen: dict[tuple[int, str], int] = {}
    for index, doc in enumerate(documents):
        label = _label(doc, index)
        if not isinstance(doc, Mapping):
            raise _refuse("evaluation_document", f"{label}的评估结果应为 JSON 对象")
        if "schema_version" in doc and doc["schema_version"] != SCHEMA_VERSION:
            version = doc["schema_version"]
            raise _refuse(
                "evaluation_schema_version",
                f"{label}的评估结果格式版本为 {version}，只能读取版本 {SCHEMA_VERSION}",
                field="schema_version",
                value=str(version),
            )
        code, name, year = doc.get("county_code"), doc.get("county_name"), doc.get("year")
        for key, ok, kind in (
            ("county_code", isinstance(code, str), "文本"),
            ("county_name", isinstance(name, str), "文本"),
            ("year", _is_int(year), "整数"),
            ("resource_allocation", isinstance(doc.get("resource_allocation"), Mapping), "JSON 对象"),
        ):
            if not ok:
                what = "缺少该项" if key not in doc else f"应为{kind}"
                raise _refuse("evaluation_document", f"{label}的评估结果中「{key}」{what}", field=key)
        assert isinstance(code, str) and isinstance(name, str) and isinstance(year, int)
        present = [s for s in ASSESSMENT_SECTIONS if s in doc]
        if present and len(present) < len(ASSESSMENT_SECTIONS):
            absent = next(s for s in ASSESSMENT_SECTIONS if s not in doc)
            raise _refuse("evaluation_document", f"{label}的评估结果中「{absent}」缺少该项", field=absent)
        if (year, code) in seen:
            raise _refuse("evaluation_duplicate", f"{label}的评估结果重复出现")
        seen[(year, code)] = index
        ruleset, group = rules.of(doc, year, label)
        heads.append(_Doc(index, doc, year, code, name, ruleset, group, bool(present)))
    heads.sort(key=lambda d: (d.year, d.code))
    return heads


def _codes(heads: Sequence[_Doc]) -> tuple[str, ...]:
    """The indicator codes, the same for every object (as ``stack`` requires of the years)."""
    codes: tuple[str, ...] | None = None
    for d in heads:
        these = tuple(d.rules.indicators)
        if codes is not None and these != codes:
            raise _refuse(
                "monitoring_codes",
                f"各年度评估的指标不一致：{'、'.join(codes)} 与 {'、'.join(these)}（{d.year} 年）",
                value=str(d.year),
            )
        codes = these
    return codes or ()


def _indicators_match(d: _Doc, codes: tuple[str, ...]) -> None:
    """The object's indicators are its rule set's (checked on its stages, else its first unit)."""
    ra = d.doc["resource_allocation"]
    stages, units = ra.get("stages"), ra.get("units")
    sample: Any = None
    if isinstance(stages, Mapping) and stages:
        sample = next(iter(stages.values()))
        sample = sample.get("county_value") if isinstance(sample, Mapping) else None
    elif isinstance(units, list) and units and isinstance(units[0], Mapping):
        sample = units[0].get("values")
    if isinstance(sample, Mapping) and set(sample) != set(codes):
        raise _refuse(
            "evaluation_indicators",
            f"{d.label}的评估结果的指标（{'、'.join(map(str, sample))}）与规则集「{d.rules.id}」的指标"
            f"（{'、'.join(codes)}）不一致",
        )


def _series(name: str, values: Sequence[Any], dtype: pl.DataType, heads: Sequence[_Doc]) -> pl.Series:
    """A strictly typed column; a value of another type refuses the object it came from."""
    try:
        return pl.Series(name, values, dtype=dtype, strict=True)
    except _FAULTS:
        pass
    for d in heads:
        if _problem(d.doc, _spec(d.rules, d.assessment), ""):
            raise _explained(d, name)
    raise _refuse("evaluation_document", f"评估结果的「{name}」无法读取")


def _extend(columns: Mapping[str, list[Any]], rows: Sequence[Any], fields: Iterable[str]) -> None:
    """Each of ``fields`` of every row onto its column: C-level maps, no Python frame per row."""
    for name in fields:
        columns[name].extend(map(_GETTERS[name], rows))


def _blank(columns: Mapping[str, list[Any]], n: int, fields: Iterable[str]) -> None:
    for name in fields:
        columns[name].extend(repeat(None, n))


def _stages(heads: Sequence[_Doc], codes: tuple[str, ...]) -> pl.DataFrame:
    """``ResourceEvaluation.stages`` of every object, in the engine's columns and order."""
    with_limit = any(d.rules.balance.cv_limit is not None for d in heads)
    with_composite = any(_has_composite(d.rules) for d in heads)
    names = ["year", "county_code", "stage", "county_name", "units", "students", "units_passed"]
    names += [f"{base}_{c}" for c in codes for base in ("county_value", "cv")]
    names.append("cv_limit")
    if with_limit:
        names += [f"{base}_{c}" for c in codes for base in ("cv_passed", "cv_boundary")]
    if with_composite:
        names += ["composite", "composite_limit"]
    names.append("passed")
    columns: dict[str, list[Any]] = {name: [] for name in names}
    by_code = [(code, itemgetter(code)) for code in codes]
    for d in heads:
        ranks = {stage: i for i, stage in enumerate(d.rules.stages)}
        try:
            stages = d.doc["resource_allocation"]["stages"]
            keys = sorted(stages, key=lambda s: ranks.get(s, len(ranks)))  # the engine's order, whatever the JSON's
            rows = [stages[k] for k in keys]
            n = len(rows)
            columns["year"].extend(repeat(d.year, n))
            columns["county_code"].extend(repeat(d.code, n))
            columns["stage"].extend(keys)
            columns["county_name"].extend(repeat(d.name, n))
            _extend(columns, rows, ("units", "students", "units_passed", "passed"))
            values, cvs = list(map(_GETTERS["county_value"], rows)), list(map(_GETTERS["cv"], rows))
            for code, get in by_code:
                columns[f"county_value_{code}"].extend(map(get, values))
                columns[f"cv_{code}"].extend(map(get, cvs))
            checks = [f"{base}_{c}" for c in codes for base in ("cv_passed", "cv_boundary")] if with_limit else []
            if d.rules.balance.cv_limit is not None:
                _extend(columns, rows, ("cv_limit",))
                verdicts = list(map(_GETTERS["cv_passed"], rows))
                boundaries = list(map(_GETTERS["cv_boundary"], rows))
                if not all(isinstance(b, list) for b in boundaries):
                    raise TypeError("cv_boundary")
                for code, get in by_code:
                    columns[f"cv_passed_{code}"].extend(map(get, verdicts))
                    columns[f"cv_boundary_{code}"].extend([code in b for b in boundaries])
            else:
                _blank(columns, n, ("cv_limit", *checks))
            if _has_composite(d.rules):
                _extend(columns, rows, ("composite", "composite_limit"))
            elif with_composite:
                _blank(columns, n, ("composite", "composite_limit"))
        except _FAULTS:
            raise _explained(d, "resource_allocation.stages") from None
    dtypes: dict[str, pl.DataType] = {**STAGE_SCHEMA, "units": pl.UInt32(), "units_passed": pl.UInt32()}
    return pl.DataFrame(
        [_series(name, values, dtypes.get(name, _stage_dtype(name)), heads) for name, values in columns.items()]
    )


def _stage_dtype(name: str) -> pl.DataType:
    return pl.Boolean() if name.startswith(("cv_passed_", "cv_boundary_")) else pl.Float64()


def _by_group(heads: Sequence[_Doc], expression: Callable[[RuleSet], pl.Expr]) -> pl.Expr:
    """``expression`` of each row's rule set (column ``_group``: the rule set's place in ``_Rules.groups``)."""
    groups: dict[int, RuleSet] = {d.group: d.rules for d in heads}
    if len(groups) == 1:
        return expression(next(iter(groups.values())))
    chosen: Any = pl
    for group, rules in groups.items():
        chosen = chosen.when(pl.col("_group") == group).then(expression(rules))
    result: pl.Expr = chosen.otherwise(None)
    return result


def _units(heads: Sequence[_Doc], codes: tuple[str, ...]) -> pl.DataFrame:
    """The units of every object (``UNIT_SCHEMA`` and the indicator columns), in the engine's order."""
    fields = ("school_id", "school_name", "stage", "students")
    values = [f"value_{c}" for c in codes]
    met = [f"met_{c}" for c in codes]
    columns: dict[str, list[Any]] = {name: [] for name in (*fields, "passed", *values, *met, *_UNIT_EXTRA)}
    gap_fields = ("school_id", "stage", "indicator", "shortfall")
    gap_columns: dict[str, list[Any]] = {name: [] for name in gap_fields}
    by_code = [(code, itemgetter(code)) for code in codes]
    counts: list[int] = []
    gap_counts: list[int] = []
    for d in heads:
        try:
            ra = d.doc["resource_allocation"]
            units = ra["units"]
            n = len(units)
            _extend(columns, units, fields)
            found = list(map(_GETTERS["values"], units))
            for code, get in by_code:
                columns[f"value_{code}"].extend(map(get, found))
            if _has_met(d.rules):
                _extend(columns, units, ("passed",))
                found = list(map(_GETTERS["met"], units))
                for code, get in by_code:
                    columns[f"met_{code}"].extend(map(get, found))
            else:
                _blank(columns, n, ("passed", *met))
            for name, optional in _UNIT_EXTRA.items():  # keys beyond the writer's, taken when present
                columns[name].extend(map(optional, units) if n and name in units[0] else repeat(None, n))
            counts.append(n)
            gaps = ra["shortfalls"]
            _extend(gap_columns, gaps, gap_fields)
            gap_counts.append(len(gaps))
        except _FAULTS:
            raise _explained(d, "resource_allocation.units") from None
    n = sum(counts)
    doc_of = np.repeat(np.arange(len(heads)), counts)
    identity = pl.DataFrame(
        {
            "year": [d.year for d in heads],
            "county_code": [d.code for d in heads],
            "county_name": [d.name for d in heads],
            "_group": [d.group for d in heads],
        },
        schema={"year": pl.Int64, "county_code": pl.String, "county_name": pl.String, "_group": pl.Int64},
    )[doc_of]
    types = {"school_id": pl.String(), "school_name": pl.String(), "stage": pl.String(), "students": pl.Int64()}
    types |= {"passed": pl.Boolean(), "school_type": pl.String(), "max_class_size": pl.Int64()}
    types |= dict.fromkeys(values, pl.Float64()) | dict.fromkeys(met, pl.Boolean())
    frame = identity.with_columns(
        *(_series(name, column, types[name], heads) for name, column in columns.items()),
        pl.Series("_row", np.arange(n), dtype=pl.Int64),
        pl.Series("_doc", doc_of, dtype=pl.Int64),
    )
    gaps = _shortfalls(frame, gap_columns, gap_counts, heads, codes)
    frame = frame.with_columns(
        *gaps,
        *(_by_group(heads, partial(_standard, code)).alias(f"standard_{code}") for code in codes),
        _by_group(heads, stage_order).alias("_rank"),
    )
    schema = {**UNIT_SCHEMA, **{f"{b}_{c}": t for c in codes for b, t in UNIT_INDICATOR_SCHEMA.items()}}
    ordered = frame.sort("year", "_rank", maintain_order=True)  # the objects are in year and county order
    return ordered.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def _standard(code: str, rules: RuleSet) -> pl.Expr:
    """The unit's standard as ``stack`` takes it."""
    return standard_of(code, rules) if rules.indicators[code].standard else pl.lit(None, pl.Float64)


def _shortfalls(
    units: pl.DataFrame,
    columns: Mapping[str, list[Any]],
    counts: list[int],
    heads: Sequence[_Doc],
    codes: tuple[str, ...],
) -> list[pl.Series]:
    """``shortfall_k`` of every unit: its entry of the county's ``shortfalls`` (null where it meets the indicator)."""
    n = units.height
    types = {"school_id": pl.String(), "stage": pl.String(), "indicator": pl.String(), "shortfall": pl.Float64()}
    gaps = pl.DataFrame(
        [
            pl.Series("_doc", np.repeat(np.arange(len(heads)), counts), dtype=pl.Int64),
            *(_series(name, column, types[name], heads) for name, column in columns.items()),
        ]
    )
    found = gaps.join(units.select("_doc", "school_id", "stage", "_row"), on=["_doc", "school_id", "stage"])
    rows, indicator = found["_row"].to_numpy(), found["indicator"].to_numpy()
    amount = found["shortfall"].fill_null(np.nan).to_numpy()
    result: list[pl.Series] = []
    for code in codes:
        column = np.full(n, np.nan)
        mine = indicator == code
        column[rows[mine]] = amount[mine]
        result.append(pl.Series(f"shortfall_{code}", column, dtype=pl.Float64).fill_nan(None))
    return result


def _counties(heads: Sequence[_Doc]) -> pl.DataFrame:
    """One row per object: the resource verdict and, for assessments, every part's status and the overall one."""
    columns: dict[str, list[Any]] = {name: [] for name in COUNTY_SCHEMA}
    for d in heads:
        try:
            ra = d.doc["resource_allocation"]
            parts: Mapping[str, Any] = d.doc["verdict"]["parts"] if d.assessment else {}
            status = d.doc["verdict"]["status"] if d.assessment else None
            # A county without school rows has no resource figures (the engine's county frame has no row for it).
            judged = parts.get("resource_allocation") != INSUFFICIENT
            stages = ra["stages"].values()
            columns["year"].append(d.year)
            columns["county_code"].append(d.code)
            columns["county_name"].append(d.name)
            columns["units"].append(sum(s["units"] for s in stages) if judged else None)
            columns["units_passed"].append(sum(s["units_passed"] or 0 for s in stages) if judged else None)
            columns["passed"].append(ra["passed"] if judged else None)
            for part in PARTS:
                columns[part].append(parts[part] if d.assessment else None)
            columns["status"].append(status)
        except _FAULTS:
            raise _explained(d, "verdict") from None
    return pl.DataFrame([_series(name, values, COUNTY_SCHEMA[name], heads) for name, values in columns.items()])


def _items(heads: Sequence[_Doc]) -> pl.DataFrame:
    """Every item of the assessments (``SERIES_ITEM_SCHEMA``): by year, part, county and the part's own order."""
    columns: dict[str, list[Any]] = {name: [] for name in _ITEM_FIELDS}
    parts: list[str] = []
    owners: list[int] = []  # the object of each row (its place in ``heads``)
    years: dict[int, list[int]] = {}
    for i, d in enumerate(heads):
        if d.assessment:
            years.setdefault(d.year, []).append(i)
    for members in years.values():
        for part in ITEM_PARTS:
            for i in members:
                d = heads[i]
                try:
                    if part == "eligibility":
                        found = [_eligibility(d)]
                    elif part == "social_recognition":
                        found = [d.doc["social_recognition"]]
                    else:
                        found = d.doc[part]["items"]
                    _extend(columns, found, _ITEM_FIELDS)
                except _FAULTS:
                    raise _explained(d, part) from None
                parts.extend(repeat(part, len(found)))
                owners.extend(repeat(i, len(found)))
    if not parts:
        return pl.DataFrame(schema=SERIES_ITEM_SCHEMA)
    index = np.asarray(owners)
    frame = pl.DataFrame(
        {
            "year": pl.Series([d.year for d in heads], dtype=pl.Int64)[index],
            "county_code": pl.Series([d.code for d in heads], dtype=pl.String)[index],
            "county_name": pl.Series([d.name for d in heads], dtype=pl.String)[index],
        }
    ).with_columns(
        pl.Series("part", parts, dtype=pl.String),
        *(_series(name, columns[name], SERIES_ITEM_SCHEMA[name], heads) for name in _ITEM_FIELDS),
    )
    return frame.select(list(SERIES_ITEM_SCHEMA))


def _eligibility(d: _Doc) -> dict[str, Any]:
    """The eligibility item of the verdict, as the engine's row (code ``eligibility``, its name from the rule set;
    the engine's eligibility has no boundary)."""
    found = d.doc["verdict"]["eligibility"]
    table = d.rules.sections.get("eligibility")
    name = table.get("name", ELIGIBILITY_NAME) if isinstance(table, Mapping) else ELIGIBILITY_NAME
    years, minimum = found["years"], found["min_years"]
    return {
        "code": "eligibility",
        "name": str(name),
        "status": found["status"],
        "value": None if years is None else float(years),
        "threshold": None if minimum is None else float(minimum),
        "boundary": False,
        "detail": found["detail"],
    }


def stacked_from_documents(
    documents: Iterable[Mapping[str, Any]],
    rules_by_year: Mapping[int, RuleSet] | None = None,
    *,
    load_rules: Callable[[str], RuleSet] | None = None,
    schools: pl.DataFrame | None = None,
) -> Stacked:
    """The county objects of the evaluation JSON (any counties, any years, one object per county-year) as the
    ``Stacked`` that ``youjun.engine.monitoring.stack`` makes of the engine objects they were written from.

    Each object's rule set (for the units' standards, the stage order and the eligibility item's name) is
    ``rules_by_year[year]`` when given, else the one its ``standard`` names, loaded by ``load_rules`` (default
    ``load_rule_set``; the web passes its own loader for uploaded rule sets). Objects of a whole file get the file's
    ``standard`` from ``read_evaluation_json`` / ``evaluation_documents``.

    ``schools`` (optional: the school rows of the years, as ``Context.schools`` takes them) gives the units'
    ``school_type`` and ``max_class_size`` where a unit object lacks them (documents written before the writer
    added them); without it they are null there."""
    resolver = _Rules(rules_by_year, load_rules or load_rule_set)
    heads = _heads(documents, resolver)
    codes = _codes(heads)
    if not heads:
        return Stacked(
            codes=(),
            stages=pl.DataFrame(schema=STAGE_SCHEMA),
            units=pl.DataFrame(schema=UNIT_SCHEMA),
            counties=pl.DataFrame(schema=COUNTY_SCHEMA),
            items=pl.DataFrame(schema=SERIES_ITEM_SCHEMA),
        )
    for d in heads:
        _indicators_match(d, codes)
    with _without_gc():
        units = _units(heads, codes)
        stacked = Stacked(
            codes=codes,
            stages=_stages(heads, codes),
            units=units if schools is None else _with_schools(units, schools),
            counties=_counties(heads),
            items=_items(heads),
        )
    return stacked


@contextmanager
def _without_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while the columns are built: they are hundreds of thousands of new
    tuples, and every collection they would start walks all the objects of the documents too (half the time at
    national scale). Reference counting frees everything as usual; the collector is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _with_schools(units: pl.DataFrame, schools: pl.DataFrame) -> pl.DataFrame:
    """``school_type`` and ``max_class_size`` (of the unit's stage) from the school rows, where the units lack them."""
    keys = ["year", "county_code", "school_id"]
    if absent := [c for c in keys if c not in schools.columns]:
        raise _refuse("monitoring_context", f"学校表缺少列：{'、'.join(absent)}", field=absent[0])
    stages = [s for s in ALL_STAGES if f"max_class_size_{s}" in schools.columns]
    school_type = pl.col("school_type") if "school_type" in schools.columns else pl.lit(None)
    taken = schools.select(
        pl.col("year").cast(pl.Int64),
        pl.col("county_code").cast(pl.String),
        pl.col("school_id").cast(pl.String),
        school_type.cast(pl.String).alias("_type"),
        *(pl.col(f"max_class_size_{s}").cast(pl.Int64).alias(f"_size_{s}") for s in stages),
    ).unique(keys, keep="first", maintain_order=True)
    size: pl.Expr = pl.lit(None, pl.Int64)
    for stage in stages:
        size = pl.when(pl.col("stage") == stage).then(pl.col(f"_size_{stage}")).otherwise(size)
    joined = units.join(taken, on=keys, how="left", maintain_order="left")
    return joined.with_columns(
        pl.coalesce("school_type", "_type").alias("school_type"),
        pl.coalesce("max_class_size", size).alias("max_class_size"),
    ).select(units.columns)


__all__ = [
    "COUNTY_SCHEMA",
    "evaluation_documents",
    "read_evaluation_json",
    "stacked_from_documents",
]
