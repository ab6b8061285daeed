"""A whole year of the national recognition in a real browser, under the 2024 procedure file: the ministry opens
the round and an expert account; a county applies with its evidence (its data and documents frozen); the prefecture
and the province review (the province with its on-site record) and the province applies; the ministry takes the
eligibility check, records the quality-monitoring results and the survey, and assigns the expert; the expert (first
login: a new password) reviews every indicator, records the schools visited and raises a finding; the ministry
cannot recognise while the finding is open; the county rectifies with evidence, the expert verifies; the ministry
recognises and publishes the list with its document number, which the public page then shows — on a phone too.
Screenshots: ``test-artifacts/recognition-*.png``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from typing import Any

from browser import conftest
from browser.conftest import DESKTOP, PHONE, add_account, login, shot
from browser.pages import PDF, messages, submit

CODE = "320111"
NUMBER = "教督函〔2025〕3号"
NEW_PASSWORD = "Expert-new-pass-2026"

#: A county of its own whose self-evaluation passes resource allocation: synthetic approved schools, their stored
#: result (marked passing: the workflow, not the engine, is under test here), basic balance in 2014.
SETUP_CODE = """
from youjun.io.synth import generate
from youjun.web.collection.loading import load_frame, onto_real_counties
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import BasicBalance, OrgUnit
county = OrgUnit.objects.get(code={code!r})
if not SchoolRecord.objects.filter(county=county).exists():
    load_frame(onto_real_counties(generate(1, 91, year=2024, province="32").schools, [county]), RecordStatus.APPROVED)
    recompute(county, 2024)
