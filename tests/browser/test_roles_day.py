"""A day of each role, as its home page (工作台, the to-do list) leads it, in a real browser on the demo database.

1. The ministry's day: it opens a batch of its own (the confirmation page first) with a deadline three weeks away;
   its 工作台 then lists the batch with the provinces that have not yet submitted nominations, the deadline and the
   countdown, and leads to the batch. 安徽省's 工作台 (desktop and phone) shows the batch to nominate for, with the
   same deadline, and the notice of the opening; its to-do leads to the province's nomination page.
2. A province nominates a county without school data (芜湖市南陵县, in a batch of its own): the chooser offers it with
   the note 「无学校数据」 (the filter finds it; 湾沚区 is greyed out), the recommendation form opens with 评估单元数
   editable (flagged 「本县暂无评估数据，请据实填写」), a non-number is refused at the field, the figures typed are
   saved and shown again; the province's to-do then asks for one county less, the ministry's says one province has
   started.
3. A school clerk's return round, for a school of 鸠江区 2024 (the demo county still collecting) other than
   demo-school's, with an account of its own: the to-do leads to the form, the school submits; the county's to-do
   leads to the review, the county returns the data with a reason; the school's 工作台 (desktop and phone) shows the
   return with the reason; resubmitting without a 修改说明 is refused, with one it goes through and the to-do list is
   empty; the county sees the 修改说明 on the record. The record is left submitted, never approved, so the
   evaluation of 鸠江区 2024 (test_flow.py) stays untouched.

The batches use their own names and only counties no other story nominates (南陵县); the year, the quota and the
basic-balance rule of batches opened later (default settings) are not changed. Screenshots:
``test-artifacts/roles-*.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from browser.conftest import DESKTOP, PHONE, add_account, login, shot
from browser.pages import confirm, confirmation, fill_recommendation, messages, submit

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROVINCE, PROVINCE_NAME = "340000", "安徽省"
NO_DATA_COUNTY, NO_DATA_NAME = "340223", "芜湖市南陵县"  # 2015 basic balance, no school data in the demo
RECENT_COUNTY = "340210"  # 湾沚区: basic balance last year, refused by condition 2
COUNTY, COUNTY_NAME, YEAR = "340207", "鸠江区", 2024
FIRST_SCHOOL = "3402070001"  # demo-school's (test_flow.py): never used here


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def session(new_page: Any, server: str, username: str, viewport: dict[str, int] = DESKTOP) -> Any:
    page = new_page(viewport)
    login(page, server, username)
    return page


def deadline_in(days: int) -> dt.datetime:
    """17:00 (Asia/Shanghai) ``days`` days from today."""
    today = dt.datetime.now(SHANGHAI).date()
    return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(17, 0), tzinfo=SHANGHAI)


def countdown(deadline: dt.datetime) -> str:
    """The countdown the to-do list shows for ``deadline``, as of now (「还剩 21 天」)."""
    days = (deadline.date() - dt.datetime.now(SHANGHAI).date()).days
    return f"还剩 {days} 天" if days > 0 else ("今天截止" if days == 0 else f"已逾期 {-days} 天")


def open_batch(page: Any, server: str, name: str, deadline: dt.datetime, quota: tuple[int, int]) -> str:
    """The ministry creates a batch (year and basic-balance rule as proposed) and opens it after the confirmation;
    the confirmation's text is checked for the deadline. The batch's number."""
    page.goto(f"{server}/programme/batches/new/")
    page.fill("input[name=name]", name)
    page.fill("input[name=deadline]", f"{deadline:%Y-%m-%dT%H:%M}")
    page.fill("input[name=quota_min]", str(quota[0]))
    page.fill("input[name=quota_max]", str(quota[1]))
    submit(page, "#batch-form button")
    assert f"已创建{name}（草稿）" in messages(page, "success"), page.locator("main").inner_text()[:1500]
    number = re.search(r"/programme/batch/(\d+)/$", page.url).group(1)  # type: ignore[union-attr]
    submit(page, "form[action$='/move/open/'] button")
    text = confirmation(page, f"开始推荐：{name}")
    assert f"截止时间 {deadline:%Y-%m-%d %H:%M}" in text
    assert f"每省推荐 {quota[0]}–{quota[1]} 个县（区）" in text
    confirm(page, f"开始推荐：{name}")
    assert "已开始推荐。" in messages(page, "success")
    assert page.locator("#batch-status").inner_text() == "推荐中"
    return str(number)


def todo_item(page: Any, text: str) -> Any:
    """The one item of the 工作台's to-do list containing ``text``."""
    item = page.locator("#todo ol.todo > li").filter(has_text=text)
    assert item.count() == 1, page.locator("#todo").inner_text()
    return item


