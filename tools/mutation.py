"""A small, targeted mutation check: do the tests notice when a comparison, a rounding or a trigger is wrong?

Run by hand (``make test`` does not): ``python tools/mutation.py [--only engine|web] [-k TEXT] [--list]``.

Each mutant is one deliberate mistake — a 不低于 (≥) read as "above" (>), a tolerance applied the wrong way, a
limit moved, a rule skipped, a recompute trigger dropped — in the engine's comparisons and rounding, the rule set's
limits, or the web's ``county_data_changed`` triggers. For each mutant the test files named with it run (SQLite,
stopping at the first failure); a failing run *kills* the mutant, a passing one lets it *survive*: then a test is
missing, unless the mutant is marked equivalent (no input can tell it apart; the reason is printed).

The working tree is never written. The project (``src``, ``tests``, ``pyproject.toml``) is copied to a temporary
directory and the tests run there against that copy (``PYTHONPATH``; no bytecode is written, so a mutant is always
recompiled); each mutated file is restored from its original bytes in a ``finally`` block and its SHA-256 checked
against the original before the next mutant; the copy is deleted at the end. A mutant whose text is not found
exactly once (the file changed since the list was written) is reported as *stale* and makes the exit status 2.

Exit status: 0 when every non-equivalent mutant was killed, 1 when one survived, 2 when the check could not run
as written (stale mutants, failing baseline).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("src", "tests", "pyproject.toml")
PYTEST = ["-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider", "--hypothesis-seed=0"]
#: Extra pytest arguments per group: the engine's tests need no Django (saves its start-up on every run).
GROUP_ARGS = {"engine": ["-p", "no:django", "-W", "ignore::pytest.PytestConfigWarning"], "web": []}
TIMEOUT = 600  # seconds per test run; a mutant that makes the tests hang counts as killed (timeout)


@dataclass(frozen=True)
class Mutant:
    """One mistake: ``old`` replaced by ``new`` in ``path`` (inside function ``within`` when given).

    ``old`` must occur exactly once in the searched text. With ``drop_call``, ``old`` is the name of a function
    and every call statement of it inside ``within`` becomes ``None`` (the call is dropped, the code still parses).
    """

    name: str
    group: str  # "engine" or "web"
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    within: str = ""
    drop_call: bool = False
    equivalent: str = ""  # why no test can tell this mutant apart (reported, not scored)


class Stale(Exception):
    """The mutant's text is not (or not exactly once) in the file: the list needs updating."""


# ---------------------------------------------------------------------------------------------------------------
# The mutants

THRESHOLDS = "tests/test_thresholds.py"
PRECISION = "src/youjun/engine/precision.py"
ITEMS = "src/youjun/engine/items.py"
BALANCE = "src/youjun/engine/balance.py"
RESOURCES = "src/youjun/engine/resources.py"
ASSESSMENT = "src/youjun/engine/assessment.py"
GUARANTEE = "src/youjun/engine/guarantee.py"
QUALITY = "src/youjun/engine/quality.py"
RECOGNITION = "src/youjun/engine/recognition.py"
NATIONAL = "src/youjun/standards/rulesets/national-2017.toml"

T_PRECISION = (THRESHOLDS, PRECISION, "tests/test_resources.py", "tests/test_exactness.py")
T_ITEMS = (THRESHOLDS, "tests/test_exactness.py", "tests/test_guarantee.py", "tests/test_quality.py")
T_BALANCE = (
    THRESHOLDS,
    "tests/test_balance.py",
    "tests/test_worked_examples.py",
    "tests/test_resources.py",
    "tests/test_assessment.py",
)
T_RESOURCES = (THRESHOLDS, RESOURCES, "tests/test_resources.py", "tests/test_exactness.py")
T_ASSESSMENT = ("tests/test_assessment.py", THRESHOLDS, "tests/test_exactness.py")
T_GUARANTEE = (THRESHOLDS, "tests/test_exactness.py", "tests/test_guarantee.py")
T_QUALITY = (THRESHOLDS, "tests/test_quality.py", "tests/test_exactness.py")
T_RECOGNITION = (THRESHOLDS, "tests/test_recognition.py")
T_RULESET = (THRESHOLDS, "tests/test_resources.py", "tests/test_assessment.py")

