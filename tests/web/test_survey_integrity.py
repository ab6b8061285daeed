"""Survey integrity (S1): one-time form nonces, the cap of counted answers per group, the cap of single-use links,
the recorded state moves of a campaign and the integrity panel.

The ballot-stuffing attack measured before these rules (one 20-s-old render stamp, any number of fresh device
cookies, several source addresses) is repeated here against the real answering view; the races run on real
PostgreSQL connections in threads.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import fastexcel
import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from web.conftest import YEAR
from web.test_survey import age, filled, nonce_of, render, single, submit, url
from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.survey import answer as answer_view
from youjun.web.survey import services
from youjun.web.survey.models import (
    Campaign,
    CampaignEvent,
    CampaignStatus,
    FormNonce,
    GroupCount,
    Link,
    LinkKind,
    Refusal,
    Response,
)
from youjun.web.survey.services import campaigns as survey_campaigns

ADDRESSES = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
ON_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="races need a database with real concurrent sessions"
)


def small_plan(population: int | None = 300_000, **quotas: int) -> dict[str, int]:
    return services.initial_quotas(population) | quotas


def open_campaign(county: OrgUnit, **quotas: int) -> Campaign:
    c = services.create_campaign(county, YEAR, "诚信测试", 300_000, small_plan(**quotas), None)
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.OPEN)
    c.refresh_from_db()
    return c


def qr_link(c: Campaign, group: str) -> Link:
    return services.open_links(c, None, [group])[0]


def refused(c: Campaign) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason, n in Refusal.objects.filter(campaign=c).values_list("reason", "n"):
        counts[reason] = counts.get(reason, 0) + n
    return counts


def counted(c: Campaign, group: str) -> int:
    return Response.objects.filter(campaign=c, group=group, excess=False).count()


# ----------------------------------------------------------------------------------------------------
# The stuffing attack, repeated


@pytest.mark.django_db
def test_a_replayed_nonce_with_fresh_cookies_from_several_addresses_gets_nothing_through(own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    link = qr_link(c, "parents")
    victim = Client(REMOTE_ADDR=ADDRESSES[0])
    nonce = render(victim, link, seconds_ago=25)  # one page, 25 s old: what the measured attack started from
    statuses = []
    for i in range(60):
        attacker = Client(REMOTE_ADDR=ADDRESSES[i % len(ADDRESSES)])
        assert attacker.get(url(link)).status_code == 200  # a fresh device cookie (and a nonce of its own)
        statuses.append(attacker.post(url(link), filled(c, "parents", "不满意") | {"nonce": nonce}).status_code)
    assert statuses == [403] * 60 and not Response.objects.exists()
    assert refused(c) == {"replayed": 60}
    assert victim.post(url(link), filled(c, "parents") | {"nonce": nonce}).status_code == 200  # the page's owner
    again = Client(REMOTE_ADDR=ADDRESSES[1])
    again.get(url(link))
    assert again.post(url(link), filled(c, "parents", "不满意") | {"nonce": nonce}).status_code == 403
    assert Response.objects.count() == 1 and Response.objects.get().answers == filled(c, "parents")
    assert refused(c) == {"replayed": 61}


@pytest.mark.django_db
def test_harvested_pages_count_at_most_the_plan_plus_allowance(users: dict[str, User], own_county: OrgUnit) -> None:
    """Each fresh cookie opens its own page and waits: the per-group cap keeps all but quota + allowance aside."""
    c = open_campaign(own_county, principals=10)
    cap = 10 + 5  # 10 % of 10 is less than the minimum allowance of 5
    link = qr_link(c, "principals")
    honest = [submit(Client(REMOTE_ADDR=ADDRESSES[0]), link, filled(c, "principals")) for _ in range(4)]
    assert [r.status_code for r in honest] == [200] * 4
    bots = [Client(REMOTE_ADDR=ADDRESSES[i % len(ADDRESSES)]) for i in range(40)]
    pages = [render(bot, link, seconds_ago=25) for bot in bots]
    done = [
        bot.post(url(link), filled(c, "principals", "不满意") | {"nonce": n})
        for bot, n in zip(bots, pages, strict=True)
    ]
    assert all(r.status_code == 200 and "提交成功" in r.content.decode() for r in done)  # nobody is told
    assert counted(c, "principals") == cap and GroupCount.objects.get(campaign=c, group="principals").counted == cap
    assert Response.objects.filter(campaign=c, excess=True).count() == 4 + 40 - cap
    assert not Response.objects.filter(campaign=c, excess=False, id__gt=Response.objects.order_by("id")[cap - 1].id)
    n = len(c.questionnaire["groups"]["principals"]["questions"])
    frame = services.answers_frame(c)
    assert frame.height == cap * n  # the rate reads counted answers only
    progress = services.progress(c)
    row = next(g for g in progress.groups if g.group == "principals")
    assert (row.responses, row.excess, row.cap) == (cap, 29, cap) and progress.excess == 29
    assert progress.result.positive == 4 * n  # four honest answers, eleven counted bots

    client = Client()
    client.force_login(users["province"])  # a level above sees the integrity panel
    body = client.get(reverse("survey:campaign", args=[c.pk])).content.decode()
    assert 'data-col="excess">29<' in body and "另有 29 份答卷超出计划" in body
    assert 'data-integrity="blocks">1<' in body  # 127.0.0.1–4 are one /24 block
    assert 'data-integrity="repeated">44<' in body  # 4 honest alike, 40 bots alike
    assert 'data-integrity="fast">40<' in body  # the bots answered in 25 s, under the 60 s of the panel
    integrity = services.integrity(c)
    assert integrity.top_blocks[0][1] == 44 and integrity.repeated_patterns == 2
    assert integrity.patterns[0][1:] == ("每题均选“不满意”", 40) and sum(n for _, n in integrity.peaks) == 44
    assert integrity.excess == 29 and integrity.fast == 40

    export = client.get(reverse("survey:responses_export", args=[c.pk]))
    book = fastexcel.read_excel(export.content)
    sheet = book.load_sheet("校长", header_row=1).to_polars()
    assert sheet["是否计入"].value_counts().sort("是否计入").rows() == [("计入", cap), ("超出计划，未计入", 29)]
    panel = book.load_sheet("质量监测", header_row=1).to_polars()
    assert ("超出计划样本加余量（另存，未计入）", "29") in [(r[1], str(r[2])) for r in panel.rows()]


@pytest.mark.django_db
def test_address_blocks_are_slash_24_and_slash_64(own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    link = qr_link(c, "parents")
    for address in (
        "2001:db8::1",
        "2001:db8::2",
        "2001:db8:0:1::1",
        "203.0.113.9",
        "203.0.113.200",
        "::ffff:203.0.113.5",
    ):
        assert submit(Client(REMOTE_ADDR=address), link, filled(c, "parents")).status_code == 200
    integrity = services.integrity(c)
    assert integrity.blocks == 3 and sorted(n for _, n, _ in integrity.top_blocks) == [1, 2, 3]
    assert not any("203.0.113" in r or "2001" in r for r in Response.objects.values_list("net", flat=True))


@pytest.mark.django_db
def test_a_single_use_link_answered_too_fast_is_refused(own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    link = single(c, "teachers")
    client = Client()
    page = client.get(url(link))
    nonce = nonce_of(page)
    fast = client.post(url(link), filled(c, "teachers", "比较满意") | {"nonce": nonce})
    body = fast.content.decode()
    assert fast.status_code == 403 and "答题时间过短" in body and 'value="比较满意" checked' in body
    assert nonce_of(fast) == nonce and not Response.objects.exists()
    assert refused(c) == {"too_fast": 1}
    no_page = Client().post(url(link), filled(c, "teachers"))  # straight to the POST, as a script would
    assert no_page.status_code == 400 and not Response.objects.exists()
    assert refused(c) == {"too_fast": 1, "expired": 1}
    age(nonce, 21)
    assert client.post(url(link), filled(c, "teachers") | {"nonce": nonce}).status_code == 200
    assert 21 <= Response.objects.get().duration < 30


@pytest.mark.django_db
def test_a_nonce_belongs_to_its_link(own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    first, second = single(c, "teachers"), single(c, "teachers")
    nonce = render(Client(), first)
    page = Client().post(url(second), filled(c, "teachers") | {"nonce": nonce})
    assert page.status_code == 403 and not Response.objects.exists() and refused(c) == {"replayed": 1}
    assert Client().post(url(first), filled(c, "teachers") | {"nonce": nonce}).status_code == 200


@pytest.mark.django_db
def test_an_expired_page_is_reloaded_with_the_answers_kept(own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    link = qr_link(c, "parents")
    client = Client()
    nonce = render(client, link, seconds_ago=25 * 3600)
    FormNonce.objects.update(expires_at=F("rendered_at") + timedelta(hours=24))
    page = client.post(url(link), filled(c, "parents", "基本满意") | {"nonce": nonce})
    body = page.content.decode()
    assert page.status_code == 400 and "已过期" in body and 'value="基本满意" checked' in body
    assert nonce_of(page) != nonce and not Response.objects.exists()


@pytest.mark.django_db
def test_expired_nonces_are_purged(own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    link = qr_link(c, "parents")
    for _ in range(5):
        render(Client(), link)
    FormNonce.objects.filter(pk__in=list(FormNonce.objects.values_list("pk", flat=True)[:3])).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.purge_nonces(limit=2) == 2 and FormNonce.objects.count() == 3
    assert services.purge_nonces() == 1 and FormNonce.objects.count() == 2


@pytest.mark.django_db
def test_the_purge_command_deletes_expired_nonces(own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    render(Client(), qr_link(c, "parents"))
    FormNonce.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    out = io.StringIO()
    call_command("purge_survey_nonces", stdout=out)
    assert "已删除 1 个" in out.getvalue() and not FormNonce.objects.exists()


@pytest.mark.django_db
def test_the_demo_campaign_counts_its_answers_and_records_its_opening() -> None:
    from youjun.web.survey import demo

    lines = demo.setup()
    c = Campaign.objects.get(title=demo.TITLE)
    assert lines and c.status == CampaignStatus.OPEN
    for row in GroupCount.objects.filter(campaign=c):
        assert row.counted == counted(c, row.group) <= row.cap
    assert list(CampaignEvent.objects.filter(campaign=c).values_list("action", flat=True)) == ["open"]
    assert services.integrity(c).blocks > 1 and demo.setup() == lines  # idempotent
    assert CampaignEvent.objects.filter(campaign=c).count() == 1


# ----------------------------------------------------------------------------------------------------
# Plans and links


@pytest.mark.django_db
def test_link_creation_over_the_plan_plus_allowance_is_refused(users: dict[str, User], own_county: OrgUnit) -> None:
    c = open_campaign(own_county, teachers=75)  # cap: 75 + ⌈7.5⌉ = 83
    assert services.link_cap(c, "teachers") == 83
    client = Client()
    client.force_login(users["county"])
    path = reverse("survey:links", args=[c.pk])
    assert client.post(path, {"group": "teachers", "count": 80, "confirmed": "1"}).status_code == 302
    over = client.post(path, {"group": "teachers", "count": 4}, follow=True)
    body = over.content.decode()
    assert "一次性链接最多 83 个" in body and "已生成 80 个" in body and "还可生成 3 个" in body
    assert Link.objects.filter(campaign=c, kind=LinkKind.SINGLE, group="teachers").count() == 80
    assert client.post(path, {"group": "teachers", "count": 3, "confirmed": "1"}).status_code == 302
    with pytest.raises(YoujunError, match="还可生成 0 个"):
        services.generate_links(c, "teachers", 1)
    assert Link.objects.filter(campaign=c, kind=LinkKind.SINGLE, group="teachers").count() == 83


@pytest.mark.django_db
def test_quotas_cannot_drop_below_the_answers_already_counted(users: dict[str, User], own_county: OrgUnit) -> None:
    c = open_campaign(own_county, principals=10)
    link = qr_link(c, "principals")
    for _ in range(12):
        assert submit(Client(), link, filled(c, "principals")).status_code == 200
    client = Client()
    client.force_login(users["county"])
    quotas = small_plan(principals=5, parents=310)  # cap 10 < 12 counted
    post = {"population": 300_000} | {f"quota_{g}": n for g, n in quotas.items()}
    page = client.post(reverse("survey:quotas", args=[c.pk]), post)
    assert page.status_code == 400 and "校长已计入 12 份答卷" in page.content.decode()
    c.refresh_from_db()
    assert c.quotas["principals"] == 10 and GroupCount.objects.get(campaign=c, group="principals").cap == 15
    quotas = small_plan(principals=7, parents=310)  # cap 12: allowed
    post = {"population": 300_000} | {f"quota_{g}": n for g, n in quotas.items()}
    assert client.post(reverse("survey:quotas", args=[c.pk]), post).status_code == 302
    assert GroupCount.objects.get(campaign=c, group="principals").cap == 12
    assert submit(Client(), link, filled(c, "principals")).status_code == 200
    assert counted(c, "principals") == 12 and Response.objects.filter(excess=True).count() == 1


@pytest.mark.django_db
def test_a_bulk_import_is_settled_against_the_cap(own_county: OrgUnit) -> None:
    c = open_campaign(own_county, principals=10)
    link = qr_link(c, "principals")
    now = timezone.now()
    Response.objects.bulk_create(
        Response(
            campaign=c, link=link, channel="open", group="principals", answers={}, submitted_at=now, device=f"d{i}"
        )
        for i in range(20)
    )
    services.recount(c)
    first = list(Response.objects.filter(campaign=c).order_by("id").values_list("excess", flat=True))
    assert first == [False] * 15 + [True] * 5
    assert GroupCount.objects.get(campaign=c, group="principals").counted == 15


# ----------------------------------------------------------------------------------------------------
# State moves, history and S1


def stored_s1(county: OrgUnit) -> dict[str, Any]:
    return dict(CountyEvaluation.objects.get(county=county, year=YEAR).result["social_recognition"])


@pytest.mark.django_db
def test_close_and_reopen_are_recorded_and_reopening_makes_s1_insufficient(
    users: dict[str, User], own_county: OrgUnit, evaluations: object
) -> None:
    official = Client()
    official.force_login(users["county"])
    plan = {g: 0 for g in small_plan()} | {"parents": 3}  # 3 answers are the whole sample: valid return 100 %
    c = services.create_campaign(own_county, YEAR, "流程", 300_000, plan, users["county"])
    status = reverse("survey:status", args=[c.pk])
    services.generate_links(c, "parents", 3)
    assert official.post(status, {"action": "open"}).status_code == 302
    for _ in range(3):
        assert submit(Client(), single(c), filled(c, "parents")).status_code == 200
    assert stored_s1(own_county)["status"] == "insufficient_data"  # open: never decided

    assert official.post(status, {"action": "close", "reason": "样本已够", "confirmed": "1"}).status_code == 302
    s1 = stored_s1(own_county)
    assert s1["status"] == "met" and s1["value"] == 1.0

    no_reason = official.post(status, {"action": "reopen", "reason": "   "}, follow=True)
    assert "须填写原因" in no_reason.content.decode()
    c.refresh_from_db()
    assert c.status == CampaignStatus.CLOSED and CampaignEvent.objects.filter(campaign=c).count() == 2

    assert official.post(status, {"action": "reopen", "reason": "补充 <b>教师</b>答卷"}).status_code == 302
    c.refresh_from_db()
    assert c.status == CampaignStatus.OPEN and c.closed_at is None
    s1 = stored_s1(own_county)
    assert s1["status"] == "insufficient_data" and s1["valid"] is None  # reopened: S1 insufficient again

    events = list(CampaignEvent.objects.filter(campaign=c).order_by("id"))
    assert [(e.action, e.from_status, e.to_status, e.reason) for e in events] == [
        ("open", "draft", "open", ""),
        ("close", "open", "closed", "样本已够"),
        ("reopen", "closed", "open", "补充 <b>教师</b>答卷"),
    ]
    assert all(e.user == users["county"] and e.at for e in events)
    viewer = Client()
    viewer.force_login(users["prefecture"])
    body = viewer.get(reverse("survey:campaign", args=[c.pk])).content.decode()
    history = body[body.index('id="history"') :]
    assert history.count('data-action="') == 3 and "补充 &lt;b&gt;教师&lt;/b&gt;答卷" in history
    assert "重新开始调查" in history and "样本已够" in history


@pytest.mark.django_db
def test_a_stale_page_gets_a_conflict_and_nothing_is_logged(users: dict[str, User], own_county: OrgUnit) -> None:
    c = open_campaign(own_county)
    first, second = Client(), Client()
    first.force_login(users["county"])
    second.force_login(make_clerk(own_county))
    status = reverse("survey:status", args=[c.pk])
    assert first.post(status, {"action": "close", "seen": 0, "confirmed": "1"}).status_code == 302
    late = second.post(status, {"action": "close", "seen": 0})
    assert late.status_code == 409 and "状态刚刚已被更改" in late.content.decode() and "已结束" in late.content.decode()
    assert CampaignEvent.objects.filter(campaign=c).count() == 1
    seen = latest_event(c)
    assert first.post(status, {"action": "reopen", "reason": "补录", "seen": seen}).status_code == 302
    assert first.post(status, {"action": "close", "seen": latest_event(c), "confirmed": "1"}).status_code == 302
    assert first.post(status, {"action": "reopen", "reason": "再补录", "seen": latest_event(c)}).status_code == 302
    stale = second.post(status, {"action": "close", "seen": seen})  # its page predates a close and a reopen
    assert stale.status_code == 409 and CampaignEvent.objects.filter(campaign=c).count() == 4
    c.refresh_from_db()
    assert c.status == CampaignStatus.OPEN


def latest_event(c: Campaign) -> int:
    return int(CampaignEvent.objects.filter(campaign=c).order_by("-id").values_list("id", flat=True)[0])


def make_clerk(county: OrgUnit) -> User:
    return User.objects.create(username="county-clerk-2", role=Role.COUNTY, org_unit=county)


# ----------------------------------------------------------------------------------------------------
# Real races (PostgreSQL)


def _units() -> OrgUnit:
    """A county of its own (transactional tests start from an empty database)."""
    province = OrgUnit.objects.create(code="980000", name="诚信省", level=Level.PROVINCE)
    prefecture = OrgUnit.objects.create(
        code="980100", name="诚信市", level=Level.PREFECTURE, parent=province, province_name="诚信省"
    )
    return OrgUnit.objects.create(
        code="980101", name="诚信县", level=Level.COUNTY, parent=prefecture, province_name="诚信省"
    )


def _race(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run the actions at the same moment in threads with their own connections; their results in order."""
    barrier = threading.Barrier(len(actions), timeout=60)
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = action()
        except YoujunError as exc:
            results[i] = exc.problems[0].code
        except Exception as exc:  # reported, so that the assertion shows it
            results[i] = f"error: {type(exc).__name__}: {exc}"
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