def fits(page: Any) -> None:
    """The page itself is no wider than the screen (tables may scroll inside their own box)."""
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{page.url}: the page is {width} px wide on a {client} px screen"


def explain_warnings(page: Any) -> None:
    """Write an explanation into every warning of the record form still without one (submitting requires it)."""
    for box in page.locator("#warnings textarea").all():
        if not box.input_value().strip():
            box.fill("已核实：数据无误。")


# ---------------------------------------------------------------------------------------------------------------
# 1. The ministry opens a batch; its to-do list and the province's follow


def test_ministry_opens_a_batch_and_the_to_do_lists_follow(server: str, new_page: Any) -> None:
    name = "角色一日测试批次（教育部开设）"
    deadline = deadline_in(21)
    when = f"截止 {deadline:%Y-%m-%d %H:%M}"

    ministry = session(new_page, server, "demo-ministry")
    number = open_batch(ministry, server, name, deadline, (2, 4))

    # The ministry's 工作台: every province still to submit, by name, with the deadline and the countdown.
    ministry.goto(f"{server}/")
    item = todo_item(ministry, name)
    text = item.inner_text()
    waiting = re.search(rf"{name}：(\d+) 个省份尚未报送推荐", text)
    assert waiting, text
    provinces = int(waiting.group(1))
    assert provinces >= 30  # nobody has signed off a batch just opened
    assert item.locator(".n").inner_text() == f"{provinces} 个"
    names = item.locator("p.names").inner_text()
    assert "北京市" in names and "江苏省" in names and "安徽省" in names
    assert when in text and countdown(deadline) in text
    assert "已开始填写推荐" not in text  # nobody has nominated yet
    shot(ministry, "roles-01-ministry-home")
    submit(ministry, item.get_by_role("link", name="查看推荐进度"))
    assert ministry.url == f"{server}/programme/batch/{number}/"
    assert ministry.locator("#batch-status").inner_text() == "推荐中"

    # 安徽省's 工作台: the batch to nominate for, with the quota, the deadline and the notice of the opening.
    province = session(new_page, server, "demo-province")
    assert province.locator("h1").inner_text() == "工作台"
    item = todo_item(province, name)
    text = item.inner_text()
    assert f"{name}：还需推荐 2 个县（区）" in text
    assert "已推荐 0 个，每省推荐 2–4 个，推荐后由省级签发报送教育部" in text
    assert when in text and countdown(deadline) in text
    assert item.locator(".n").inner_text() == "2 个"
    notice = province.locator("#notices li").filter(has_text=name)
    assert f"{name}开始推荐，截止时间 {deadline:%Y-%m-%d %H:%M}" in notice.first.inner_text()
    shot(province, "roles-02-province-home")

    # The same on a phone: the to-do fits the screen and leads to the province's nominations of the batch.
    phone = session(new_page, server, "demo-province", PHONE)
    item = todo_item(phone, name)
    assert item.get_by_role("link", name="去推荐").is_visible()
    assert when in item.inner_text()
    fits(phone)
    shot(phone, "roles-03-province-home-phone")
    submit(phone, item.get_by_role("link", name="去推荐"))
    assert phone.url == f"{server}/programme/batch/{number}/province/{PROVINCE}/"
    assert phone.locator("#used").inner_text() == "0"
    assert phone.locator("#nominate-form").is_visible()
    fits(phone)
    shot(phone, "roles-04-province-nominations-phone")


# ---------------------------------------------------------------------------------------------------------------
# 2. A county without school data: the recommendation form asks for the figures the data would give


