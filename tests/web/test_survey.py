"""Survey: questionnaires as data, campaigns and quotas, the anonymous answering page and its protections, results
and exports, the interface for the verdict."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from unittest import mock

import fastexcel
import polars as pl
import pytest
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from web.conftest import OWN_COUNTY, YEAR
from youjun.engine.recognition import recognition, required_sample
from youjun.web.accounts.models import User
from youjun.web.organisation.models import OrgUnit, School
from youjun.web.survey import answer as answer_view
from youjun.web.survey import questionnaires, services
from youjun.web.survey.models import Campaign, CampaignEvent, CampaignStatus, FormNonce, Link, LinkKind, Response

pytestmark = pytest.mark.django_db
GROUPS = ["students", "parents", "teachers", "principals", "npc", "cppcc", "residents"]


@pytest.fixture
def campaign(own_county: OrgUnit) -> Campaign:
    c = services.create_campaign(own_county, YEAR, "测试调查", 300_000, services.initial_quotas(300_000), None)
    c.status = CampaignStatus.OPEN
    c.save()
    return c


def single(c: Campaign, group: str = "parents") -> Link:
    services.generate_links(c, group, 1)
    return Link.objects.filter(campaign=c, kind=LinkKind.SINGLE, group=group).order_by("-id")[0]


def open_link(c: Campaign, group: str = "parents") -> Link:
    school = School.objects.filter(county=c.county).order_by("school_id").first()
    return services.open_links(c, school, [group])[0]


def filled(c: Campaign, group: str, answer: str = "满意") -> dict[str, str]:
    return {q["id"]: answer for q in c.questionnaire["groups"][group]["questions"]}


NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def url(link: Link) -> str:
    return reverse("survey:answer", args=[link.token])


def nonce_of(page: Any) -> str:
    found = NONCE.search(page.content.decode())
    assert found, "the answering form carries a nonce"
    return found.group(1)


def age(nonce: str, seconds: int) -> None:
    """Move the nonce's render time back (instead of waiting for the minimum answering time)."""
    rows = FormNonce.objects.filter(digest=services.nonce_digest(nonce))
    assert rows.update(rendered_at=F("rendered_at") - timedelta(seconds=seconds)) == 1


def render(client: Client, link: Link, seconds_ago: int = 120) -> str:
    """Open the answering page in this browser; its form nonce, rendered ``seconds_ago`` seconds ago."""
    page = client.get(url(link))
    assert page.status_code == 200
    nonce = nonce_of(page)
    age(nonce, seconds_ago)
    return nonce


def submit(client: Client, link: Link, data: dict[str, str], seconds_ago: int = 120) -> Any:
    """Open the page, answer for ``seconds_ago`` seconds and submit, as a respondent does."""
    return client.post(url(link), data | {"nonce": render(client, link, seconds_ago)})


# ----------------------------------------------------------------------------------------------------
# Questionnaires as data


def test_one_versioned_questionnaire_per_group_covering_every_content_area() -> None:
    docs = questionnaires.default_questionnaires()
    assert list(docs) == GROUPS
    areas = set(questionnaires.settings()["areas"])
    for doc in docs.values():
        assert doc["id"] and isinstance(doc["version"], int)
        assert {q["area"] for q in doc["questions"]} <= areas
    covered = {q["area"] for d in docs.values() for q in d["questions"]}
    assert {"equity", "sharing", "moral", "conduct", "quality", "teachers"} <= covered


def test_a_campaign_keeps_its_snapshot_when_the_files_change(campaign: Campaign) -> None:
    snap = campaign.questionnaire
    assert snap["scale"] == list(services.rules_for("national-2017").scale)
    assert snap["groups"]["parents"]["id"] == "parents-default" and snap["groups"]["parents"]["version"] == 1
    changed = {**questionnaires.default_questionnaires()}
    changed["parents"] = {**changed["parents"], "version": 2, "questions": [{"id": "x1", "text": "快照之外的新题"}]}
    with mock.patch.object(questionnaires, "default_questionnaires", return_value=changed):
        campaign.refresh_from_db()
        page = Client().get(url(open_link(campaign)))
    body = page.content.decode()
    assert "快照之外的新题" not in body and 'name="p01"' in body
    assert campaign.questionnaire["groups"]["parents"]["version"] == 1


# ----------------------------------------------------------------------------------------------------
# Single-use tokens