T_COLLECTION = ("tests/web/test_stale_results.py", "tests/web/test_collection_views.py")
T_ASSESSMENT_WEB = ("tests/web/test_stale_results.py", "tests/web/test_assessment.py")
T_SURVEY = ("tests/web/test_stale_results.py", "tests/web/test_survey.py", "tests/web/test_survey_integrity.py")
COLLECTION = "src/youjun/web/collection/services.py"
ASSESSMENT_WEB = "src/youjun/web/assessment/services.py"
SURVEY = "src/youjun/web/survey/services.py"


def _engine(
    name: str, path: str, old: str, new: str, tests: Sequence[str], within: str = "", equivalent: str = ""
) -> Mutant:
    return Mutant(name, "engine", path, old, new, tuple(tests), within, equivalent=equivalent)


def _web(name: str, path: str, old: str, new: str, tests: Sequence[str], within: str, drop: bool = False) -> Mutant:
    return Mutant(name, "web", path, old, new, tuple(tests), within, drop_call=drop)


MUTANTS: tuple[Mutant, ...] = (
    # precision.py: comparisons as the standard reads them, half-up rounding
    _engine(
        "at_least reads 不低于 as >",
        PRECISION,
        ">= threshold * (1 - precision.tolerance)",
        "> threshold * (1 - precision.tolerance)",
        T_PRECISION,
        "at_least",
    ),
    _engine(
        "at_least applies the tolerance against the value",
        PRECISION,
        "threshold * (1 - precision.tolerance)",
        "threshold * (1 + precision.tolerance)",
        T_PRECISION,
        "at_least",
    ),
    _engine(
        "at_most reads 不超过 as <",
        PRECISION,
        "<= limit * (1 + precision.tolerance)",
        "< limit * (1 + precision.tolerance)",
        T_PRECISION,
        "at_most",
    ),
    _engine(
        "at_most applies the tolerance against the value",
        PRECISION,
        "limit * (1 + precision.tolerance)",
        "limit * (1 - precision.tolerance)",
        T_PRECISION,
        "at_most",
    ),
    _engine(
        "rounded comparison switched the wrong way",
        PRECISION,
        'if precision.compare == "rounded":',
        'if precision.compare != "rounded":',
        T_PRECISION,
        "compared",
    ),
    _engine(
        "half-up rounding truncates",
        PRECISION,
        "(1 + tolerance) + 0.5).floor()",
        "(1 + tolerance)).floor()",
        T_PRECISION,
        "round_half_up",
    ),
    _engine(
        "half-up rounding pushes 2.675 down",
        PRECISION,
        "scale * (1 + tolerance) + 0.5",
        "scale * (1 - tolerance) + 0.5",
        T_PRECISION,
        "round_half_up",
    ),
    _engine(
        "half-up rounding loses the sign",
        PRECISION,
        "pl.when(value < 0)",
        "pl.when(value > 0)",
        T_PRECISION,
        "round_half_up",
    ),
    _engine(
        "scalar half-up rounding pushes 2.675 down",
        PRECISION,
        "scale * (1 + tolerance) + 0.5",
        "scale * (1 - tolerance) + 0.5",
        T_PRECISION,
        "round_half_up_scalar",
    ),
    # items.py: the four comparison words, the boundary marker, school items and their county figure
    _engine(
        "boundary reading of 不低于 as >",
        ITEMS,
        "return value >= threshold * (1 - tolerance)",
        "return value > threshold * (1 - tolerance)",
        T_ITEMS,
        "_reading",
    ),
    _engine(
        "boundary reading of 不超过 as <",
        ITEMS,
        "return value <= threshold * (1 + tolerance)",
        "return value < threshold * (1 + tolerance)",
        T_ITEMS,
        "_reading",
    ),
    _engine(
        "boundary reading of 低于 as ≤",
        ITEMS,
        "return ~(value >= threshold * (1 - tolerance))",
        "return ~(value > threshold * (1 - tolerance))",
        T_ITEMS,
        "_reading",
    ),
    _engine(
        "boundary reading of 超过 as ≥",
        ITEMS,
        "return ~(value <= threshold * (1 + tolerance))",
        "return ~(value < threshold * (1 + tolerance))",
        T_ITEMS,
        "_reading",
    ),
    _engine(
        "低于 read as 不超过",
        ITEMS,
        "return ~self.at_least(value, limit, unit)",
        "return self.at_most(value, limit, unit)",
        T_ITEMS,
        "Item.below",
    ),
    _engine(
        "超过 read as 不低于",
        ITEMS,
        "return ~self.at_most(value, limit, unit)",
        "return self.at_least(value, limit, unit)",
        T_ITEMS,
        "Item.above",
    ),
    _engine(
        "a ratio over a zero denominator is computed",
        ITEMS,
        "pl.when(denominator > 0)",
        "pl.when(denominator >= 0)",
        T_ITEMS,
        "ratio",
    ),
    _engine(
        "rates compared rounded as fractions, not percentages",
        ITEMS,
        'extra = PERCENT_DIGITS if (self.unit if unit is None else unit) == "%" else 0',
        "extra = 0",
        T_ITEMS,
        "Item.decimals",
    ),
    _engine(
        "a school item fails only with two failing schools",
        ITEMS,
        'pl.when(pl.col("_not_met") > 0)\n        .then(pl.lit(False))',
        'pl.when(pl.col("_not_met") > 1)\n        .then(pl.lit(False))',
        T_ITEMS,
        "_school_county_rows",
    ),
    _engine(
        "the county rate of G9/G12 is ignored",
        ITEMS,
        "ok = every & county_rate.ok",
        "ok = every",
        T_ITEMS,
        "_school_county_rows",
        equivalent="Σ trained ÷ Σ teachers is the teacher-weighted mean of the school rates, so it reaches the "
        "rate whenever every school does (the only case in which the county check decides; half-up rounding and the "
        "tolerance are monotonic): the county rate is shown, never decisive",
    ),
    _engine(
        "an item without applicable schools is unknown",
        ITEMS,
        "ok = pl.when(none_apply).then(pl.lit(True)).otherwise(ok)",
        "ok = pl.when(none_apply).then(pl.lit(None, pl.Boolean)).otherwise(ok)",
        T_ITEMS,
        "_school_county_rows",
    ),
    _engine(
        "a reviewer's 达标 reads as not met",
        ITEMS,
        "pl.when(column == PASS_VERDICT)\n        .then(pl.lit(True))",
        "pl.when(column == PASS_VERDICT)\n        .then(pl.lit(False))",
        T_ITEMS,
        "verdict_ok",
    ),
    # balance.py: the CV limits, the weighted population form, the per-school rule in the county verdict
    _engine(
        "CV ≤ limit read as <",
        BALANCE,
        "full = (cv <= limit_expr * (1 + tolerance))",
        "full = (cv < limit_expr * (1 + tolerance))",
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "CV tolerance applied against the CV",
        BALANCE,
        "full = (cv <= limit_expr * (1 + tolerance))",
        "full = (cv <= limit_expr * (1 - tolerance))",
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "rounded CV ≤ limit read as <",
        BALANCE,
        "rounded = (round_half_up(cv, decimals, tolerance) <= limit_expr",
        "rounded = (round_half_up(cv, decimals, tolerance) < limit_expr",
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "rounded and unrounded CV readings swapped",
        BALANCE,
        '(rounded if precision.compare == "rounded" else full)',
        '(full if precision.compare == "rounded" else rounded)',
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "CV in the sample form (P − 1)",
        BALANCE,
        "cv = np.sqrt(deviations / total) / mean",
        "cv = np.sqrt(deviations / (total - 1)) / mean",
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "county mean unweighted",
        BALANCE,
        "mean = ind.per * groups.sum(a) / total",
        "mean = groups.sum(x) / size",
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "a failing school unit does not fail the county",
        BALANCE,
        'else pl.col("units_passed") == pl.col("units")',
        "else pl.lit(True)",
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "the 2012 composite is not checked",
        BALANCE,
        "cv_ok = cv_ok & at_most(",
        "cv_ok = cv_ok | at_most(",
        T_BALANCE,
        "balance_by_stage",
    ),
    _engine(
        "a single unit's CV taken from the computation",
        BALANCE,
        "cv = np.where(size == 1, rules.balance.single_unit_cv, cv)",
        "cv = cv",
        T_BALANCE,
        "balance_by_stage",
        equivalent="one unit has no deviation, so its computed CV is 0 (the rule set's value) or, with a zero "
        "mean, undefined either way (the next line)",
    ),
    # resources.py: the per-school rule (≥ 6 of 7 met, the rest ≥ 85 %), shortfalls, relaxation conditions
    _engine(
        "six of seven read as more than six",
        RESOURCES,
        '(pl.col("n_met") >= rule.min_met)',
        '(pl.col("n_met") > rule.min_met)',
        T_RESOURCES,
        "school_unit_passes",
    ),
    _engine(
        "85 % floor read as above 85 %",
        RESOURCES,
        "pl.min_horizontal(compared_ratios) >= rule.min_ratio",
        "pl.min_horizontal(compared_ratios) > rule.min_ratio",
        T_RESOURCES,
        "school_unit_passes",
    ),
    _engine(
        "85 % floor tolerance applied against the value",
        RESOURCES,
        "rule.min_ratio * (1 - precision.tolerance)",
        "rule.min_ratio * (1 + precision.tolerance)",
        T_RESOURCES,
        "school_unit_passes",
    ),
    _engine(
        "85 % floor checked on the best indicator",
        RESOURCES,
        "pl.min_horizontal(compared_ratios)",
        "pl.max_horizontal(compared_ratios)",
        T_RESOURCES,
        "school_unit_passes",
    ),
    _engine(
        "85 % floor ignores the rule set's rounding",
        RESOURCES,
        'compared(pl.col(f"value_{c}"), precision, decimals)',
        'pl.col(f"value_{c}")',
        T_RESOURCES,
        "school_unit_passes",
    ),
    _engine(
        "shortfall of whole teachers rounded down",
        RESOURCES,
        "missing = (missing * (1 - precision.tolerance)).ceil()",
        "missing = (missing * (1 - precision.tolerance)).floor()",
        T_RESOURCES,
        "school_unit_passes",
    ),
    _engine(
        "relaxation minimum pupils read as >",
        RESOURCES,
        'pl.col("students") >= cond.min_students',
        'pl.col("students") > cond.min_students',
        T_RESOURCES,
        "_condition",
    ),
    _engine(
        "relaxation maximum pupils read as <",
        RESOURCES,
        'pl.col("students") <= cond.max_students',
        'pl.col("students") < cond.max_students',
        T_RESOURCES,
        "_condition",
    ),
    # assessment.py: verdict aggregation, eligibility, S1 inputs, reasons
    _engine(
        "an unknown part does not hold the verdict open",
        ASSESSMENT,
        ".when(pl.any_horizontal([s == INSUFFICIENT for s in statuses]))",
        ".when(pl.any_horizontal([s == NOT_MET for s in statuses]))",
        T_ASSESSMENT,
        "assess",
    ),
    _engine(
        "an unknown part outranks a failing one",
        ASSESSMENT,
        "pl.when(pl.any_horizontal([s == NOT_MET for s in statuses]))\n        .then(pl.lit(NOT_MET))",
        "pl.when(pl.any_horizontal([s == INSUFFICIENT for s in statuses]))\n        .then(pl.lit(INSUFFICIENT))",
        T_ASSESSMENT,
        "assess",
    ),
    _engine(
        "a part without any item counts as met",
        ASSESSMENT,
        "pl.col(list(PARTS)).fill_null(INSUFFICIENT)",
        "pl.col(list(PARTS)).fill_null(MET)",
        T_ASSESSMENT,
        "assess",
    ),
    _engine(
        "a failing item does not fail its part",
        ASSESSMENT,
        'pl.when((pl.col("status") == NOT_MET).any())',
        'pl.when((pl.col("status") == "never").any())',
        T_ASSESSMENT,
        "_part_status",
    ),
    _engine(
        "an unknown item does not hold its part open",
        ASSESSMENT,
        '.when((pl.col("status") == INSUFFICIENT).any())',
        '.when((pl.col("status") == "never").any())',
        T_ASSESSMENT,
        "_part_status",
    ),
    _engine(
        "three years read as more than three",
        ASSESSMENT,
        "ok=years >= minimum,",
        "ok=years > minimum,",
        T_ASSESSMENT,
        "eligibility_check",
    ),
    _engine(
        "all answers positive is refused",
        ASSESSMENT,
        "pl.when(positive <= valid)",
        "pl.when(positive < valid)",
        T_ASSESSMENT,
        "recognition_check",
    ),
    _engine(
        "a county without schools passes its resources",
        ASSESSMENT,
        'pl.when(pl.col("passed").is_null())\n        .then(pl.lit(INSUFFICIENT))',
        'pl.when(pl.col("passed").is_null())\n        .then(pl.lit(MET))',
        T_ASSESSMENT,
        "_resource_reasons",
    ),
    _engine(
        "what is unknown ranks before what fails",
        ASSESSMENT,
        '(pl.col("status") == INSUFFICIENT).alias("_tier")',
        '(pl.col("status") == NOT_MET).alias("_tier")',
        T_ASSESSMENT,
        "_ranked",
    ),
    # guarantee.py and quality.py: comparisons written in the evaluators themselves
    _engine(
        "G3 small schools: below 30 read as ≤ 30",
        GUARANTEE,
        "(_largest_class(item) < below)",
        "(_largest_class(item) <= below)",
        T_GUARANTEE,
        "music_art_rooms",
    ),
    _engine(
        "G3 built in 2016 read as before 2016",
        GUARANTEE,
        'eligible = pl.col("built_year") <= built_max',
        'eligible = pl.col("built_year") < built_max',
        T_GUARANTEE,
        "music_art_rooms",
    ),
    _engine(
        "G3 rooms per 12 classes rounded down",
        GUARANTEE,
        "required = (classes / per).ceil()",
        "required = (classes / per).floor()",
        T_GUARANTEE,
        "music_art_rooms",
    ),
    _engine(
        "G4 built in 2010 read as before 2010",
        GUARANTEE,
        '(pl.col("built_year") <= built_max)',
        '(pl.col("built_year") < built_max)',
        T_GUARANTEE,
        "school_size",
    ),
    _engine(
        "Q9 below 0.15 read as ≤ 0.15",
        QUALITY,
        "ok=~at_least(rate, limit, precision, precision.compare_cv_decimals),",
        "ok=rate <= limit,",
        T_QUALITY,
        "monitoring",
    ),
    _engine(
        "Q9 level Ⅲ read as above Ⅲ",
        QUALITY,
        "level_ok = rank(level, levels) >= minimum",
        "level_ok = rank(level, levels) > minimum",
        T_QUALITY,
        "monitoring",
    ),
    _engine(
        "Q6 良好 read as above 良好",
        QUALITY,
        "ok = rank(rating, scale) >= minimum",
        "ok = rank(rating, scale) > minimum",
        T_QUALITY,
        "moral_education",
    ),
    # recognition.py: the survey's own S1 reading
    _engine(
        "survey S1 tolerance applied against the rate",
        RECOGNITION,
        "self.rate >= self.threshold - TOLERANCE",
        "self.rate >= self.threshold + TOLERANCE",
        T_RECOGNITION,
        "Recognition.passed",
    ),
    _engine(
        "survey S1 reads 85 % as above 85 %",
        RECOGNITION,
        "self.rate >= self.threshold - TOLERANCE",
        "self.rate > self.threshold - TOLERANCE",
        T_RECOGNITION,
        "Recognition.passed",
        equivalent="the fixed tolerance (1e-12) already counts a rate at the threshold as above "
        "threshold − 1e-12; the two differ only for a rate of exactly 0.849999999999 (a share of "
        "answers never is)",
    ),
    _engine(
        "valid returns tolerance applied against the count",
        RECOGNITION,
        "returns >= rules.valid_return_min * sample - 1e-9",
        "returns >= rules.valid_return_min * sample + 1e-9",
        T_RECOGNITION,
        "valid_return_ok",
    ),
    # The national rule set's limits (data, but a wrong digit there is the same mistake)
    _engine(
        "primary CV limit 0.50 → 0.51",
        NATIONAL,
        "cv_limit = { primary = 0.50, junior = 0.45 }",
        "cv_limit = { primary = 0.51, junior = 0.45 }",
        T_RULESET,
    ),
    _engine(
        "junior CV limit 0.45 → 0.46",
        NATIONAL,
        "cv_limit = { primary = 0.50, junior = 0.45 }",
        "cv_limit = { primary = 0.50, junior = 0.46 }",
        T_RULESET,
    ),
    _engine("per-school floor 85 % → 84 %", NATIONAL, "min_ratio = 0.85", "min_ratio = 0.84", T_RULESET),
    _engine("S1 threshold 85 % → 84 %", NATIONAL, "threshold = 0.85\n", "threshold = 0.84\n", T_RULESET),
    _engine("no tolerance in the national rule set", NATIONAL, "tolerance = 1e-9 ", "tolerance = 0.0 ", T_RULESET),
    # Web: the recompute triggers (decision 31)
    _web(
        "approval and unlock do not recompute", COLLECTION, "county_data_changed", "", T_COLLECTION, "move_record", True
    ),
    _web(
        "a single approval leaves the recompute to a caller",
        COLLECTION,
        "recompute=recompute",
        "recompute=False",
        T_COLLECTION,
        "move_record",
    ),
    _web(
        "unlocking does not recompute",
        COLLECTION,
        "if RecordStatus.APPROVED in move:",
        "if target == RecordStatus.APPROVED:",
        T_COLLECTION,
        "move_record",
    ),
    _web(
        "bulk approval does not recompute", COLLECTION, "county_data_changed", "", T_COLLECTION, "approve_records", True
    ),
    _web("county inputs do not recompute", ASSESSMENT_WEB, "county_data_changed", "", T_ASSESSMENT_WEB, "_store", True),
    _web(
        "a verdict does not recompute", ASSESSMENT_WEB, "county_data_changed", "", T_ASSESSMENT_WEB, "add_review", True
    ),
    _web(
        "a finding does not recompute", ASSESSMENT_WEB, "county_data_changed", "", T_ASSESSMENT_WEB, "add_finding", True
    ),
    _web("closing a survey does not recompute", SURVEY, "county_data_changed", "", T_SURVEY, "_refresh", True),
    _web(
        "reopening a survey does not recompute",
        SURVEY,
        "if action in (CampaignAction.CLOSE, CampaignAction.REOPEN):",
        "if action in (CampaignAction.CLOSE,):",
        T_SURVEY,
        "transition",
    ),
)


