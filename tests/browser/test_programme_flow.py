"""The creation programme in a real browser, once on a desktop and once on a phone viewport.

Each run is the whole story on its own batch and counties: the ministry opens a batch (quota 2–2; the confirmation
page first, cancelled once) → 安徽省 and 江苏省 nominate two counties each, complete the recommendation forms
(rates in percent, a valid phone number and e-mail) and upload the evidence of conditions 1 and 3 (江苏省 first adds
and withdraws a county, after the confirmation; its third nomination is refused: over quota) → both upload the
stamped letter and sign off after the confirmation → the ministry records its verdicts on conditions 1 and 3,
opens and cancels a rejection, confirms the four and publishes the list, each after its confirmation → the public
page (no login) shows them by province → the pilot county writes its plan and submits it, the province accepts it,
the county files a progress report with an experience write-up and submits it, the province forwards it, the
ministry publishes the experience, which the public library then shows.
Screenshots: ``test-artifacts/programme-<viewport>-*.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from browser.conftest import DESKTOP, PHONE, login, shot
from browser.pages import confirm, confirmation, fill_recommendation, messages, submit, upload

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
    "340207": "芜湖市鸠江区",
    "340209": "芜湖市弋江区",
    "340202": "芜湖市镜湖区",
    "340212": "芜湖市繁昌区",
    "320102": "南京市玄武区",
    "320104": "南京市秦淮区",
    "320105": "南京市建邺区",
    "320106": "南京市鼓楼区",
    "320111": "南京市浦口区",
}


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
    """Fill the recommendation form, save it, and upload the evidence of conditions 1 and 3."""
    fill_recommendation(page)
    submit(page, "#recommendation-form button[type=submit]")
    assert "推荐表已保存。" in messages(page, "success"), page.locator("main").inner_text()[:2000]
    assert page.locator("#error-summary").count() == 0
    assert page.input_value("#f-contact_phone") == "13912345678"
    pending = page.locator("#pending").inner_text()  # the form is complete: only the evidence files are missing
    assert "请上传条件一（党委政府重视）佐证材料" in pending and "请上传条件三（良好教育生态）佐证材料" in pending
    upload(page, "#evidence-condition_1 form", "条件一佐证材料.pdf")
    assert "已上传条件一（党委政府重视）佐证材料。" in messages(page, "success")
    upload(page, "#evidence-condition_3 form", "条件三佐证材料.pdf")
    assert "已上传条件三（良好教育生态）佐证材料。" in messages(page, "success")
    assert page.locator("#evidence-condition_1 a", has_text="条件一佐证材料.pdf").count() == 1
    assert page.locator("#pending").count() == 0  # nothing left before the sign-off


@pytest.mark.parametrize("run", sorted(RUNS))
def test_programme_flow(server: str, new_page: Any, run: str) -> None:
    cfg = RUNS[run]
    viewport = cfg["viewport"]
    batch_name = f"浏览器测试批次（{run}）"

    # The ministry opens a batch: the confirmation page first; cancelled, nothing changes.
    ministry = session(new_page, viewport, server, "demo-ministry")
    ministry.goto(f"{server}/programme/batches/new/")
    ministry.fill("input[name=name]", batch_name)
    ministry.fill("input[name=quota_min]", "2")
    ministry.fill("input[name=quota_max]", "2")
    submit(ministry, "#batch-form button")
    number = re.search(r"/programme/batch/(\d+)/", ministry.url).group(1)  # type: ignore[union-attr]
    assert ministry.locator("#batch-status").inner_text() == "草稿"
    submit(ministry, "form[action$='/move/open/'] button")
    text = confirmation(ministry, f"开始推荐：{batch_name}")
    assert "每省推荐 2–2 个县（区）" in text and "将通知：各省级教育行政部门" in text
    shot(ministry, f"programme-{run}-01a-open-confirmation")
    submit(ministry, "#cancel-button")
    assert ministry.locator("#batch-status").inner_text() == "草稿"  # cancelled: still a draft
    submit(ministry, "form[action$='/move/open/'] button")
    confirm(ministry, f"开始推荐：{batch_name}")
    assert "已开始推荐。" in messages(ministry, "success")
    assert ministry.locator("#batch-status").inner_text() == "推荐中"
    shot(ministry, f"programme-{run}-01-batch-open")

    # Two provinces nominate; 江苏省 first adds and withdraws a county; its third county is over the quota.
    nominations: list[str] = []
    provinces = (("demo-province", "340000", "安徽省", "anhui"), ("demo-province2", "320000", "江苏省", "jiangsu"))
    for username, province, province_name, key in provinces:
        page = session(new_page, viewport, server, username)
        if key == "jiangsu":
            nominate(page, server, number, province, cfg["over"])
            submit(page, "form[action$='/do/withdraw/'] button")
            text = confirmation(page, f"撤回推荐：{NAMES[cfg['over']]}")
            assert "释放 1 个推荐名额" in text
            shot(page, f"programme-{run}-02a-withdraw-confirmation")
            submit(page, "#confirm-button")
            assert "已撤回推荐。" in messages(page, "success")
            assert page.locator("#nomination-status").inner_text() == "已撤回"
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
        submit(page, "#submit-form button")  # no stamped letter yet: refused
        assert "请先上传加盖省级教育行政部门公章的推荐文件扫描件（盖章扫描件），再签发报送。" in messages(page, "error")
        upload(page, "#letter-form", f"{province_name}推荐文件（盖章）.pdf")
        assert "已上传盖章扫描件。" in messages(page, "success")
        page.fill("#submit-form input[name=signatory]", "王处长")
        submit(page, "#submit-form button")
        text = confirm(page, f"签发并报送教育部：{province_name}{batch_name}推荐")
        assert "报送 2 个县（市、区）：" + "、".join(NAMES[c] for c in cfg[key]) in text
        assert "已签发并报送教育部。" in messages(page, "success")
        signed = page.locator("#signed-off").inner_text()
        assert "已签发报送" in signed and "签发人 王处长" in signed and f"{province_name}推荐文件（盖章）.pdf" in signed
        assert page.locator("#submit-form").count() == 0 and page.locator("#letter-form").count() == 0
        shot(page, f"programme-{run}-03-submitted-{province}")

    # The ministry records its verdicts, opens and cancels a rejection, then confirms the four and publishes.
    for i, url in enumerate(nominations):
        ministry.goto(url)
        county_name = ministry.locator("h1").inner_text().split(" · ")[0]
        ministry.select_option("#verdicts-form select[name=condition1]", "met")
        ministry.select_option("#verdicts-form select[name=condition3]", "met")
        submit(ministry, "#verdicts-form button")
        assert "已保存遴选条件核定结论。" in messages(ministry, "success")
        if i == 0:
            ministry.fill("#review-form textarea[name=reason]", "材料不全")
            submit(ministry, "#review-form button.danger")
            assert "理由：材料不全" in confirmation(ministry, f"不予确认：{county_name}")
            submit(ministry, "#cancel-button")
            assert ministry.locator("#nomination-status").inner_text() == "已报送"  # cancelled: nothing changed
        submit(ministry, "#review-form button.primary")
        confirm(ministry, f"确认先行创建县：{county_name}")
        assert "已确认。" in messages(ministry, "success")
        assert ministry.locator("#nomination-status").inner_text() == "已确认"
    shot(ministry, f"programme-{run}-04-confirmed")
    ministry.goto(f"{server}/programme/batch/{number}/")
    submit(ministry, "form[action$='/move/publish/'] button")
    text = confirm(ministry, f"公布名单：{batch_name}先行创建县名单")
    assert "公布 4 个先行创建县（市、区）" in text
    assert "已公布先行创建县名单" in messages(ministry, "success")
    assert ministry.locator("#batch-status").inner_text() == "名单已公布"
    assert "名单已于" in ministry.locator("#batch-result").inner_text()

    # The public list, without login.
    public = new_page(viewport)
    public.goto(f"{server}/programme/list/")
    section = public.locator("section.published-batch", has_text=batch_name)
    text = section.inner_text()
    for county in (*cfg["anhui"], *cfg["jiangsu"]):
        assert NAMES[county] in text
    assert "安徽省（2 个）" in text and "江苏省（2 个）" in text and NAMES[cfg["over"]] not in text
    shot(public, f"programme-{run}-05-public-list")

    # The pilot county writes its plan (rates in percent) and submits it; the province accepts it.
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
    assert county.locator("table.targets input").first.input_value() == "95"  # 95 %, shown as typed
    submit(county, "#plan-submit")
    confirm(county, "报送实施方案")
    assert "实施方案已报省级审核。" in messages(county, "success")
    assert county.locator("#plan-status").inner_text() == "已报省级审核"
    assert "95%" in county.locator("#plan-view table.targets").inner_text()
    shot(county, f"programme-{run}-06-plan")
    province = session(new_page, viewport, server, "demo-province")
    province.goto(f"{server}/programme/county/{code}/plan/")
    submit(province, "#plan-review button.primary")
    confirm(province, "审核通过实施方案")
    assert province.locator("#plan-status").inner_text() == "省级已审核通过"

    # The county's progress report with an experience write-up, submitted after the confirmation.
    experience = "每年发布县域义务教育均衡发展监测报告"
    county.goto(f"{server}/programme/county/{code}/reports/new/")
    county.fill("input[name=period]", "2025 年上半年")
    county.fill("textarea[name=summary]", "各项任务按计划推进")
    county.fill("textarea[name='exp-text-2.1']", experience)
    submit(county, "#report-form button[type=submit]")
    assert county.locator("#report-status").inner_text() == "填写中"
    submit(county, "#report-submit")
    confirm(county, "报送进展报告")
    assert county.locator("#report-status").inner_text() == "已报省"
    assert experience in county.locator("#report-experiences").inner_text()
    shot(county, f"programme-{run}-07-progress-report")

    # The province forwards it; the ministry publishes the experience; the public library shows it.
    report_url = county.url
    province.goto(report_url)
    submit(province, "#report-review button.primary")
    confirm(province, "转报教育部")
    assert "进展报告已转报教育部。" in messages(province, "success")
    ministry.goto(report_url)
    article = ministry.locator("#report-experiences article.experience", has_text=experience)
    submit(ministry, article.get_by_role("button", name="发布为典型经验"))
    assert "将在公开的典型经验库中发布" in confirm(ministry, "发布典型经验")
    assert "已发布为典型经验。" in messages(ministry, "success")
    public.goto(f"{server}/programme/experiences/")
    published = public.locator("article.experience", has_text=experience)
    assert published.count() >= 1 and NAMES[code] in published.first.inner_text()
    shot(public, f"programme-{run}-08-experience-published")