def test_tokens_are_random_url_safe_and_at_least_128_bits(campaign: Campaign) -> None:
    services.generate_links(campaign, "teachers", 50)
    tokens = list(Link.objects.filter(campaign=campaign).values_list("token", flat=True))
    assert len(set(tokens)) == len(tokens)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,}", t) and len(t) * 6 >= 128 for t in tokens)


def test_a_single_use_token_answers_once_and_then_shows_the_used_page(campaign: Campaign) -> None:
    link = single(campaign)
    client = Client(enforce_csrf_checks=True)
    page = client.get(url(link))
    assert page.status_code == 200 and "家长卷" in page.content.decode()
    assert not {"sessionid", "csrftoken"} & set(page.cookies)  # no session, no login, no CSRF cookie
    nonce = nonce_of(page)
    age(nonce, 120)
    done = client.post(url(link), filled(campaign, "parents") | {"nonce": nonce})
    assert done.status_code == 200 and "提交成功" in done.content.decode()
    again = Client().post(url(link), filled(campaign, "parents", "不满意"))
    assert again.status_code == 409 and "该链接已使用" in again.content.decode()
    replay = Client().post(url(link), filled(campaign, "parents", "不满意") | {"nonce": nonce})
    assert replay.status_code == 409 and "该链接已使用" in replay.content.decode()
    assert Client().get(url(link)).status_code == 409
    row = Response.objects.get(link=link)
    assert row.answers == filled(campaign, "parents") and row.group == "parents" and row.channel == "single"
    assert row.ip and "127.0.0.1" not in row.ip  # stored as a keyed hash only


