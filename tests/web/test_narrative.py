"""The chapters the county writes for its self-evaluation report: who edits and who reads, the length cap and its
message next to the field, two people editing at once, and the text in the downloaded Word report."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from django.test import Client
from docx import Document

from web.conftest import OTHER_COUNTY, OWN_COUNTY, YEAR
from youjun.io.documents.chapters import CHAPTERS, MAX_CHARS, PENDING
from youjun.web.accounts.models import User
from youjun.web.assessment import services
from youjun.web.assessment.models import Narrative
from youjun.web.organisation.models import OrgUnit

pytestmark = pytest.mark.django_db

PAGE = f"/assessment/county/{OWN_COUNTY}/{YEAR}/"
NARRATIVE = f"{PAGE}narrative/"
KEYS = [c.key for c in CHAPTERS]


def _client(user: User | None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _form(client: Client, url: str = NARRATIVE) -> dict[str, str]:
    """The form as the page shows it: every chapter's text and the digest of what was shown."""
    page = client.get(url).content.decode()
    data = {}
    for key in KEYS:
        text = re.search(rf'<textarea id="n-{key}" name="{key}"[^>]*>(.*?)</textarea>', page, re.S)
        shown = re.search(rf'name="shown-{key}" value="([0-9a-f]*)"', page)
        assert text is not None and shown is not None, key
        data[key] = html.unescape(text.group(1))
        data[f"shown-{key}"] = shown.group(1)
    return data


def _section(page: str, key: str) -> str:
    found = re.search(rf'<section class="field[^"]*" id="chapter-{key}">(.*?)</section>', page, re.S)
    assert found is not None, key
    return found.group(1)


def _stored(county: OrgUnit) -> dict[str, tuple[str, int]]:
    return {n.chapter: (n.text, n.version) for n in Narrative.objects.filter(county=county, year=YEAR)}


def test_the_county_page_links_to_the_chapters(users: dict[str, User], evaluations: object) -> None:
    assert f'href="{NARRATIVE}">撰写自评报告章节<' in _client(users["county"]).get(PAGE).content.decode()
    assert f'href="{NARRATIVE}">查看自评报告章节<' in _client(users["province"]).get(PAGE).content.decode()


def test_the_county_writes_its_chapters_and_only_changed_ones_are_written(
    users: dict[str, User], own_county: OrgUnit
) -> None:
    client = _client(users["county"])
    page = client.get(NARRATIVE).content.decode()
    for chapter in CHAPTERS:  # titles, hints and places come from the one list of chapters
        assert chapter.title in page and chapter.hint in page
    data = _form(client)
    data["measures"] = "（一）强化政府责任\r\n区政府将优质均衡列入民生实事。\x07"
    response = client.post(NARRATIVE, data, follow=True)
    assert response.status_code == 200
    assert "已保存「主要做法」。" in response.content.decode()
    stored = Narrative.objects.get(county=own_county, year=YEAR, chapter="measures")
    assert stored.text == "（一）强化政府责任\n区政府将优质均衡列入民生实事。"  # CRLF unified, BEL dropped
    assert stored.version == 1 and stored.updated_by == users["county"] and stored.updated_at is not None
    assert set(_stored(own_county)) == {"measures"}  # untouched chapters got no row
    # saving the form again as shown changes nothing
    response = client.post(NARRATIVE, _form(client), follow=True)
    assert "已保存，内容没有变化。" in response.content.decode()
    assert _stored(own_county) == {"measures": (stored.text, 1)}
    # the page shows the text back in its field
    assert _form(client)["measures"] == stored.text


def test_a_chapter_over_the_cap_is_refused_next_to_its_field_and_nothing_is_saved(
    users: dict[str, User], own_county: OrgUnit
) -> None:
    client = _client(users["county"])
    data = _form(client)
    data["overview"] = "县情概况。"
    data["problems"] = "问" * (MAX_CHARS + 5)
    response = client.post(NARRATIVE, data)
    assert response.status_code == 400
    page = response.content.decode()
    problems = _section(page, "problems")
    assert 'aria-invalid="true"' in problems and 'class="field invalid"' in page
    assert f"「存在的问题」最多 {MAX_CHARS:,} 字，现有 {MAX_CHARS + 5:,} 字，请删减 5 字后再保存。" in problems
    assert "最多" not in _section(page, "overview")  # the message stands by its own field only
    assert "县情概况。" in _section(page, "overview")  # the user's words are kept
    assert _stored(own_county) == {}  # all or nothing
    data["problems"] = "问" * MAX_CHARS  # exactly the cap is allowed
    assert client.post(NARRATIVE, data).status_code == 302
    assert len(_stored(own_county)["problems"][0]) == MAX_CHARS


def test_two_people_editing_the_same_chapter_cannot_overwrite_each_other(
    users: dict[str, User], own_county: OrgUnit
) -> None:
    first = _client(users["county"])
    colleague = User.objects.create(username="county-colleague", role=users["county"].role, org_unit=own_county)
    second = _client(colleague)
    mine, theirs = _form(first), _form(second)
    theirs["plans"] = "同事写的整改计划。"
    assert second.post(NARRATIVE, theirs).status_code == 302
    mine["plans"] = "我写的整改计划。"
    mine["measures"] = "我写的主要做法。"
    response = first.post(NARRATIVE, mine)
    assert response.status_code == 409
    page = response.content.decode()
    plans = _section(page, "plans")
    assert "「整改措施与计划」在您编辑期间已被他人修改" in plans
    assert "同事写的整改计划。" in plans and "我写的整改计划。" in plans  # theirs shown, mine kept
    assert _stored(own_county) == {"plans": ("同事写的整改计划。", 1)}  # nothing of mine saved, not even 主要做法
    # saving again from the refused form deliberately replaces their text
    again = {k: html.unescape(v) for k, v in _resubmission(page).items()}
    assert first.post(NARRATIVE, again).status_code == 302
    assert _stored(own_county) == {"plans": ("我写的整改计划。", 2), "measures": ("我写的主要做法。", 1)}


