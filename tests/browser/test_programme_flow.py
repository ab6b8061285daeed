"""The creation programme in a real browser, once on a desktop and once on a phone viewport.

Each run is the whole story on its own batch and counties: the ministry opens a batch (quota 2–2) → 安徽省 and
江苏省 nominate two counties each and complete the recommendation forms (江苏省's third nomination is refused: over
quota) → both sign off and submit → the ministry records its verdicts on conditions 1 and 3, confirms the four and
publishes the list → the public page (no login) shows them by province → the pilot county writes its plan, the
province accepts it, the county files a progress report with an experience write-up and submits it.
Screenshots: ``test-artifacts/programme-<viewport>-*.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from browser.conftest import DESKTOP, PHONE, login, shot

RUNS = {
    "desktop": {
        "viewport": DESKTOP,
        "anhui": ("340207", "340209"),
        "jiangsu": ("320102", "320104"),
        "over": "320105",
        "pilot": ("demo-county", "340207"),
    },
    "phone": {
        "viewport": PHONE,
        "anhui": ("340202", "340212"),
        "jiangsu": ("320105", "320106"),
        "over": "320111",
        "pilot": ("demo-county2", "340202"),
    },
}
NAMES = {
    "340207": "鸠江区",
    "340209": "弋江区",
    "340202": "镜湖区",
    "340212": "繁昌区",
    "320102": "玄武区",
    "320104": "秦淮区",
    "320105": "建邺区",
    "320106": "鼓楼区",
}

FILL_REQUIRED = """form => {
  for (const el of form.querySelectorAll('[data-required]')) {
    if (el.value) continue;
    if (el.tagName === 'SELECT') { el.selectedIndex = 1; continue; }
    if (el.type === 'number') { el.value = el.dataset.type === 'year' ? '2026' : '1'; continue; }
    el.value = '浏览器测试填写';
  }
  for (const group of form.querySelectorAll('div.checks')) {
    if (!group.querySelector('input:checked')) group.querySelector('input').checked = true;
  }
}"""


def submit(page: Any, selector: str) -> Any:
    with page.expect_navigation():
        page.locator(selector).first.click()


def messages(page: Any, kind: str) -> str:
    return " ".join(page.locator(f"ul.messages li.{kind}").all_inner_texts())


def session(new_page: Any, viewport: dict[str, int], server: str, username: str) -> Any:
    page = new_page(viewport)
    login(page, server, username)
    return page


def nominate(page: Any, server: str, number: str, province: str, county: str) -> str:
    page.goto(f"{server}/programme/batch/{number}/province/{province}/")
    page.select_option("#nominate-form select[name=county]", county)
    submit(page, "#nominate-form button")
    return str(page.url)


def complete_form(page: Any) -> None:
    page.eval_on_selector("#recommendation-form", FILL_REQUIRED)
    submit(page, "#recommendation-form button[type=submit]")
    assert "推荐表已保存。" in messages(page, "success")
    assert page.locator(".alert.warn").count() == 0, page.locator(".alert.warn").inner_text()


@pytest.mark.parametrize("run", sorted(RUNS))
def test_programme_flow(server: str, new_page: Any, run: str) -> None:
    cfg = RUNS[run]
    viewport = cfg["viewport"]

    # The ministry opens a batch.
    ministry = session(new_page, viewport, server, "demo-ministry")
    ministry.goto(f"{server}/programme/batches/new/")
    ministry.fill("input[name=name]", f"浏览器测试批次（{run}）")
    ministry.fill("input[name=quota_min]", "2")
    ministry.fill("input[name=quota_max]", "2")
    submit(ministry, "#batch-form button")
    number = re.search(r"/programme/batch/(\d+)/", ministry.url).group(1)  # type: ignore[union-attr]
    submit(ministry, "form[action$='/move/open/'] button")
    assert ministry.locator("#batch-status").inner_text() == "推荐中"
    shot(ministry, f"programme-{run}-01-batch-open")

    # Two provinces nominate; 江苏省's third county is over the quota.
    nominations: list[str] = []
    for username, province, key in (("demo-province", "340000", "anhui"), ("demo-province2", "320000", "jiangsu")):
        page = session(new_page, viewport, server, username)
        for county in cfg[key]:
            nominations.append(nominate(page, server, number, province, county))
            assert NAMES[county] in page.locator("h1").inner_text()
            complete_form(page)
        if key == "jiangsu":
            nominate(page, server, number, province, cfg["over"])
            assert "超出推荐名额：每省最多推荐 2 个县（区），江苏省已推荐 2 个。" in messages(page, "error")
            shot(page, f"programme-{run}-02-over-quota")
        page.goto(f"{server}/programme/batch/{number}/province/{province}/")
        page.fill("#submit-form input[name=signatory]", "王处长")
        submit(page, "#submit-form button")
        assert "已签发并报送教育部。" in messages(page, "success")
        shot(page, f"programme-{run}-03-submitted-{province}")

    # The ministry confirms the four and publishes.
    for url in nominations:
        ministry.goto(url)
        ministry.select_option("#verdicts-form select[name=condition1]", "met")
        ministry.select_option("#verdicts-form select[name=condition3]", "met")
        submit(ministry, "#verdicts-form button")
        submit(ministry, "#review-form button.primary")
        assert ministry.locator("#nomination-status").inner_text() == "已确认"
    shot(ministry, f"programme-{run}-04-confirmed")
    ministry.goto(f"{server}/programme/batch/{number}/")
    submit(ministry, "form[action$='/move/publish/'] button")
    assert "已公布先行创建县名单" in messages(ministry, "success")

    # The public list, without login.
    public = new_page(viewport)
    public.goto(f"{server}/programme/list/")
    section = public.locator("section.published-batch", has_text=f"浏览器测试批次（{run}）")
    text = section.inner_text()
    for county in (*cfg["anhui"], *cfg["jiangsu"]):
        assert NAMES[county] in text
    assert "安徽省" in text and "江苏省" in text and NAMES.get(cfg["over"], "栖霞区") not in text
    shot(public, f"programme-{run}-05-public-list")

    # The pilot county writes its plan; the province accepts it; the county reports progress.
    username, code = cfg["pilot"]
    county = session(new_page, viewport, server, username)
    county.goto(f"{server}/programme/county/{code}/plan/")
    county.fill("input[name=target_year]", "2027")
    county.fill("textarea[name=summary]", "推进城乡学校共同体建设")
    county.check("input[name=items][value='2.1']")
    county.locator("table.targets input").first.fill("95")
    county.fill("input[name=new-title-0]", "建立年度监测制度")
    submit(county, "#plan-form button[type=submit]")
    assert "实施方案已保存。" in messages(county, "success")
    submit(county, "#plan-submit")
    assert county.locator("#plan-status").inner_text() == "已报省级审核"
    shot(county, f"programme-{run}-06-plan")
    province = session(new_page, viewport, server, "demo-province")
    province.goto(f"{server}/programme/county/{code}/plan/")
    submit(province, "#plan-review button.primary")
    assert province.locator("#plan-status").inner_text() == "省级已审核通过"
    county.goto(f"{server}/programme/county/{code}/reports/new/")
    county.fill("input[name=period]", "2025 年上半年")
    county.fill("textarea[name=summary]", "各项任务按计划推进")
    county.fill("textarea[name='exp-text-2.1']", "每年发布县域义务教育均衡发展监测报告")
    submit(county, "#report-form button[type=submit]")
    submit(county, "#report-submit")
    assert county.locator("#report-status").inner_text() == "已报省"
    assert "每年发布县域义务教育均衡发展监测报告" in county.content()
    shot(county, f"programme-{run}-07-progress-report")