def test_the_database_refuses_a_second_response_for_a_token(campaign: Campaign) -> None:
    link = single(campaign)
    base = {"campaign": campaign, "link": link, "channel": "single", "group": "parents", "answers": {}}
    Response.objects.create(submitted_at=timezone.now(), **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(submitted_at=timezone.now(), **base)


@contextmanager
def shared_connection() -> Iterator[None]:
    """Let other threads use this test's connection (the test transaction holds the fixtures)."""
    conn = connections["default"]
    conn.inc_thread_sharing()
    try:
        yield
    finally:
        conn.dec_thread_sharing()


def test_two_simultaneous_submissions_of_one_token_store_one_row(campaign: Campaign) -> None:
    """Both requests pass every check before either inserts (each with a nonce of its own page); the unique
    constraint alone decides."""
    link = single(campaign)
    nonces = [render(Client(), link), render(Client(), link)]
    conn = connections["default"]
    barrier, lock = threading.Barrier(2, timeout=10), threading.Lock()
    statuses: list[int] = []
    real_hash, real_atomic = answer_view.keyed_hash, transaction.atomic

    def hash_then_wait(kind: str, value: str) -> str:
        if kind == "ip":
            barrier.wait()  # both requests have read the link and validated the answers
        return real_hash(kind, value)

    @contextmanager
    def serial_atomic(*args: Any, **kwargs: Any) -> Iterator[None]:
        with lock, real_atomic(*args, **kwargs):  # one connection: its savepoints must not interleave
            yield

    def post(nonce: str) -> None:
        connections["default"] = conn
        statuses.append(Client().post(url(link), filled(campaign, "parents") | {"nonce": nonce}).status_code)

    with (
        shared_connection(),
        mock.patch.object(answer_view, "keyed_hash", hash_then_wait),
        mock.patch.object(answer_view.transaction, "atomic", serial_atomic),
    ):
        threads = [threading.Thread(target=post, args=(n,)) for n in nonces]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    assert sorted(statuses) == [200, 409]
    assert Response.objects.filter(link=link).count() == 1


def test_missing_answers_are_shown_again_and_nothing_is_stored(campaign: Campaign) -> None:
    link = single(campaign)
    answers = filled(campaign, "parents")
    first = next(iter(answers))
    del answers[first]
    nonce = render(Client(), link)
    page = Client().post(url(link), answers | {"nonce": nonce})
    assert page.status_code == 400 and "还有 1 道题没有作答" in page.content.decode()
    assert f'id="q-{first}"' in page.content.decode() and not Response.objects.exists()
    assert nonce_of(page) == nonce  # the same page again: the answering time keeps running
    assert Client().post(url(link), answers | {first: "随便"}).status_code == 400


# ----------------------------------------------------------------------------------------------------
# Open (QR) links


def test_an_open_link_takes_one_response_per_device(campaign: Campaign) -> None:
    link = open_link(campaign)
    client = Client(enforce_csrf_checks=True)
    first, second = render(client, link), render(client, link)  # the page opened twice on one phone
    assert client.post(url(link), filled(campaign, "parents") | {"nonce": first}).status_code == 200
    again = client.post(url(link), filled(campaign, "parents") | {"nonce": second})
    assert again.status_code == 409 and "本设备已经提交过" in again.content.decode()
    assert client.get(url(link)).status_code == 409  # told on opening the page again
    other = Client()
    assert submit(other, link, filled(campaign, "parents")).status_code == 200
    assert Response.objects.filter(link=link).count() == 2


def test_an_open_link_refuses_a_post_without_the_device_cookie(campaign: Campaign) -> None:
    link = open_link(campaign)
    nonce = render(Client(), link)
    page = Client().post(url(link), filled(campaign, "parents") | {"nonce": nonce})
    assert page.status_code == 403 and "Cookie" in page.content.decode() and not Response.objects.exists()


def test_answering_too_fast_is_refused_and_the_answers_kept(campaign: Campaign) -> None:
    link = open_link(campaign)
    client = Client()
    nonce = render(client, link, seconds_ago=2)
    page = client.post(url(link), filled(campaign, "parents", "比较满意") | {"nonce": nonce})
    body = page.content.decode()
    assert page.status_code == 403 and "答题时间过短" in body and 'value="比较满意" checked' in body
    assert not Response.objects.exists() and nonce_of(page) == nonce  # the clock keeps running on the same page
    forged = client.post(url(link), filled(campaign, "parents") | {"nonce": "forged-nonce"})
    assert forged.status_code == 400 and not Response.objects.exists()
    age(nonce, 30)
    assert client.post(url(link), filled(campaign, "parents") | {"nonce": nonce}).status_code == 200


def test_the_honeypot_refuses_bots(campaign: Campaign) -> None:
    link = single(campaign)
    page = Client().post(url(link), filled(campaign, "parents") | {answer_view.HONEYPOT: "http://spam"})
    assert page.status_code == 403 and "未被接受" in page.content.decode() and not Response.objects.exists()


def test_the_per_ip_limit_of_a_campaign(campaign: Campaign) -> None:
    campaign.questionnaire["protection"]["ip_max_responses"] = 2
    campaign.save()
    link = open_link(campaign)
    results = [submit(Client(), link, filled(campaign, "parents")).status_code for _ in range(3)]
    assert results == [200, 200, 429] and Response.objects.count() == 2
    refused = submit(Client(), link, filled(campaign, "parents"))
    assert "提交的问卷过多" in refused.content.decode()


@pytest.mark.parametrize(("status", "code", "text"), [("draft", 403, "尚未开始"), ("closed", 410, "已经结束")])
def test_a_campaign_that_is_not_open_answers_with_a_clear_page(
    campaign: Campaign, status: str, code: int, text: str
) -> None:
    link = single(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    for method in ("get", "post"):
        page = getattr(Client(), method)(url(link), filled(campaign, "parents"))
        assert page.status_code == code and text in page.content.decode()
    assert not Response.objects.exists()
    assert Client().get("/survey/a/unknown-token/").status_code == 404


def test_the_planned_window_of_an_open_campaign_is_kept(campaign: Campaign) -> None:
    link = single(campaign)
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(opens_at=now + timedelta(days=1))
    early = Client().post(url(link), filled(campaign, "parents"))
    assert early.status_code == 403 and "将于" in early.content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1))
    assert Client().post(url(link), filled(campaign, "parents")).status_code == 410
    Campaign.objects.filter(pk=campaign.pk).update(closes_at=now + timedelta(days=1))
    assert submit(Client(), link, filled(campaign, "parents")).status_code == 200
    assert Response.objects.count() == 1


# ----------------------------------------------------------------------------------------------------
# County pages


def create_post(population: int, quotas: dict[str, int]) -> dict[str, Any]:
    data: dict[str, Any] = {"title": "新调查", "population": population, "year": YEAR}
    return data | {f"quota_{g}": quotas.get(g, 0) for g in GROUPS}