def test_province_nominates_a_county_without_school_data(server: str, new_page: Any) -> None:
    name = "角色一日测试批次（无数据县推荐）"
    ministry = session(new_page, server, "demo-ministry")
    number = open_batch(ministry, server, name, deadline_in(30), (2, 3))

    province = session(new_page, server, "demo-province")
    province.goto(f"{server}/programme/batch/{number}/province/{PROVINCE}/")
    option = province.locator(f"#county option[value='{NO_DATA_COUNTY}']")
    assert "无学校数据" in option.inner_text() and option.get_attribute("disabled") is None
    assert "不可推荐" in province.locator(f"#county option[value='{RECENT_COUNTY}']").inner_text()
    assert province.locator(f"#county option[value='{RECENT_COUNTY}']").get_attribute("disabled") is not None
    province.fill("#county-filter", "南陵")  # the filter leaves only the county typed
    shown = province.eval_on_selector_all("#county option", "os => os.filter(o => !o.hidden).map(o => o.value)")
    assert shown == [NO_DATA_COUNTY]
    province.select_option("#nominate-form select[name=county]", NO_DATA_COUNTY)
    submit(province, "#nominate-form button")
    assert f"已将{NO_DATA_NAME}加入推荐名单，请完成推荐表。" in messages(province, "success")
    assert province.locator("h1").inner_text().startswith(f"{NO_DATA_NAME} · 推荐表")
    assert province.locator("#nomination-status").inner_text() == "填写中"
    nomination_url = province.url

    # The figures the evaluation would supply are fields to fill in, flagged as such, not values "from the data".
    for key in ("units_total", "units_passed"):
        field = province.locator(f"#field-{key}")
        assert "本县暂无评估数据，请据实填写" in field.inner_text()
        assert "来自数据" not in field.inner_text()
        assert field.locator(f"input#f-{key}").is_editable()
    pending = province.locator("#pending")  # what is missing before the sign-off names these fields, linked
    assert pending.locator("a[href='#f-units_total']").inner_text() == "「评估单元数」为必填项"
    assert pending.locator("a[href='#f-units_passed']").inner_text() == "「达标评估单元数」为必填项"
    shot(province, "roles-05-no-data-form")

    # Text where a number belongs is refused at the field; nothing else is lost.
    province.fill("#f-units_total", "四十")
    response = submit(province, "#recommendation-form button[type=submit]")
    assert response.status == 400
    assert "评估单元数：请填写整数，填写的是「四十」" in province.locator("#error-summary").inner_text()
    assert "请填写整数" in province.locator("#field-units_total .field-error").inner_text()

    province.fill("#f-units_total", "40")
    province.fill("#f-units_passed", "36")
    fill_recommendation(province)
    submit(province, "#recommendation-form button[type=submit]")
    assert "推荐表已保存。" in messages(province, "success"), province.locator("main").inner_text()[:2000]
    assert province.locator("#error-summary").count() == 0
    province.goto(nomination_url)  # read back from the server
    assert province.input_value("#f-units_total") == "40"
    assert province.input_value("#f-units_passed") == "36"
    pending = province.locator("#pending").inner_text()  # complete but for the evidence files
    assert "请上传条件一（党委政府重视）佐证材料" in pending and "为必填项" not in pending, pending
    shot(province, "roles-06-no-data-form-saved")

    # The to-do lists move on: the province needs one county less; the ministry sees a province has started.
    province.goto(f"{server}/")
    text = todo_item(province, name).inner_text()
    assert f"{name}：还需推荐 1 个县（区）" in text and "已推荐 1 个" in text
    ministry.goto(f"{server}/")
    assert "其中 1 个省份已开始填写推荐" in todo_item(ministry, name).inner_text()
    shot(ministry, "roles-07-ministry-home-started")


# ---------------------------------------------------------------------------------------------------------------
# 3. A school's return round: submit, returned with a reason, resubmitted with a 修改说明


