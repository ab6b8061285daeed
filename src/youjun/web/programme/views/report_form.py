"""A progress report as a form (new and draft reports share it): the stored report shown, the posted one
parsed and checked field by field, and the rows the form shows (tasks, the chosen items' experiences).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import Plan, ProgressReport, TaskStatus
from youjun.web.programme.views.common import MAX_TEXT
from youjun.web.programme.views.pilots import Errors, _error
from youjun.web.programme.views.plan_form import _basic_title, _ordered_tasks


@dataclass
class ReportForm:
    period: str = ""
    summary: str = ""
    tasks: dict[str, dict[str, str]] = field(default_factory=dict)
    experiences: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: Errors = field(default_factory=list)
    field_errors: dict[str, str] = field(default_factory=dict)


def _report_form_of(report: ProgressReport) -> ReportForm:
    return ReportForm(
        period=report.period,
        summary=report.summary,
        tasks={k: dict(v) for k, v in report.task_status.items()},
        experiences={e.item: {"title": e.title, "text": e.text} for e in report.experiences.all()},
    )


def _posted_report(request: HttpRequest, p: Plan) -> ReportForm:
    post = request.POST
    form = ReportForm(period=post.get("period", "").strip(), summary=post.get("summary", "").strip())

    def fail(id_: str, label: str, message: str) -> None:
        form.field_errors[id_] = _error(form.errors, id_, label, message)

    if not form.period:
        fail("f-period", "报告期", "请填写报告期，如「2027 年上半年」。")
    elif len(form.period) > 40:
        fail("f-period", "报告期", f"报告期最多 40 字，现有 {len(form.period)} 字。")
    if len(form.summary) > MAX_TEXT:
        fail("f-summary", "总体进展", f"最多 {MAX_TEXT} 字，现有 {len(form.summary)} 字。")
    for t in _ordered_tasks(p):
        status = post.get(f"status-{t.pk}", t.status)
        note = post.get(f"note-{t.pk}", "").strip()
        if len(note) > 1000:
            fail(
                f"note-{t.pk}",
                f"{t.code} {_basic_title(t.code, t.title, t.source)} · 说明",
                f"最多 1000 字，现有 {len(note)} 字。",
            )
        form.tasks[str(t.pk)] = {"status": status if status in TaskStatus.values else t.status, "note": note}
    items = catalogue().by_code()
    for code in p.items:
        title = post.get(f"exp-title-{code}", "").strip()
        text = post.get(f"exp-text-{code}", "").strip()
        if not (title or text):
            continue
        form.experiences[code] = {"title": title, "text": text}
        label = items[code].label if code in items else code
        if not text:
            fail(f"exp-text-{code}", f"{label} · 经验做法", "已填写标题，请填写经验做法（或清空标题）。")
        elif len(text) > MAX_TEXT:
            fail(f"exp-text-{code}", f"{label} · 经验做法", f"最多 {MAX_TEXT} 字，现有 {len(text)} 字。")
        if len(title) > 200:
            fail(f"exp-title-{code}", f"{label} · 标题", f"标题最多 200 字，现有 {len(title)} 字。")
    return form


def _experiences_of(form: ReportForm) -> list[dict[str, str]]:
    items = catalogue().by_code()
    return [
        {"item": code, "title": e["title"] or (items[code].name if code in items else code)[:200], "text": e["text"]}
        for code, e in form.experiences.items()
    ]


def _form_context(p: Plan, form: ReportForm) -> dict[str, Any]:
    """The report form's rows: tasks with their status and note, and the chosen items under their group headings."""
    rows = []
    for t in _ordered_tasks(p):
        posted = form.tasks.get(str(t.pk), {})
        rows.append(
            {
                "task": t,
                "title": _basic_title(t.code, t.title, t.source),
                "status": posted.get("status", t.status),
                "note": posted.get("note", ""),
                "error": form.field_errors.get(f"note-{t.pk}", ""),
            }
        )
    groups = [
        {
            "g": g,
            "items": [
                {
                    "item": i,
                    "title": form.experiences.get(i.code, {}).get("title", ""),
                    "text": form.experiences.get(i.code, {}).get("text", ""),
                    "title_error": form.field_errors.get(f"exp-title-{i.code}", ""),
                    "text_error": form.field_errors.get(f"exp-text-{i.code}", ""),
                }
                for i in items
            ],
        }
        for g, items in catalogue().grouped(p.items)
    ]
    return {"form": form, "task_rows": rows, "exp_groups": groups, "statuses": TaskStatus.choices}