def _resubmission(page: str) -> dict[str, str]:
    data = {}
    for key in KEYS:
        text = re.search(rf'name="{key}"[^>]*>(.*?)</textarea>', page, re.S)
        shown = re.search(rf'name="shown-{key}" value="([0-9a-f]*)"', page)
        assert text is not None and shown is not None
        data[key], data[f"shown-{key}"] = text.group(1), shown.group(1)
    return data


def test_a_stale_form_of_another_chapter_is_no_conflict(users: dict[str, User], own_county: OrgUnit) -> None:
    first = _client(users["county"])
    colleague = User.objects.create(username="county-colleague-2", role=users["county"].role, org_unit=own_county)
    second = _client(colleague)
    mine, theirs = _form(first), _form(second)
    theirs["plans"] = "同事写的整改计划。"
    assert second.post(NARRATIVE, theirs).status_code == 302
    mine["measures"] = "我写的主要做法。"  # my form still shows the old (empty) plans: untouched, so left alone
    assert first.post(NARRATIVE, mine).status_code == 302
    assert _stored(own_county) == {"plans": ("同事写的整改计划。", 1), "measures": ("我写的主要做法。", 1)}


def test_a_form_without_its_digests_is_refused(users: dict[str, User], own_county: OrgUnit) -> None:
    response = _client(users["county"]).post(NARRATIVE, {"measures": "没有摘要的表单"}, follow=True)
    assert "表单已失效，请刷新页面后重新填写。" in response.content.decode()
    assert _stored(own_county) == {}


@pytest.mark.parametrize("key", ["prefecture", "province", "ministry", "viewer"])
def test_the_levels_above_read_and_cannot_write(key: str, users: dict[str, User], own_county: OrgUnit) -> None:
    services.save_narrative(
        users["county"], own_county, YEAR, {"measures": "第一段。\n第二段。"}, {k: services.digest("") for k in KEYS}
    )
    client = _client(users[key])
    page = client.get(NARRATIVE).content.decode()
    assert "<textarea" not in page and "<form" not in page.split("<main", 1)[-1]
    assert "<p>第一段。<br>第二段。</p>" in _section(page, "measures")
    assert "（由县级填写）" in _section(page, "problems")
    data = {k: "改写" for k in KEYS} | {f"shown-{k}": services.digest("") for k in KEYS}
    assert client.post(NARRATIVE, data).status_code == 403
    assert _stored(own_county) == {"measures": ("第一段。\n第二段。", 1)}


def test_schools_are_refused_and_other_jurisdictions_see_nothing(users: dict[str, User], own_county: OrgUnit) -> None:
    assert _client(users["school"]).get(NARRATIVE).status_code == 403
    for key in ("other_county", "other_province", "other_prefecture"):
        client = _client(users[key])
        assert client.get(NARRATIVE).status_code == 404, key
        assert client.post(NARRATIVE, {"measures": "越权"}).status_code == 404, key
    # the own county cannot write another county's chapters either
    other = f"/assessment/county/{OTHER_COUNTY}/{YEAR}/narrative/"
    assert _client(users["county"]).post(other, {"measures": "越权"}).status_code == 404
    assert Narrative.objects.count() == 0


def test_the_service_refuses_anyone_but_the_county(users: dict[str, User], own_county: OrgUnit) -> None:
    from youjun.errors import YoujunError

    shown = {k: services.digest("") for k in KEYS}
    with pytest.raises(YoujunError) as refused:
        services.save_narrative(users["province"], own_county, YEAR, {"measures": "x"}, shown)
    assert refused.value.problems[0].code == "forbidden"


def _paragraphs(body: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(body)).paragraphs if p.text]


def test_the_downloaded_report_carries_the_chapters_at_their_place(
    users: dict[str, User], own_county: OrgUnit, evaluations: Any
) -> None:
    client = _client(users["county"])
    data = _form(client)
    data |= {"measures": "（一）强化政府责任\n区政府将优质均衡列入民生实事。", "problems": "部分学校体育场馆面积不足。"}
    assert client.post(NARRATIVE, data).status_code == 302
    for reader in ("county", "province"):  # the levels above download the same report
        response = _client(users[reader]).get(f"{PAGE}self-evaluation.docx")
        assert response.status_code == 200
        texts = _paragraphs(response.content)
        at = texts.index("二、主要做法")
        assert texts[at + 1 : at + 3] == ["（一）强化政府责任", "区政府将优质均衡列入民生实事。"]
        assert texts[texts.index("三、资源配置") - 1] == "区政府将优质均衡列入民生实事。"
        problems = texts.index("九、存在的问题")
        assert texts.index("八、评估结论") < problems
        assert texts[problems + 1] == "部分学校体育场馆面积不足。"
        assert texts[texts.index("十、整改措施与计划") + 1] == PENDING
        assert texts[texts.index("一、基本情况") + 1] == PENDING
    # another county's chapters never reach this county's report
    other = OrgUnit.objects.get(code=OTHER_COUNTY)
    services.save_narrative(
        users["other_county"], other, YEAR, {"plans": "东城区的计划"}, {k: services.digest("") for k in KEYS}
    )
    texts = _paragraphs(_client(users["county"]).get(f"{PAGE}self-evaluation.docx").content)
    assert "东城区的计划" not in texts