BURST = 24


@ON_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_under_a_concurrent_burst() -> None:
    """24 harvested pages submitted at once, every transaction past its nonce before any counts: exactly the cap
    is counted, the rest kept aside; the counter and the rows agree."""
    county = _units()
    c = open_campaign(county, principals=10)
    cap = 15
    link = qr_link(c, "principals")
    bots = [Client(REMOTE_ADDR=ADDRESSES[i % len(ADDRESSES)]) for i in range(BURST)]
    pages = [render(bot, link, seconds_ago=25) for bot in bots]
    inside = threading.Barrier(BURST, timeout=60)
    real_consume = answer_view._consume

    def consume_then_wait(*args: Any, **kwargs: Any) -> Any:
        spent = real_consume(*args, **kwargs)
        inside.wait()  # all transactions are open with their nonce spent: now they all insert and count
        return spent

    def post(bot: Client, nonce: str) -> Callable[[], int]:
        return lambda: bot.post(url(link), filled(c, "principals", "不满意") | {"nonce": nonce}).status_code

    with mock.patch.object(answer_view, "_consume", consume_then_wait):
        statuses = _race([post(bot, n) for bot, n in zip(bots, pages, strict=True)])
    assert statuses == [200] * BURST
    assert counted(c, "principals") == cap == GroupCount.objects.get(campaign=c, group="principals").counted
    assert Response.objects.filter(campaign=c, excess=True).count() == BURST - cap
    assert FormNonce.objects.filter(used_at__isnull=False).count() == BURST


