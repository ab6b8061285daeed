"""The planner in a real browser, on a desktop and on a phone: a pilot county opens the planner, copies its approved
year into a scenario, takes a school's rooms away (the scenario now fails), has the plan computed and sees its cost,
applies it in the scenario and sees "达标", compares it with the reported data, and adopts it into its
implementation plan, whose page then shows the adopted cost and the per-school tasks.
Screenshots: ``test-artifacts/planning-<viewport>-*.png``.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from browser import conftest
from browser.conftest import DESKTOP, PHONE, add_account, login, shot
from browser.pages import messages, submit

RUNS = {"desktop": (DESKTOP, "320113"), "phone": (PHONE, "320115")}

#: A pilot of its own: synthetic approved schools, their stored result, a published batch and its confirmation.
PILOT_CODE = """
import datetime as dt
from django.utils import timezone
from youjun.io.synth import generate
from youjun.web.collection.loading import load_frame, onto_real_counties
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import Batch, Nomination
code, = {args!r}
county = OrgUnit.objects.get(code=code)
if not SchoolRecord.objects.filter(county=county).exists():
    load_frame(onto_real_counties(generate(1, 77, year=2024, province="32").schools, [county]), RecordStatus.APPROVED)
    recompute(county, 2024)
batch, _ = Batch.objects.get_or_create(number=77, defaults={{"name": "规划测试批次", "year": 2026,
    "deadline": timezone.now(), "status": "published", "published_on": dt.date(2026, 11, 30)}})
Nomination.objects.get_or_create(batch=batch, county=county, defaults={{"province": county.parent.parent,
    "status": "confirmed", "form_id": "recommendation-2021", "form_version": "1"}})
"""


def make_pilot(code: str) -> None:
    script = PILOT_CODE.format(args=(code,))
    subprocess.run([*conftest.MANAGE, "shell", "-c", script], env=conftest.SERVER_ENV, check=True, timeout=300)


@pytest.mark.parametrize("run", sorted(RUNS))
def test_county_plans_applies_sees_pass_and_adopts(server: str, new_page: Any, run: str) -> None:
    viewport, code = RUNS[run]
    make_pilot(code)
    user = add_account(f"planner-{code}", "county", "规划测试县教育局", unit=code)
    page = new_page(viewport)
    login(page, server, user)
    if run == "phone":
        page.click(".menu-button")
    page.click("nav >> text=达标规划")
    page.wait_for_load_state()
    assert page.url.endswith("/planning/")
    page.fill("#new-name", "达标试算")
    submit(page, "#new-scenario")
    assert "情景：达标试算" in page.locator("h1").inner_text()
    shot(page, f"planning-{run}-scenario")
    # Take most of the largest primary school's rooms away: the scenario fails.
    school = page.locator("#edit-school option").nth(0).get_attribute("value")
    page.select_option("#edit-school", school)
    page.select_option("#edit form[aria-label=修改数值] select[name=kind]", "set")
    page.select_option("#edit-field", "teaching_aux_area")
    page.fill("#edit-value", "1")
    submit(page, "#edit-go")
    assert "教学及辅助用房" in messages(page, "success")
    assert "未达标" in page.locator("#verdict").inner_text()
    submit(page, "#make-plan")
    assert "已生成方案" in messages(page, "success"), page.locator("main").inner_text()[:1500]
    cost = page.locator("#plan-cost").inner_text()
    assert re.fullmatch(r"[\d,]+", cost) and int(cost.replace(",", "")) > 0
    assert page.locator("#plan-actions tbody tr").count() >= 1
    shot(page, f"planning-{run}-plan")
    submit(page, "#apply-plan")
    assert "应用规划方案" in messages(page, "success")
    verdict = page.locator("#verdict").inner_text()
    assert "达标" in verdict and "未达标" not in verdict
    shot(page, f"planning-{run}-applied")
    page.click("text=情景对比")
    page.wait_for_load_state()
    assert page.locator("#compare").count() == 1 and "达标试算" in page.locator("#compare").inner_text()
    page.go_back()
    page.wait_for_load_state()
    submit(page, "#adopt")
    assert "已纳入实施方案" in messages(page, "success"), page.locator("main").inner_text()[:1500]
    assert "/programme/county/" in page.url
    assert page.locator("#adopted-cost").inner_text() == cost
    tasks = page.locator("table.tasks").inner_text()
    assert "新增" in tasks and cost.split(",")[0] in tasks
    shot(page, f"planning-{run}-adopted")
