"""The web app on a phone (390 × 844): the menu folds behind the button 菜单 and opens; the home page, a county's
assessment page and the collection pages never scroll sideways as a whole (wide tables scroll inside their box, the
assessment's item tables become one block per item)."""

from __future__ import annotations

from typing import Any

from browser.conftest import DESKTOP, PHONE, login, shot

COUNTY, YEAR = "340207", 2023  # 鸠江区: the demo's approved year, with a verdict


def fits(page: Any) -> None:
    """The page itself is no wider than the screen (tables may scroll inside their own box)."""
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{page.url}: the page is {width} px wide on a {client} px screen"


def test_the_menu_opens_and_closes_on_a_phone_and_is_always_open_on_a_desktop(server: str, new_page: Any) -> None:
    page = new_page(PHONE)
    login(page, server, "demo-county")
    button = page.get_by_role("button", name="菜单")
    menu = page.locator("#site-menu")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()  # folded: the page starts with its content
    fits(page)
    shot(page, "phone-home")
    button.click()
    assert menu.is_visible() and button.get_attribute("aria-expanded") == "true"
    for name in ("工作台", "数据采集", "评估结果", "综合评估", "认可度调查", "修改密码"):
        link = menu.get_by_role("link", name=name, exact=True)
        assert link.is_visible() and link.bounding_box()["height"] >= 36, name  # a finger can hit it
    assert menu.get_by_role("button", name="退出").is_visible()
    fits(page)
    shot(page, "phone-menu-open")
    page.keyboard.press("Escape")
    assert not menu.is_visible() and button.get_attribute("aria-expanded") == "false"
    button.click()
    menu.get_by_role("link", name="综合评估", exact=True).click()  # the menu leads somewhere
    page.wait_for_load_state("networkidle")
    assert "/assessment/" in page.url and not menu.is_visible()  # the next page starts folded again

    desktop = new_page(DESKTOP)
    login(desktop, server, "demo-county")
    assert not desktop.get_by_role("button", name="菜单").is_visible()
    assert desktop.locator("#site-menu").get_by_role("link", name="数据采集", exact=True).is_visible()


def test_the_menu_works_without_javascript(server: str, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, server, "demo-county")
        assert not page.locator(".menu-button").is_visible()  # no button that could do nothing
        assert page.locator("#site-menu").get_by_role("link", name="数据采集", exact=True).is_visible()
        fits(page)
        shot(page, "phone-menu-no-js")
    finally:
        context.close()


def test_the_assessment_page_fits_a_phone(server: str, new_page: Any) -> None:
    page = new_page(PHONE)
    login(page, server, "demo-county")
    page.goto(f"{server}/assessment/county/{COUNTY}/{YEAR}/")
    assert "综合评估" in page.locator("h1").inner_text()
    fits(page)
    # The item tables are one block per item: no header row, every item as wide as its card, nothing cut off.
    items = page.locator("section.part table.items").first
    assert not items.locator(":scope > thead").is_visible()
    card = items.locator("xpath=ancestor::section[1]").bounding_box()
    for row in items.locator(":scope > tbody > tr").all()[:6]:
        box = row.bounding_box()
        assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 1
    assert items.locator("td.num").first.evaluate("e => getComputedStyle(e, '::before').content").startswith('"数值')
    shot(page, "phone-assessment")


def test_the_collection_pages_fit_a_phone(server: str, new_page: Any) -> None:
    county = new_page(PHONE)
    login(county, server, "demo-county")
    county.goto(f"{server}/collection/")  # the county's table of its schools, the upload form
    assert "年度学校数据" in county.locator("h1").inner_text()
    fits(county)
    shot(county, "phone-collection-county")

    province = new_page(PHONE)
    login(province, server, "demo-province")
    province.goto(f"{server}/collection/")  # the counties of the province: a wide table
    fits(province)
    box = province.locator(".scroll").first
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls inside its box …
    first = box.locator("tbody tr td").first
    left = first.bounding_box()["x"]
    box.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    assert abs(first.bounding_box()["x"] - left) < 1  # … and the first column (the county) stays in view
    shot(province, "phone-collection-province")

    school = new_page(PHONE)
    login(school, server, "demo-school")
    school.goto(f"{server}/collection/")
    fits(school)
    school.locator("main a[href*='/collection/record/']").first.click()
    school.wait_for_load_state("networkidle")
    fits(school)  # the record form: the fields stack in one column
    fields = school.locator(".c-field input:visible, .c-field select:visible")
    widths = {round(b["width"]) for b in (fields.nth(i).bounding_box() for i in range(3))}
    assert len(widths) == 1 and widths.pop() > PHONE["width"] * 0.7
    shot(school, "phone-collection-record")