def test_the_county_creates_a_campaign_with_validated_quotas(users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["county"])
    path = reverse("survey:county", args=[OWN_COUNTY])
    form = client.get(path, {"population": 1_000_000})
    assert form.status_code == 200 and 'name="quota_parents" value="750"' in form.content.decode()
    rules = services.rules_for("national-2017")
    too_small = client.post(path, create_post(1_000_000, {"parents": 700, "students": 700}))
    assert too_small.status_code == 400 and "少于按常住人口要求的 1,500" in too_small.content.decode()
    few_parents = client.post(path, create_post(100_000, {"parents": 299, "students": 301}))
    assert few_parents.status_code == 400 and "家长样本 299" in few_parents.content.decode()
    assert not Campaign.objects.exists()
    ok = client.post(path, create_post(100_000, {"parents": 300, "students": 300}))
    created = Campaign.objects.get()
    assert ok.status_code == 302 and created.quota_total == required_sample(100_000, rules)
    assert created.created_by == users["county"] and created.status == CampaignStatus.DRAFT and created.year == YEAR
    assert set(created.questionnaire["groups"]) == set(GROUPS)


def test_the_levels_above_read_but_do_not_write(users: dict[str, User], campaign: Campaign) -> None:
    for role in ("prefecture", "province", "ministry", "viewer"):
        client = Client()
        client.force_login(users[role])
        assert client.get(reverse("survey:campaign", args=[campaign.pk])).status_code == 200
        assert client.post(reverse("survey:status", args=[campaign.pk]), {"action": "close"}).status_code == 403
        assert client.post(reverse("survey:county", args=[OWN_COUNTY]), create_post(100_000, {})).status_code == 403
    school = Client()
    school.force_login(users["school"])
    assert school.get(reverse("survey:campaign", args=[campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN and Campaign.objects.count() == 1


def test_open_close_and_the_verdict_interface(users: dict[str, User], own_county: OrgUnit) -> None:
    client = Client()
    client.force_login(users["county"])
    c = services.create_campaign(own_county, YEAR, "流程", None, services.initial_quotas(None), users["county"])
    assert services.county_recognition(own_county, YEAR) is None  # a draft does not count
    status = reverse("survey:status", args=[c.pk])
    client.post(status, {"action": "open"})
    c.refresh_from_db()
    assert c.status == CampaignStatus.DRAFT  # no link yet
    services.generate_links(c, "parents", 3)
    client.post(status, {"action": "open"})
    c.refresh_from_db()
    assert c.status == CampaignStatus.OPEN and c.opened_by == users["county"]
    for answer in ("满意", "不满意", "不了解"):
        assert submit(Client(), single(c), filled(c, "parents", answer)).status_code == 200
    n = len(c.questionnaire["groups"]["parents"]["questions"])
    assert services.county_recognition(own_county, YEAR) == {
        "recognition_valid": 2 * n,
        "recognition_positive": n,
        "recognition_rate": None,
        "recognition_returns": 2,  # the questionnaire answered only 不了解 is not a valid return
        "recognition_sample": c.quota_total,
        "campaign_id": c.pk,
        "final": False,
    }
    with mock.patch("youjun.web.evaluation.pipeline.recompute") as recompute:
        asked = client.post(status, {"action": "close"})  # ending is irreversible: confirmed first
        assert asked.status_code == 200 and 'id="confirm-button"' in asked.content.decode()
        recompute.assert_not_called()
        assert client.post(status, {"action": "close", "confirmed": "1"}).status_code == 302
    recompute.assert_called_once_with(c.county, YEAR)
    c.refresh_from_db()
    assert c.status == CampaignStatus.CLOSED and c.closed_by == users["county"] and c.closed_at
    assert services.county_recognition(own_county, YEAR)["final"] is True  # type: ignore[index]
    moves = list(CampaignEvent.objects.filter(campaign=c).values_list("action", "from_status", "to_status", "user"))
    assert moves == [("open", "draft", "open", users["county"].pk), ("close", "open", "closed", users["county"].pk)]


def responses(c: Campaign, plan: dict[str, list[str]]) -> None:
    for group, answers in plan.items():
        for a in answers:
            assert submit(Client(), single(c, group), filled(c, group, a)).status_code == 200


def test_the_page_shows_the_engine_rate_per_group_and_per_question(users: dict[str, User], campaign: Campaign) -> None:
    responses(campaign, {"parents": ["满意", "满意", "基本满意", "不满意"], "teachers": ["满意", "不了解"]})
    np_, nt = (len(campaign.questionnaire["groups"][g]["questions"]) for g in ("parents", "teachers"))
    rate = Fraction(3 * np_ + nt, 4 * np_ + nt)  # every answer counts; 不了解 leaves the denominator
    percent = (Decimal(rate.numerator * 100) / Decimal(rate.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    expected = recognition(services.answers_frame(campaign), services.campaign_rules(campaign))
    assert expected.rate == float(rate)
    client = Client()
    client.force_login(users["prefecture"])
    body = client.get(reverse("survey:campaign", args=[campaign.pk])).content.decode()
    shown = re.search(r'id="recognition-rate">([^<]+)<', body)
    assert shown and shown.group(1) == f"{percent}%"  # worked out by hand, rounded half-up as shown
    parents = re.search(r'data-group="parents">.*?data-col="responses">(\d+)<.*?data-col="rate">([^<]+)<', body, re.S)
    assert parents and parents.groups() == ("4", "75.00%")
    assert "不了解" in body and "逐题统计" in body


def test_exports_parse_back(users: dict[str, User], campaign: Campaign) -> None:
    responses(campaign, {"parents": ["满意", "比较满意"], "students": ["不满意"]})
    client = Client()
    client.force_login(users["county"])
    raw = client.get(reverse("survey:responses_export", args=[campaign.pk]))
    assert raw.status_code == 200 and "attachment" in raw["Content-Disposition"]
    book = fastexcel.read_excel(raw.content)
    assert book.sheet_names[:2] == ["学生", "家长"]
    parents = book.load_sheet("家长", header_row=1).to_polars()
    first_q = campaign.questionnaire["groups"]["parents"]["questions"][0]
    assert parents.height == 2 and sorted(parents[f"{first_q['id']} {first_q['text']}"].to_list()) == [
        "比较满意",
        "满意",
    ]
    assert {"答卷编号", "渠道", "提交时间"} <= set(parents.columns)
    assert parents["是否计入"].to_list() == ["计入", "计入"] and min(parents["答题用时（秒）"].to_list()) >= 120
    assert book.sheet_names[-1] == "质量监测"
    links = client.get(reverse("survey:links_export", args=[campaign.pk]))
    sheet = fastexcel.read_excel(links.content).load_sheet("一次性链接", header_row=1).to_polars()
    sheet = sheet.filter(pl.col("令牌").is_not_null())  # the notes under the table
    assert sheet.height == Link.objects.filter(campaign=campaign, kind=LinkKind.SINGLE).count() == 3
    assert sheet["使用状态"].to_list() == ["已使用", "已使用", "已使用"]
    assert all(u.startswith("http://testserver/survey/a/") for u in sheet["问卷链接"].to_list())
    viewer = Client()
    viewer.force_login(users["province"])
    assert viewer.get(reverse("survey:links_export", args=[campaign.pk])).status_code == 403  # tokens stay local


def test_links_and_the_printable_qr_sheet(users: dict[str, User], campaign: Campaign) -> None:
    client = Client()
    client.force_login(users["county"])
    made = client.post(
        reverse("survey:links", args=[campaign.pk]), {"group": "teachers", "count": 25, "confirmed": "1"}
    )
    assert made.status_code == 302
    assert Link.objects.filter(campaign=campaign, kind=LinkKind.SINGLE, group="teachers").count() == 25
    school = School.objects.filter(county=campaign.county).order_by("school_id").first()
    assert school
    sheet = client.post(reverse("survey:school_links", args=[campaign.pk]), {"school": school.school_id})
    page = client.get(sheet["Location"])
    body = page.content.decode()
    assert body.count("<svg") == len(GROUPS) and body.count('class="qr-sheet"') == len(GROUPS)
    assert "家长</b>问卷" in body and school.name in body
    bad = client.post(reverse("survey:links", args=[campaign.pk]), {"group": "teachers", "count": 999_999})
    assert bad.status_code == 400 and "一次最多生成 5000 个" in bad.content.decode()
    assert Link.objects.filter(campaign=campaign, kind=LinkKind.SINGLE, group="teachers").count() == 25


def test_answers_frame_has_one_row_per_answer(campaign: Campaign) -> None:
    responses(campaign, {"parents": ["满意"], "npc": ["不满意"]})
    frame = services.answers_frame(campaign)
    n = {g: len(campaign.questionnaire["groups"][g]["questions"]) for g in ("parents", "npc")}
    assert frame.height == sum(n.values())
    assert frame.group_by("group").len().sort("group").to_dicts() == [
        {"group": "npc", "len": n["npc"]},
        {"group": "parents", "len": n["parents"]},
    ]
    assert isinstance(frame, pl.DataFrame)