@ON_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_one_nonce_submitted_at_once_by_many_cookies_and_addresses_counts_once() -> None:
    county = _units()
    c = open_campaign(county)
    link = qr_link(c, "parents")
    owner = Client(REMOTE_ADDR=ADDRESSES[0])
    nonce = render(owner, link, seconds_ago=25)
    crowd = [owner]
    for i in range(11):
        other = Client(REMOTE_ADDR=ADDRESSES[i % len(ADDRESSES)])
        other.get(url(link))
        crowd.append(other)
    statuses = _race(
        [lambda cl=cl: cl.post(url(link), filled(c, "parents") | {"nonce": nonce}).status_code for cl in crowd]
    )
    assert statuses[0] == 200 and sorted(statuses[1:]) == [403] * 11
    assert Response.objects.filter(campaign=c).count() == 1
    token = single(c, "parents")
    page = render(Client(), token, seconds_ago=25)
    statuses = _race([lambda: Client().post(url(token), filled(c, "parents") | {"nonce": page}).status_code] * 8)
    assert sorted(statuses) == [200] + [409] * 7
    assert Response.objects.filter(link=token).count() == 1


def _move_at_once(c: Campaign, action: str, officials: list[User]) -> list[Any]:
    """Each official has the page open (read the campaign) and moves it; both reach the UPDATE together."""
    copies = [Campaign.objects.get(pk=c.pk) for _ in officials]
    ready = threading.Barrier(len(officials), timeout=60)

    class Clock:
        """The move reads the time just before its UPDATE: the officials wait there for each other."""

        @staticmethod
        def now() -> Any:
            ready.wait()
            return timezone.now()

    def move(i: int) -> str:
        return str(services.transition(copies[i], action, officials[i], "补录答卷").action)

    with mock.patch.object(survey_campaigns, "timezone", Clock):
        return _race([functools.partial(move, i) for i in range(len(officials))])