# ---------------------------------------------------------------------------------------------------------------
# Applying a mutant


def _function_span(tree: ast.Module, dotted: str) -> tuple[int, int]:
    """First and last line (1-based) of function ``dotted`` ("name" or "Class.name")."""
    scope: Iterable[ast.stmt] = tree.body
    node: ast.stmt | None = None
    for part in dotted.split("."):
        node = next(
            (
                n
                for n in scope
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == part
            ),
            None,
        )
        if node is None:
            raise Stale(f"no function {dotted}")
        scope = node.body  # type: ignore[attr-defined]
    assert node is not None and node.end_lineno is not None
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first, node.end_lineno


def _offsets(text: str) -> list[int]:
    """Character offset of the start of each line (index 0 is line 1)."""
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    return starts


def mutated(source: str, mutant: Mutant) -> str:
    """The source with the mutant applied (raises ``Stale`` when its text is not found as expected)."""
    if mutant.path.endswith(".py"):
        tree = ast.parse(source)
        first, last = _function_span(tree, mutant.within) if mutant.within else (1, source.count("\n") + 1)
        starts = _offsets(source)
        begin = starts[first - 1]
        end = starts[last] if last < len(starts) else len(source)
    else:
        tree, begin, end = None, 0, len(source)
    if mutant.drop_call:
        assert tree is not None and mutant.within
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Expr)
            and isinstance(n.value, ast.Call)
            and getattr(n.value.func, "id", getattr(n.value.func, "attr", None)) == mutant.old
            and first <= n.lineno <= last
        ]
        if not calls:
            raise Stale(f"no call of {mutant.old} in {mutant.within}")
        starts = _offsets(source)
        pieces, cursor = [], 0
        for call in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
            assert call.end_lineno is not None and call.end_col_offset is not None
            start = starts[call.lineno - 1] + call.col_offset
            stop = starts[call.end_lineno - 1] + call.end_col_offset
            pieces += [source[cursor:start], "None"]
            cursor = stop
        result = "".join([*pieces, source[cursor:]])
    else:
        region = source[begin:end]
        count = region.count(mutant.old)
        if count != 1:
            where = f" in {mutant.within}" if mutant.within else ""
            raise Stale(f"found {count} times{where}: {mutant.old!r}")
        result = source[:begin] + region.replace(mutant.old, mutant.new) + source[end:]
    if result == source:
        raise Stale("the mutant changes nothing")
    if mutant.path.endswith(".py"):
        compile(result, mutant.path, "exec")  # a mutant must still be valid Python
    return result


