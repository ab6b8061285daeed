"""The one evaluation pipeline: gather a county-year's inputs, run the engine once, store the result with its stamps.

Inputs come through the selectors the lower apps expose: the approved school records
(``collection.selectors.approved_frame``), the county row of the full assessment — county inputs, the reviewers'
latest verdicts and findings, the closed survey (``assessment.selectors.counties_frame``); the rule set in force
for the county-year comes from ``rulesets.services``. The stored result is the county object of the evaluation JSON
(docs/assessment-json.md); pages only read it. Every trigger reaches this module through the signal below.

Stored results are never silently stale (decision 31): every change that can alter a result sends
``youjun.web.signals.data_changed`` in its own transaction; the receiver here increments the county-year's
``EvaluationState.generation`` in that same transaction and recomputes after the commit. A recompute takes the
county-year's lock before it reads anything, so two recomputes of one county-year run one after the other and the
later one reads the later data; the result carries the generation it read, the engine version and the rule-set
digest. A failed recompute is logged and recorded on the state (the page says so); it never turns the request that
changed the data into an error.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from youjun.engine import ENGINE_VERSION, assess
from youjun.io.evaluation_json import to_dict
from youjun.standards.model import RuleSet
from youjun.web.assessment.services import counties_frame, county_values
from youjun.web.collection.selectors import approved_frame
from youjun.web.evaluation.models import CountyEvaluation, EvaluationState
from youjun.web.organisation.models import OrgUnit
from youjun.web.rulesets import services as rulesets

log = logging.getLogger("youjun.evaluation")
#: Keys of the county row that are not county data of the year: its identity and the standing basic-balance year.
IDENTITY = {"year", "county_code", "county_name", "basic_balance_year"}


def _county_document(county: OrgUnit, year: int, schools: pl.DataFrame, rules: RuleSet) -> dict[str, Any]:
    """The county's JSON object of the full assessment (docs/assessment-json.md)."""
    return dict(to_dict(assess(schools, counties_frame(county, year), rules))["counties"][0])


def has_county_data(county: OrgUnit, year: int) -> bool:
    return any(v is not None for k, v in county_values(county, year).items() if k not in IDENTITY)


def _serialised(county: OrgUnit, year: int) -> EvaluationState:
    """Take the county-year's recompute lock for the rest of the transaction, then read its state.

    PostgreSQL: a transaction-level advisory lock on (county, year), so that data changes (which only increment
    the state's generation) never wait for a recompute. SQLite: the write lock of the IMMEDIATE transaction (the
    UPDATE below takes it at the latest), which serialises every writer of the embedded database anyway.
    """
    state, _ = EvaluationState.objects.get_or_create(county=county, year=year)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [int(county.pk), int(year)])
    EvaluationState.objects.filter(pk=state.pk).update(locked_at=timezone.now())
    state.refresh_from_db()
    return state


def mark_changed(county: OrgUnit, year: int) -> None:
    """Increment the county-year's generation (inside the transaction that changed its inputs)."""
    state, _ = EvaluationState.objects.get_or_create(county=county, year=year)
    EvaluationState.objects.filter(pk=state.pk).update(generation=F("generation") + 1, changed_at=timezone.now())


def recompute(county: OrgUnit, year: int) -> CountyEvaluation | None:
    """Evaluate the county's approved data and county inputs for the year under the rule set in force; drop the
    stored result if there are neither. With county inputs but no approved school record the result judges what it
    can (decision 18) and its resource part is unjudged (``passed`` null). One stored result per county-year: a
    result under another rule set (the province's assignment changed) is replaced."""
    with transaction.atomic():
        state = _serialised(county, year)
        standard = rulesets.ref_for(county, year)
        rules = rulesets.load(standard)
        frame = approved_frame(county, year)
        CountyEvaluation.objects.filter(county=county, year=year).exclude(standard=standard).delete()
        if frame.height == 0 and not has_county_data(county, year):
            CountyEvaluation.objects.filter(county=county, year=year).delete()
            EvaluationState.objects.filter(pk=state.pk).update(failed_at=None, error="")
            return None
        doc = _county_document(county, year, frame, rules)
        doc |= {"standard": standard, "standard_name": rules.name}  # additive keys: the rules that made it
        ra = doc["resource_allocation"]
        stages = ra["stages"].values()
        evaluation, _ = CountyEvaluation.objects.update_or_create(
            county=county,
            year=year,
            standard=standard,
            defaults={
                "passed": None if ra.get("status") == "insufficient_data" else bool(ra["passed"]),
                "units": sum(s["units"] for s in stages),
                "units_passed": sum(s["units_passed"] for s in stages),
                "result": doc,
                "engine_version": ENGINE_VERSION,
                "ruleset_digest": rules.digest,
                "generation": state.generation,
            },
        )
        EvaluationState.objects.filter(pk=state.pk).update(failed_at=None, error="")
    return evaluation


def recompute_safely(county: OrgUnit, year: int) -> bool:
    """Recompute; a failure is logged and recorded on the county-year's state, never raised. True on success."""
    try:
        recompute(county, year)
    except Exception as exc:  # the data change that triggered it stands; the page shows "结果待更新" and why
        log.exception("recompute of %s %s failed", county.code, year)
        message = str(getattr(exc, "message", "") or exc)[:500] or type(exc).__name__
        try:
            state, _ = EvaluationState.objects.get_or_create(county=county, year=year)
            EvaluationState.objects.filter(pk=state.pk).update(failed_at=timezone.now(), error=message)
        except Exception:
            log.error("could not record the failure of %s %s: %s", county.code, year, traceback.format_exc())
        return False
    return True