CountyEvaluation.objects.filter(county=county).update(passed=True)
BasicBalance.objects.update_or_create(county=county, defaults={{"year": 2014}})
"""


def _prepare() -> None:
    script = SETUP_CODE.format(code=CODE)
    subprocess.run([*conftest.MANAGE, "shell", "-c", script], env=conftest.SERVER_ENV, check=True, timeout=300)


def _as(new_page: Any, server: str, user: str, viewport: dict[str, int] = DESKTOP) -> Any:
    page = new_page(viewport)
    login(page, server, user)
    return page


def _take(page: Any, outcome: str | None = None, reason: str = "") -> str:
    """Take an outcome of the current step (the first one unless named); the success or error message."""
    if outcome:
        page.check(f"#outcome-form input[value={outcome}]")
    if reason:
        page.fill("#reason", reason)
    submit(page, "#take-outcome")
    return messages(page, "success") or messages(page, "error")


def _step(page: Any) -> str:
    return str(page.locator("#current-step").inner_text()) if page.locator("#current-step").count() else ""


def test_a_year_of_national_recognition(server: str, new_page: Any, tmp_path: Any) -> None:
    _prepare()
    county = add_account("rec-county", "county", "浦口区教育局", unit=CODE)
    prefecture = add_account("rec-prefecture", "prefecture", "南京市教育局", unit="320100")
    province = add_account("rec-province", "province", "江苏省教育厅", unit="320000")
    ministry = add_account("rec-ministry", "ministry", "教育部督导局", unit="000000")
    evidence = tmp_path / "佐证材料.pdf"
    evidence.write_bytes(PDF)

    # The ministry: the round of the year (the demo may have opened 2024 already) and an expert account.
    m = _as(new_page, server, ministry)
    m.goto(f"{server}/recognition/")
    if m.locator("#rounds >> text=2024 年度").count() == 0:
        m.fill("#round-year", "2024")
        submit(m, "#open-round")
    m.goto(f"{server}/recognition/")
    m.fill("#expert-username", "rec-expert")
    m.fill("#expert-name", "张专家")
    submit(m, "#expert-new")
    temporary = m.locator("#new-expert code").inner_text()
    assert len(temporary) >= 12
    shot(m, "recognition-ministry-index")

    # The county applies: evidence, then submit; the data and documents are frozen.
    c = _as(new_page, server, county)
    c.goto(f"{server}/recognition/")
    submit(c, "#apply-2024")
    assert _step(c) == "县级自评申请"
    c.set_input_files("#case-file", str(evidence))
    submit(c, "#upload")
    assert "已上传" in messages(c, "success")
    assert "进入「市级复核」" in _take(c)
    snapshot = c.locator("#snapshot").inner_text()
    assert "2024 年数据" in snapshot and "自评报告.docx" in snapshot and "申报表" in snapshot
    case_url = c.url.split("#")[0]
    shot(c, "recognition-county-applied")

    # The prefecture and the province review; the province applies to the ministry.
    p = _as(new_page, server, prefecture)
    p.goto(case_url)
    assert "请先填写" in _take(p)  # an opinion is needed first
    p.fill("#opinion", "经复核，材料齐全，同意上报。")
    submit(p, "#save-record")
    assert "进入「省级评估」" in _take(p)
    v = _as(new_page, server, province)
    v.goto(case_url)
    v.fill("#opinion", "省级评估认为该区达到优质均衡发展标准。")
    v.fill("#on-site", "2025 年 3 月实地核查 6 所学校，情况属实。")
    submit(v, "#save-record")
    assert "进入「省级申报」" in _take(v)
    assert "进入「资格审查」" in _take(v)

    # The ministry: eligibility from the data, quality monitoring, the survey, and the expert assigned.
    m.goto(case_url)
    assert "2014 年通过认定" in m.locator("#eligibility").inner_text()
    assert "进入「质量监测」" in _take(m)
    m.fill("input[name=q_item_0]", "四年级数学学业表现")
    m.fill("input[name=q_result_0]", "良好")
    submit(m, "#save-record")
    assert "进入「社会认可度调查」" in _take(m)
    m.fill("#survey-rate", "84.5")
    submit(m, "#save-record")
    assert "低于" in _take(m)
    m.fill("#survey-rate", "91.2")
    submit(m, "#save-record")
    assert "进入「指标审核」" in _take(m)
    m.select_option("#assign-expert", label="张专家（rec-expert）")
    submit(m, "#assign")
    assert "已指派专家" in messages(m, "success")

    # The expert: a new password at the first login, then the indicator review and the verification.
    e = new_page(DESKTOP)
    e.goto(f"{server}/accounts/login/")
    e.fill("input[name=username]", "rec-expert")
    e.fill("input[name=password]", temporary)
    submit(e, "button[type=submit]")
    e.fill("input[name=old_password]", temporary)
    e.fill("input[name=new_password1]", NEW_PASSWORD)
    e.fill("input[name=new_password2]", NEW_PASSWORD)
    submit(e, "main button[type=submit]")
    e.goto(f"{server}/recognition/")
    assert "浦口区" in e.locator("#cases").inner_text()
    submit(e, "#cases a >> text=浦口区")
    assert _step(e) == "指标审核"
    e.eval_on_selector_all("#items select", "els => els.forEach(s => { s.value = 'met'; })")
    e.fill("#items input[name=c_R1]", "差异系数核实无误")
    submit(e, "#save-record")
    assert "进入「核查评估」" in _take(e)
    boxes = e.locator("#record-form input[name=schools]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    submit(e, "#save-record")
    e.fill("#finding-text", "抽查学校音乐专用教室数量不足")
    e.fill("#finding-responsible", "浦口区教育局")
    e.fill("#finding-deadline", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    submit(e, "#raise-finding")
    assert "已登记问题" in messages(e, "success")
    assert "进入「认定决定」" in _take(e)
    shot(e, "recognition-expert-verification")

    # The ministry cannot recognise while the finding is open.
    m.goto(case_url)
    assert "整改尚未核验" in _take(m)

    # The county rectifies with evidence; the expert verifies.
    c.goto(case_url)
    submit(c, "#finding-list a")
    c.set_input_files("#rectification-file", str(evidence))
    submit(c, "#upload-rectification")
    c.fill("#measures", "新建音乐专用教室 2 间，已于 2025 年 9 月投入使用。")
    submit(c, "#submit-rectification")
    assert "等待核验" in messages(c, "success")
    finding_url = c.url
    e.goto(finding_url)
    e.fill("#verify-note", "现场核验，整改到位。")
    submit(e, "#verify")
    assert "核验通过" in messages(e, "success")
    assert "整改已核验" in e.locator("#finding-status").inner_text()

    # The ministry recognises and publishes; the public list shows the county with the document number.
    m.goto(case_url)
    assert "已认定" in _take(m)
    assert m.locator("#case-state").inner_text() == "已认定"
    submit(m, "text=2024 年度县域义务教育优质均衡发展国家督导评估认定")
    m.fill("#doc-number", NUMBER)
    m.fill("#doc-date", "2025-03-01")
    submit(m, "#publish")
    assert "已公布" in messages(m, "success")
    c.goto(case_url)
    assert f"2024年度批次认定为优质均衡县（{NUMBER}）" in c.locator(".county-status").inner_text()
    phone = _as(new_page, server, county, PHONE)
    phone.goto(case_url)
    assert phone.locator("#case-state").inner_text() == "已认定"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width  # nothing wider than the phone: long tables scroll in their box
    shot(phone, "recognition-county-case-phone")
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        anonymous = new_page(viewport)
        anonymous.goto(f"{server}/recognition/list/")
        text = anonymous.locator("main").inner_text()
        assert NUMBER in text and "浦口区" in text and "江苏省" in text
        shot(anonymous, f"recognition-public-{name}")
