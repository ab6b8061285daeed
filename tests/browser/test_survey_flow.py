"""The survey in a real browser, on the demo database (the demo's open campaign of 鸠江区 2024, see survey/demo.py).

The county finds the first school's QR sheet and reads the parents' link from it; a parent opens that link on a
phone-sized viewport, answers every question (a first attempt that is too fast is refused with the answers kept),
submits and sees the thank-you page; opening the link again on the same phone is refused; the county's progress page
then counts one more parent. Screenshots: ``test-artifacts/survey-*.png``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from browser.conftest import DESKTOP, PHONE, login, shot

MIN_SECONDS = 20  # survey/data/settings.toml [protection] min_seconds


def parents_count(page: Any, campaign_url: str) -> int:
    page.goto(campaign_url)
    return int(page.locator('#progress tr[data-group="parents"] td[data-col="responses"]').inner_text())


def test_a_parent_answers_through_the_qr_link_and_the_county_sees_it(server: str, new_page: Any) -> None:
    county = new_page(DESKTOP)
    login(county, server, "demo-county")
    county.goto(f"{server}/survey/")
    county.locator("table a", has_text="社会认可度调查").first.click()
    county.wait_for_load_state()
    campaign_url = county.url
    assert re.search(r"/survey/campaign/\d+/$", campaign_url)
    before = parents_count(county, campaign_url)
    assert before > 0  # the demo's synthetic responses
    shot(county, "survey-county-progress-before")
    county.locator("ul.schools a").first.click()
    county.wait_for_load_state()
    sheets = county.locator("article.qr-sheet")
    assert sheets.count() == 7 and county.locator("article.qr-sheet svg").count() == 7
    shot(county, "survey-qr-sheet")
    link = county.locator('article.qr-sheet[data-group="parents"] .url a').get_attribute("href")
    assert link and "/survey/a/" in link

    phone = new_page(PHONE)
    opened = time.monotonic()
    assert phone.goto(link).status == 200
    assert "家长卷" in phone.locator("h1").inner_text()
    questions = phone.locator("fieldset.question")
    n = questions.count()
    assert n >= 8
    options = ["满意", "比较满意", "基本满意", "不满意", "不了解"]
    for i in range(n):
        option = questions.nth(i).locator(f'label.option:has(input[value="{options[i % 3]}"])')
        box = option.bounding_box()
        assert box and box["height"] >= 44  # a touch target
        option.click()
    shot(phone, "survey-phone-answering")
    phone.locator("button.submit").click()
    phone.wait_for_load_state()
    if time.monotonic() - opened < MIN_SECONDS:  # the usual case: refused as too fast, answers kept
        assert "答题时间过短" in phone.locator("#survey-alert").inner_text()
        assert phone.locator("input[type=radio]:checked").count() == n
        shot(phone, "survey-phone-too-fast")
        time.sleep(max(0.0, MIN_SECONDS + 1.5 - (time.monotonic() - opened)))
        phone.locator("button.submit").click()
        phone.wait_for_load_state()
    assert "提交成功" in phone.locator("#thanks").inner_text()
    shot(phone, "survey-phone-thanks")

    again = phone.goto(link)
    assert again.status == 409 and "本设备已经提交过" in phone.content()
    shot(phone, "survey-phone-device-refused")

    assert parents_count(county, campaign_url) == before + 1
    shot(county, "survey-county-progress-after")