#: How a recompute is scheduled: after the commit of the transaction that changed the data. (Tests whose every
#: request runs inside one test transaction that never commits replace it by a direct call.)
after_commit: Callable[[Callable[[], Any]], None] = transaction.on_commit

#: Attempts of a background recompute before it is left failed (the page then says why); the waits between them.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=5))


def is_current(county: OrgUnit, year: int) -> bool:
    """The stored result (or its absence) already reflects the county-year's latest data, engine and rule set."""
    state = EvaluationState.objects.filter(county=county, year=year).only("generation", "failed_at").first()
    stored = CountyEvaluation.objects.filter(county=county, year=year).first()
    if state is None or state.failed_at is not None:
        return False
    if stored is None:
        return False
    return not staleness(stored, county, year)["stale"]


@task()
def recompute_job(county_id: int, year: int, attempt: int = 1) -> str:
    """The background recompute of one county-year: idempotent (nothing to do when the result is current), retried
    after a failure, and failed for good (visible to administrators) after the last attempt."""
    county = OrgUnit.objects.filter(pk=county_id).first()
    if county is None:
        return "单位已不存在"
    if is_current(county, year):
        return "结果已是最新"
    if recompute_safely(county, year):
        return "已重新计算"
    if attempt <= len(RETRY_DELAYS):
        recompute_job.using(run_after=timezone.now() + RETRY_DELAYS[attempt - 1]).enqueue(county_id, year, attempt + 1)
        return f"第 {attempt} 次计算失败，已安排重试"
    state = EvaluationState.objects.filter(county=county, year=year).first()
    raise RuntimeError(f"{county.code} {year} 年重新计算 {attempt} 次均失败：{state.error if state else ''}")


def _jobs(county: OrgUnit, year: int) -> Any:
    from django_tasks_db.models import DBTaskResult

    task_path = f"{recompute_job.func.__module__}.{recompute_job.func.__qualname__}"
    return DBTaskResult.objects.filter(task_path=task_path, args_kwargs__args__0=county.pk, args_kwargs__args__1=year)


def _queued(county: OrgUnit, year: int) -> bool:
    """A recompute of this county-year is already waiting (coalescing: one queued job covers every change)."""
    return bool(_jobs(county, year).ready().exists())


def _waiting(county: OrgUnit, year: int) -> bool:
    """A recompute of this county-year is queued or running (the page says so and refreshes itself)."""
    from django_tasks.base import TaskResultStatus

    return bool(_jobs(county, year).filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists())


def computing(county: OrgUnit, year: int) -> bool:
    """A background recompute of the county-year is queued or running (pages wait for it instead of "no result")."""
    return _background() and _waiting(county, year)


def _background() -> bool:
    return recompute_job.get_backend().__class__.__name__ == "DatabaseBackend"


def schedule(county: OrgUnit, year: int) -> None:
    """Recompute in the background (the task system), one queued job per county-year; in the request itself when the
    task backend runs jobs at once (``YOUJUN_TASKS=immediate``, tests)."""
    try:
        if _background() and _queued(county, year):
            return
        recompute_job.enqueue(county.pk, year)
    except Exception:  # the queue itself failed: the data change stands, the page says "结果待更新"
        log.exception("could not schedule the recompute of %s %s", county.code, year)


def on_data_changed(sender: Any, *, county: OrgUnit, year: int, recompute: bool = True, **kwargs: Any) -> None:
    """Receiver of ``youjun.web.signals.data_changed``: stale now, recomputed (in the background) after the commit."""
    mark_changed(county, year)
    if recompute:
        after_commit(lambda: schedule(county, year))


def staleness(evaluation: CountyEvaluation | None, county: OrgUnit, year: int) -> dict[str, Any]:
    """Why the stored result is behind (empty when it is current): newer data, another engine or rule set, a
    failed recompute. Pages show "结果待更新" with these reasons."""
    state = EvaluationState.objects.filter(county=county, year=year).first()
    reasons = []
    if evaluation is not None:
        if state is not None and state.generation > evaluation.generation:
            reasons.append("数据已有变化，评估结果尚未按最新数据重新计算")
        if evaluation.engine_version != ENGINE_VERSION:
            reasons.append("计算程序已升级，评估结果尚未按新版本重新计算")
        in_force = rulesets.ref_for(county, year)
        if evaluation.standard != in_force:
            reasons.append(f"本省已改用「{rulesets.load(in_force).name}」，评估结果尚未按该规则集重新计算")
        elif evaluation.ruleset_digest != rulesets.load(in_force).digest:
            reasons.append("规则集已修改，评估结果尚未按新规则重新计算")
    elif state is not None and state.generation > 0 and state.failed_at is not None:
        reasons.append("尚未生成评估结果")
    failed = state is not None and state.failed_at is not None
    stale = bool(reasons) or failed
    return {
        "stale": stale,
        "queued": stale and _background() and _waiting(county, year),
        "reasons": reasons,
        "failed_at": state.failed_at if failed and state else None,
        "error": state.error if failed and state else "",
    }
