"""Recognition procedures as versioned data: one TOML file per year of the national recognition (国家认定) and per
re-check procedure, in ``procedures/`` beside the rule sets, validated as a whole (every mistake reported, in
Chinese, with its dotted key).

A procedure names its steps in order. Each step has an ``actor`` (who acts: county, prefecture, province, ministry or
an expert group), a ``kind`` (what the code does at it: an application, a review by a level, the province's
application to the ministry, the eligibility check from the data, quality-monitoring results, the national survey,
the item-by-item indicator review, an inspection with findings, the ministry's decision; for re-checks the county's
self-check, a re-check and its decision), what it ``needs`` (documents, data, the survey, evidence) and its
``outcomes``, each of which either lets the case go on (``next``), sends it back to the step before (``back``) or
ends it (``end``, with the case's final state). A new year is a new file; code never names a year's steps.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from youjun.errors import YoujunError
from youjun.standards.tables import TableReader, join

PROCEDURES_DIR: Final = Path(__file__).with_name("procedures")

#: Who acts at a step (an expert acts only on the counties assigned to them).
ACTORS: Final = {"county": "县级", "prefecture": "市级", "province": "省级", "ministry": "教育部", "expert": "专家组"}
#: What the code does at a step, and the actors that may hold it.
KINDS: Final = {
    "application": ("县级申请", ("county",)),
    "review": ("审核", ("prefecture", "province")),
    "province_application": ("省级申报", ("province",)),
    "eligibility": ("资格审查", ("ministry",)),
    "quality": ("质量监测", ("ministry", "expert")),
    "survey": ("社会认可度调查", ("ministry",)),
    "indicator_review": ("指标审核", ("expert", "ministry")),
    "inspection": ("核查", ("expert", "province", "ministry")),
    "decision": ("认定决定", ("ministry", "province")),
    "self_check": ("县级自查", ("county",)),
}
#: What a step may need, as the pages name it.
NEEDS: Final = {
    "self_evaluation_report": "自评报告",
    "application_form": "申报表",
    "evidence": "佐证材料",
    "snapshot": "申请时的数据与评估结果快照",
    "review_opinion": "审核意见",
    "on_site_record": "实地核查记录",
    "quality_results": "质量监测结果",
    "survey_results": "社会认可度调查结果",
    "item_comments": "逐项审核意见",
    "findings": "问题清单",
    "schools_visited": "核查的学校",
}
#: What an outcome does to the case.
EFFECTS: Final = {"next": "进入下一环节", "back": "退回上一环节", "end": "办结"}
#: The final states an ``end`` outcome may give a case.
FINAL_STATES: Final = {
    "recognised": "已认定",
    "not_recognised": "未通过认定",
    "withdrawn": "已撤回",
    "maintained": "保持认定",
    "rectify": "限期整改",
    "revoked": "撤销认定",
}
PROCEDURE_KINDS: Final = {"recognition": "国家认定", "recheck": "复查"}


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    label: str
    effect: str  # next | back | end
    state: str = ""  # the case's final state, for ``end``
    reason_required: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    name: str
    actor: str
    kind: str
    needs: tuple[str, ...]
    outcomes: tuple[Outcome, ...]
    note: str = ""
    optional: bool = False  # a level that may be skipped (a province without prefecture review)
    deadline: dt.date | None = None
    quota: int | None = None  # counties a province may apply for at this step

    def outcome(self, key: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.key == key), None)


@dataclass(frozen=True, slots=True)
class Procedure:
    id: str
    name: str
    kind: str  # recognition | recheck
    year: int
    basis: tuple[str, ...]
    steps: tuple[Step, ...]
    min_basic_balance_years: int = 0
    note: str = ""

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    def index(self, key: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.key == key)

    def after(self, key: str) -> Step | None:
        """The step after ``key`` (None after the last)."""
        i = self.index(key)
        return self.steps[i + 1] if i + 1 < len(self.steps) else None

    def before(self, key: str) -> Step | None:
        i = self.index(key)
        return self.steps[i - 1] if i > 0 else None


def available_procedures() -> list[str]:
    return sorted(p.stem for p in PROCEDURES_DIR.glob("*.toml"))


def _outcomes(r: TableReader, raw: Any, path: str) -> tuple[Outcome, ...]:
    if not isinstance(raw, list) or not raw:
        r.fail(path, "应为至少一项的结果列表（[[steps.outcomes]]）", raw)
        return ()
    out, seen = [], set()
    for n, item in enumerate(raw):
        where = f"{path}[{n}]"
        if not isinstance(item, dict):
            r.fail(where, "应为表（table）", item)
            continue
        r.unknown(item, ("key", "label", "effect", "state", "reason_required"), where)
        key = r.get(item, "key", where, str)
        if key in seen:
            r.fail(join(where, "key"), f"结果「{key}」重复")
        seen.add(key)
        effect = r.get(item, "effect", where, str, choices=tuple(EFFECTS))
        state = r.get(item, "state", where, str, "")
        if effect == "end" and state not in FINAL_STATES:
            r.fail(join(where, "state"), "办结的结果须给出最终状态：" + " / ".join(FINAL_STATES), state or None)
        if effect != "end" and state:
            r.fail(join(where, "state"), '只有办结（effect = "end"）的结果才有最终状态', state)
        out.append(
            Outcome(
                key, r.get(item, "label", where, str), effect, state, r.get(item, "reason_required", where, bool, False)
            )
        )
    return tuple(out)


def _step(r: TableReader, raw: Any, path: str) -> Step | None:
    if not isinstance(raw, dict):
        r.fail(path, "应为表（table）", raw)
        return None
    known = ("key", "name", "actor", "kind", "needs", "outcomes", "note", "optional", "deadline", "quota")
    r.unknown(raw, known, path)
    actor = r.get(raw, "actor", path, str, choices=tuple(ACTORS))
    kind = r.get(raw, "kind", path, str, choices=tuple(KINDS))
    if kind in KINDS and actor in ACTORS and actor not in KINDS[kind][1]:
        allowed = "、".join(ACTORS[a] for a in KINDS[kind][1])
        r.fail(join(path, "actor"), f"「{KINDS[kind][0]}」环节只能由{allowed}办理", actor)
    needs = r.strings(raw, "needs", path, ())
    for need in needs:
        if need not in NEEDS:
            r.fail(join(path, "needs"), "未知的材料：" + need + "（可用：" + "、".join(NEEDS) + "）", need)
    deadline = raw.get("deadline")
    if deadline is not None and not isinstance(deadline, dt.date):
        r.fail(join(path, "deadline"), "应为日期，如 2025-06-30", deadline)
        deadline = None
    quota = r.get(raw, "quota", path, int, None, ge=1)
    return Step(
        key=r.get(raw, "key", path, str),
        name=r.get(raw, "name", path, str),
        actor=actor,
        kind=kind,
        needs=needs,
        outcomes=_outcomes(r, raw.get("outcomes"), join(path, "outcomes")),
        note=r.get(raw, "note", path, str, ""),
        optional=r.get(raw, "optional", path, bool, False),
        deadline=deadline,
        quota=quota,
    )


def parse_procedure(data: Mapping[str, Any], file: str) -> Procedure:
    """A procedure from its parsed TOML; every mistake of the file is reported at once."""
    r = TableReader(file, "procedure_invalid")
    r.unknown(data, ("procedure", "steps"), "")
    head = r.table(data, "procedure", "")
    r.unknown(head, ("id", "name", "kind", "year", "basis", "min_basic_balance_years", "note"), "procedure")
    raw_steps = data.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        r.fail("steps", "缺少环节（[[steps]]）")
    else:
        for n, raw in enumerate(raw_steps):
            step = _step(r, raw, f"steps[{n}]")
            if step is not None:
                steps.append(step)
    keys = [s.key for s in steps]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        r.fail("steps", f"环节「{key}」重复")
    if steps:
        first = steps[0]
        if first.outcomes and not any(o.effect == "next" for o in first.outcomes):
            r.fail("steps[0].outcomes", "第一个环节至少要有一个进入下一环节的结果")
        if any(o.effect == "back" for o in first.outcomes):
            r.fail("steps[0].outcomes", "第一个环节没有可退回的上一环节")
        last = steps[-1]
        if any(o.effect == "next" for o in last.outcomes):
            r.fail(f"steps[{len(steps) - 1}].outcomes", '最后一个环节的结果应办结（effect = "end"），没有下一环节')
        if first.optional:
            r.fail("steps[0].optional", "第一个环节不能省略")
    kind = r.get(head, "kind", "procedure", str, choices=tuple(PROCEDURE_KINDS))
    if kind == "recognition" and steps and not any(s.kind == "decision" for s in steps):
        r.fail("steps", '国家认定程序须有「认定决定」（kind = "decision"）环节')
    if r.problems:
        raise YoujunError(r.problems)
    return Procedure(
        id=r.get(head, "id", "procedure", str),
        name=r.get(head, "name", "procedure", str),
        kind=kind,
        year=r.get(head, "year", "procedure", int, ge=2017, le=2100),
        basis=r.strings(head, "basis", "procedure", ()),
        steps=tuple(steps),
        min_basic_balance_years=r.get(head, "min_basic_balance_years", "procedure", int, 0, ge=0),
        note=r.get(head, "note", "procedure", str, ""),
    )


@functools.cache
def _cached(path: Path, stamp: float) -> Procedure:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise YoujunError.single("procedure_invalid", f"程序文件「{path.name}」不是有效的 TOML：{exc}") from None
    found = parse_procedure(data, path.name)
    if found.id != path.stem:
        raise YoujunError.single(
            "procedure_invalid", f"程序文件「{path.name}」的 id 应为「{path.stem}」，是「{found.id}」"
        )
    return found


def load_procedure(ref: str) -> Procedure:
    """A shipped procedure by id (``recognition-2024``) or a procedure file by path."""
    path = Path(ref) if ref.endswith(".toml") else PROCEDURES_DIR / f"{ref}.toml"
    if not path.exists():
        known = "、".join(available_procedures())
        raise YoujunError.single("procedure_unknown", f"找不到认定程序「{ref}」。可用的程序：{known}")
    return _cached(path.resolve(), path.stat().st_mtime)


def procedure_for(kind: str, year: int) -> Procedure | None:
    """The shipped procedure of ``kind`` for ``year``: that year's file, else the latest earlier one."""
    found = [load_procedure(i) for i in available_procedures()]
    fitting = [p for p in found if p.kind == kind and p.year <= year]
    return max(fitting, key=lambda p: p.year) if fitting else None
