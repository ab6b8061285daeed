"""Page helpers shared by the browser stories: clicking through to the next page, the Django messages, the
server-side confirmation page asked before irreversible actions, uploads, and filling the recommendation form."""

from __future__ import annotations

from typing import Any

#: A small but real PDF (the upload check reads the magic bytes ``%PDF-``).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PHONE_NUMBER = "13912345678"
EMAIL = "wang.chuzhang@example.gov.cn"

#: Fills every required field still empty, by what the field holds (``data-type``; no input is type=number any
#: more): years 2027, whole numbers 12, numbers 35.5, rates in percent (87 means 87 %), a valid phone number.
FILL_REQUIRED = """form => {
  const by = {int: '12', number: '35.5', year: '2027', percent: '87'};
  for (const el of form.querySelectorAll('[data-required]')) {
    if (el.value) continue;
    if (el.tagName === 'SELECT') { el.selectedIndex = 1; continue; }
    if (el.name === 'f-contact_phone') { el.value = 'PHONE_NUMBER'; continue; }
    el.value = by[el.dataset.type] || '浏览器测试填写';
  }
  for (const group of form.querySelectorAll('div.checks')) {
    if (!group.querySelector('input:checked')) group.querySelector('input').checked = true;
  }
}""".replace("PHONE_NUMBER", PHONE_NUMBER)


def submit(page: Any, target: Any) -> Any:
    """Click ``target`` (a selector: its first match, or a locator) and wait for the page it leads to."""
    button = page.locator(target).first if isinstance(target, str) else target
    with page.expect_navigation() as navigation:
        button.click()
    return navigation.value


def messages(page: Any, kind: str) -> str:
    """The Django messages of one kind (``success``, ``info``, ``error``) on the page, joined."""
    return " ".join(page.locator(f"ul.messages li.{kind}").all_inner_texts())


def confirmation(page: Any, title: str) -> str:
    """Assert that the page is the confirmation asked before an irreversible action titled ``title``; its text."""
    assert page.locator("#confirmation h1").inner_text() == f"请确认：{title}", page.locator("main").inner_text()
    text = str(page.locator("#confirmation").inner_text())
    assert "此操作确认后不能撤销。" in text
    assert page.locator("#confirm-button").is_visible()
    return text


def confirm(page: Any, title: str) -> str:
    """On the confirmation page titled ``title``, confirm; the confirmation's text."""
    text = confirmation(page, title)
    submit(page, "#confirm-button")
    return text


def upload(page: Any, form: str, name: str, content: bytes = PDF, mime: str = "application/pdf") -> None:
    """Choose a file in the upload form ``form`` (a selector) and send it."""
    page.locator(f"{form} input[type=file]").set_input_files({"name": name, "mimeType": mime, "buffer": content})
    submit(page, f"{form} button[type=submit]")


def fill_recommendation(page: Any) -> None:
    """Fill the required fields of the recommendation form left empty, with a valid e-mail address too."""
    if page.locator("#f-contact_email").count():
        page.fill("#f-contact_email", EMAIL)
    page.eval_on_selector("#recommendation-form", FILL_REQUIRED)