def test_school_return_round(server: str, new_page: Any) -> None:
    county = session(new_page, server, "demo-county")
    county.goto(f"{server}/collection/county/{COUNTY}/{YEAR}/")
    # A primary school still filling in, other than demo-school's (the last one in school order).
    chosen = None
    for row in county.locator("#records tbody tr").all():
        school_id = row.locator("td.c-opt").first.inner_text().strip()
        school_name = row.locator("td.c-key").inner_text().strip()
        if school_id != FIRST_SCHOOL and school_name.endswith("小学") and "填报中" in row.inner_text():
            chosen = (school_id, school_name)
    assert chosen, county.locator("#records").inner_text()[:2000]
    school_id, school_name = chosen
    username = add_account(f"roles-school-{school_id}", "school", f"{school_name}填报员", school=school_id)

    # The school's 工作台: this year's data to file, with the deadline; the to-do leads to the form.
    school = session(new_page, server, username)
    assert school_name in school.locator("main p.muted").first.inner_text()
    item = todo_item(school, f"请填写并提交本校 {YEAR} 年度数据")
    assert "截止" in item.inner_text() and "还剩" in item.inner_text()
    shot(school, "roles-08-school-home")
    submit(school, item.get_by_role("link", name="去填报"))
    assert re.search(r"/collection/record/\d+/$", school.url)
    record_url = school.url
    assert school.locator("h1").inner_text() == f"{school_name} · {YEAR} 年度数据"
    assert school.locator(".c-status").inner_text().strip() == "填报中"
    explain_warnings(school)
    submit(school, school.get_by_role("button", name="保存并提交审核"))
    assert "已提交，等待县（区）审核。" in messages(school, "success"), messages(school, "error")
    assert school.locator(".c-status").inner_text().strip() == "已提交待审核"
    shot(school, "roles-09-school-submitted")
    school.goto(f"{server}/")
    assert school.locator("#todo .todo-empty").inner_text() == "暂无待办事项。"  # with the county now

    # The county's 工作台 leads to the review; the county returns the data with a reason.
    county.goto(f"{server}/")
    item = todo_item(county, f"所学校已提交 {YEAR} 年度数据，待县（区）审核")
    submit(county, item.get_by_role("link", name="去审核"))
    assert county.url == f"{server}/collection/county/{COUNTY}/{YEAR}/"
    row = county.locator("#records tbody tr").filter(has_text=school_name)
    assert row.get_by_text("已提交待审核").is_visible()
    submit(county, row.get_by_role("link", name="审核"))
    assert county.url == record_url
    reason = "生均教学及辅助用房面积明显偏低，请核实后重填"
    review = county.locator("#review")
    review.locator("summary", has_text="退回学校").click()
    review.get_by_role("textbox", name="退回原因").fill(reason)
    shot(county, "roles-10-county-return")
    submit(county, review.get_by_role("button", name="退回", exact=True))
    assert f"{school_name}：已退回学校修改。" in messages(county, "success"), messages(county, "error")
    assert county.locator(".c-status").inner_text().strip() == "已退回"
    assert county.locator("#review").count() == 0  # nothing to review until the school resubmits

    # The school's 工作台 shows the return and its reason, on a desktop and on a phone.
    school.goto(f"{server}/")
    item = todo_item(school, f"县（区）退回了本校 {YEAR} 年度数据，请修改后重新提交")
    assert f"退回原因：{reason}" in item.inner_text()
    shot(school, "roles-11-school-home-returned")
    school.set_viewport_size(PHONE)
    school.goto(f"{server}/")
    item = todo_item(school, f"县（区）退回了本校 {YEAR} 年度数据，请修改后重新提交")
    assert item.get_by_text(f"退回原因：{reason}").is_visible()
    fits(school)
    shot(school, "roles-12-school-home-returned-phone")
    school.set_viewport_size(DESKTOP)
    submit(school, item.get_by_role("link", name="去修改"))
    assert school.url == record_url
    assert f"退回原因（第 1 轮）：{reason}" in school.locator("#returned").inner_text()

    # Resubmitting without a 修改说明 is refused; the data stay returned.
    submit(school, school.get_by_role("button", name="保存并提交审核"))
    assert "退回后重新提交须填写修改说明" in messages(school, "error"), messages(school, "success")
    assert school.locator(".c-status").inner_text().strip() == "已退回"
    shot(school, "roles-13-school-note-required")

    # The school corrects the area and explains it in the 修改说明; the resubmission goes through.
    area = float(school.input_value("#f-teaching_aux_area").replace(",", "") or 0)
    school.fill("#f-teaching_aux_area", f"{area + 100:g}")
    note = "已核实教学及辅助用房面积，补录新建综合楼 100 平方米"
    school.fill("#resubmit-note", note)
    explain_warnings(school)
    submit(school, school.get_by_role("button", name="保存并提交审核"))
    assert "已保存，修改了 1 项数据。" in messages(school, "success"), messages(school, "error")
    assert "已提交，等待县（区）审核。" in messages(school, "success"), messages(school, "error")
    assert school.locator(".c-status").inner_text().strip() == "已提交待审核"
    rounds = school.locator("#rounds").inner_text()
    assert reason in rounds and f"重新提交，修改说明：{note}" in rounds
    shot(school, "roles-14-school-resubmitted")
    school.goto(f"{server}/")
    assert school.locator("#todo .todo-empty").inner_text() == "暂无待办事项。"

    # The county sees the 修改说明 with the record to review again, and the corrected value.
    county.goto(record_url)
    assert county.locator("#review-note").inner_text() == f"学校本轮的修改说明（第 1 轮退回后）：{note}"
    assert county.locator("#review").get_by_role("button", name="审核通过").is_visible()
    assert float(county.input_value("#f-teaching_aux_area").replace(",", "")) == area + 100
    assert "已退回 → 已提交待审核" in county.locator("#history").inner_text()
    shot(county, "roles-15-county-sees-note")