# ---------------------------------------------------------------------------------------------------------------
# Running


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare(target: Path) -> dict[str, str]:
    """Copy the project into ``target``; the environment that makes its tests use that copy and SQLite."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("YOUJUN_")}
    env |= {
        "PYTHONPATH": str(target / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "YOUJUN_DATA_DIR": str(target / "var"),
        "XDG_STATE_HOME": str(target / "var" / "state"),
        "PYTHONHASHSEED": "0",
    }
    probe = subprocess.run(
        [sys.executable, "-c", "import youjun; print(youjun.__file__)"],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    if not Path(probe.stdout.strip()).resolve().is_relative_to(target.resolve()):
        raise SystemExit(f"the copy's package is not the one imported: {probe.stdout.strip()}")
    return env


@dataclass
class Outcome:
    verdict: str  # killed, survived, timeout, stale
    seconds: float
    detail: str = ""


def run_tests(copy: Path, env: dict[str, str], group: str, tests: Sequence[str]) -> tuple[bool, float, str]:
    """Run ``tests`` in the copy: (passed, seconds, the first failure's line)."""
    start = time.monotonic()
    command = [sys.executable, *PYTEST, *GROUP_ARGS[group], *tests]
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - start, "timeout"
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    detail = failed[0] if failed else (done.stdout.strip().splitlines() or [""])[-1]
    return done.returncode == 0, time.monotonic() - start, detail


def try_mutant(copy: Path, env: dict[str, str], mutant: Mutant) -> Outcome:
    path = copy / mutant.path
    original = path.read_bytes()
    digest = _sha256(original)
    try:
        text = mutated(original.decode("utf-8"), mutant)
    except Stale as exc:
        return Outcome("stale", 0.0, str(exc))
    try:
        path.write_bytes(text.encode("utf-8"))
        passed, seconds, detail = run_tests(copy, env, mutant.group, mutant.tests)
    finally:
        path.write_bytes(original)
        if _sha256(path.read_bytes()) != digest:
            raise SystemExit(f"could not restore {mutant.path} in the copy: stopping")
    if detail == "timeout":
        return Outcome("timeout", seconds, "the tests hung")
    return Outcome("survived" if passed else "killed", seconds, detail)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=["engine", "web"], help="only the engine's or only the web's mutants")
    parser.add_argument("-k", dest="keyword", default="", help="only mutants whose name contains this text")
    parser.add_argument("--list", action="store_true", help="list the mutants and their test files, run nothing")
    parser.add_argument(
        "--equivalent", action="store_true", help="also run the mutants marked equivalent (they should survive)"
    )
    args = parser.parse_args(argv)
    # A terminated run still restores the copy's file and removes the copy (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    selected = [
        m for m in MUTANTS if (args.only is None or m.group == args.only) and args.keyword.lower() in m.name.lower()
    ]
    chosen = [m for m in selected if args.list or args.equivalent or not m.equivalent]
    skipped = [m for m in selected if m not in chosen]
    if args.list:
        for m in chosen:
            flag = "  (equivalent)" if m.equivalent else ""
            print(f"{m.group:6} {m.path}{'::' + m.within if m.within else ''}: {m.name}{flag}")
            print(f"         {' '.join(m.tests)}")
        return 0
    if not chosen:
        print("no mutant matches")
        return 2
    for name in COPIED:
        if not (ROOT / name).exists():
            raise SystemExit(f"{name} is missing beside tools/")
    originals = {m.path: _sha256((ROOT / m.path).read_bytes()) for m in chosen if (ROOT / m.path).exists()}
    with tempfile.TemporaryDirectory(prefix="youjun-mutation-") as folder:
        copy = Path(folder)
        env = prepare(copy)
        for group in dict.fromkeys(m.group for m in chosen):  # the tests must pass before anything is mutated
            union = list(dict.fromkeys(t for m in chosen if m.group == group for t in m.tests))
            print(f"baseline ({group}): {len(union)} test files on the unmutated copy …", flush=True)
            passed, seconds, detail = run_tests(copy, env, group, union)
            if not passed:
                print(f"the baseline fails ({seconds:.0f} s): {detail}")
                return 2
            print(f"baseline passed in {seconds:.0f} s", flush=True)
        print(flush=True)
        outcomes: list[tuple[Mutant, Outcome]] = []
        for i, mutant in enumerate(chosen, start=1):
            outcome = try_mutant(copy, env, mutant)
            outcomes.append((mutant, outcome))
            label = outcome.verdict + (" (equivalent)" if mutant.equivalent and outcome.verdict == "survived" else "")
            where = f"{Path(mutant.path).name}{'::' + mutant.within if mutant.within else ''}"
            print(f"[{i:2}/{len(chosen)}] {label:22} {where}: {mutant.name}  ({outcome.seconds:.0f} s)", flush=True)
            if outcome.verdict == "killed":
                print(f"          by {outcome.detail}", flush=True)
            elif outcome.verdict == "stale":
                print(f"          {outcome.detail}", flush=True)
    for path, digest in originals.items():  # the working tree was never written; say so if it changed meanwhile
        if _sha256((ROOT / path).read_bytes()) != digest:
            print(f"note: {path} changed in the working tree during the run (others' edits)")
    scored = [(m, o) for m, o in outcomes if o.verdict != "stale" and not m.equivalent]
    killed = sum(o.verdict in ("killed", "timeout") for _, o in scored)
    survivors = [m for m, o in scored if o.verdict == "survived"]
    equivalent = [(m, o) for m, o in outcomes if m.equivalent and o.verdict != "stale"]
    stale = [m for m, o in outcomes if o.verdict == "stale"]
    print(f"\nscore: {killed}/{len(scored)} killed" + (f" ({100 * killed / len(scored):.0f} %)" if scored else ""))
    for m in survivors:
        print(f"  survived: {m.name} ({m.path})")
    for m, o in equivalent:
        print(f"  equivalent, {o.verdict}: {m.name} — {m.equivalent}")
    for m in skipped:
        print(f"  equivalent, not run (--equivalent runs it): {m.name} — {m.equivalent}")
    for m in stale:
        print(f"  stale: {m.name} ({m.path}) — update the mutant list")
    if stale:
        return 2
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