@ON_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_two_officials_closing_at_once_one_wins_and_one_move_is_logged() -> None:
    county = _units()
    officials = [User.objects.create(username=f"official-{i}", role=Role.COUNTY, org_unit=county) for i in range(2)]
    c = open_campaign(county)
    for round_ in range(8):
        action = "close" if round_ % 2 == 0 else "reopen"
        before = CampaignEvent.objects.filter(campaign=c).count()
        outcomes = _move_at_once(c, action, officials)
        assert sorted(outcomes) == sorted([action, "survey.state_conflict"]), outcomes
        moves = list(CampaignEvent.objects.filter(campaign=c).order_by("id"))[before:]
        assert len(moves) == 1 and moves[0].action == action  # one move logged per race, never two
        assert Campaign.objects.get(pk=c.pk).status == moves[0].to_status


@ON_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_link_creation_at_once_never_passes_the_cap() -> None:
    county = _units()
    c = open_campaign(county, teachers=75)  # cap 83
    outcomes = _race([lambda: services.generate_links(c, "teachers", 50) for _ in range(3)])
    assert sorted(outcomes, key=str) == sorted([50, "survey.link_cap", "survey.link_cap"], key=str)
    assert Link.objects.filter(campaign=c, kind=LinkKind.SINGLE, group="teachers").count() == 50
