"""Writes of the to-do app: deadline reminders (in-app and e-mail), notices settled when their action is done, the
county's one-click chase of its schools, and the daily digest.

- Reminders (``send_reminders``, run once a day by ``youjun-web send_reminders`` or the task system): for every
  to-do marked ``remind`` whose deadline has reached a step of the schedule (``data/reminders.toml``: 7, 3 and 1
  days before, 1 day after), one ``Notification`` per user, keyed ``remind:<to-do>:<deadline date>:<step>``; the
  unique (user, key) makes a second run the same day create nothing, and a moved deadline starts the steps again.
  A reminder newly created is e-mailed when ``YOUJUN_EMAIL_ENABLED`` and the user has an address.
- Settling (``settle_notifications``): a notice whose action has been done (the nomination was reviewed, the plan
  answered, the record submitted, the to-do it reminded of is gone) gets ``done_at``; so does an older notice of
  the same object and step superseded by a newer one. Informational notices (confirmed, published, extension) stay
  until read. Called by the 工作台 with the list it has just built, and by the reminder run for everyone.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.collection.services import open_collection
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme.models import (
    Batch,
    BatchStatus,
    Nomination,
    NominationStatus,
    Notification,
    Plan,
    PlanStatus,
    ProgressReport,
    ProvinceSubmission,
    ReportStatus,
)
from youjun.web.shortcuts import absolute_url, refusal
from youjun.web.todo import selectors
from youjun.web.todo.models import DigestSent
from youjun.web.todo.schedule import schedule
from youjun.web.todo.selectors import Todo

log = logging.getLogger("youjun.todo")

#: Keys are stored in ``Notification.key`` (80 characters) and texts in ``Notification.text`` (300).
KEY_LENGTH, TEXT_LENGTH = 80, 300
CHUNK = 500
#: The open notices one settling looks at (the newest first); older ones are settled by the reminder run.
SETTLE_LIMIT = 500
SIGNATURE = "本邮件由优均系统（县域义务教育优质均衡）自动发送，请勿直接回复。"


@dataclass(frozen=True)
class Recipient:
    pk: int
    email: str
    name: str


@dataclass(frozen=True)
class Reminder:
    """One notice to create: for whom, its idempotent key, its text and link, and the to-do it is about."""

    user: Recipient
    key: str
    text: str
    url: str
    todo: Todo


@dataclass
class Run:
    """What one reminder run did (or, ``dry_run``, would do)."""

    created: list[Reminder] = field(default_factory=list)
    emails: int = 0
    failed: int = 0
    settled: int = 0
    digests: int = 0
    dry_run: bool = False

    @property
    def would_email(self) -> int:
        return sum(1 for r in self.created if r.user.email) if settings.YOUJUN_EMAIL_ENABLED else 0


# ---------------------------------------------------------------------------------------------------------------
# Reminders


def reminder_key(todo: Todo, step: str) -> str:
    assert todo.deadline is not None
    return f"remind:{todo.key}:{timezone.localdate(todo.deadline):%Y%m%d}:{step}"[:KEY_LENGTH]


def reminder_text(todo: Todo) -> str:
    lead = "已逾期：" if todo.overdue else "待办提醒："
    return f"{lead}{todo.sentence}"[:TEXT_LENGTH]


def _recipients(role: str, by: str) -> dict[int, list[Recipient]]:
    """Active users of a role by unit (``by`` = ``org_unit_id``) or by school (``school_id``)."""
    found: dict[int, list[Recipient]] = defaultdict(list)
    rows = (
        User.objects.filter(role=role, is_active=True, **{f"{by}__isnull": False})
        .order_by("pk")
        .values_list("pk", by, "email", "display_name", "username")
    )
    for pk, where, email, name, username in rows.iterator(chunk_size=5000):
        found[where].append(Recipient(pk, email or "", name or username))
    return found


def current_todos(now: dt.datetime) -> Iterable[tuple[list[Recipient], list[Todo]]]:
    """Every unit's to-dos that reminders are sent for, with the users who get them: provinces (nominations),
    counties (their schools' filing) and schools (their record), each level built once for the whole country."""
    provinces = _recipients(Role.PROVINCE, "org_unit_id")
    for province in OrgUnit.objects.filter(level=Level.PROVINCE, pk__in=list(provinces)).order_by("code"):
        yield provinces[province.pk], selectors.province_todos(province, now, full=False)
    counties = _recipients(Role.COUNTY, "org_unit_id")
    units = list(OrgUnit.objects.filter(level=Level.COUNTY, users__role=Role.COUNTY, users__is_active=True).distinct())
    for county_id, todos in selectors.county_todos(units, now, full=False).items():
        yield counties.get(county_id, []), todos
    schools = _recipients(Role.SCHOOL, "school_id")
    for school_id, todos in selectors.school_todos(now).items():
        yield schools.get(school_id, []), todos


def due_reminders(
    now: dt.datetime, found: Iterable[tuple[list[Recipient], list[Todo]]] | None = None
) -> tuple[list[Reminder], dict[int, set[str]]]:
    """The reminders whose step has come (before checking which exist), and every user's current to-do keys."""
    steps = schedule()
    due: list[Reminder] = []
    keys: dict[int, set[str]] = defaultdict(set)
    for users, todos in found if found is not None else current_todos(now):
        for todo in todos:
            for user in users:
                keys[user.pk].add(todo.key)
            days = todo.days_left
            if not todo.remind or todo.deadline is None or days is None:
                continue
            step = steps.threshold(days)
            if step is None:
                continue
            key, text = reminder_key(todo, step), reminder_text(todo)
            due += [Reminder(user, key, text, todo.url, todo) for user in users]
    return due, keys


def _new(reminders: Sequence[Reminder]) -> list[Reminder]:
    """Those of ``reminders`` that no notice exists for yet (one per user and key, also within the list)."""
    existing: set[tuple[int, str]] = set()
    keys = sorted({r.key for r in reminders})
    for i in range(0, len(keys), CHUNK):
        existing |= set(Notification.objects.filter(key__in=keys[i : i + CHUNK]).values_list("user_id", "key"))
    fresh = []
    for r in reminders:
        if (r.user.pk, r.key) not in existing:
            existing.add((r.user.pk, r.key))
            fresh.append(r)
    return fresh


def store(reminders: Sequence[Reminder]) -> list[Reminder]:
    """Create the notices not yet there; returns those created (a concurrent run's duplicates are ignored)."""
    fresh = _new(reminders)
    Notification.objects.bulk_create(
        [Notification(user_id=r.user.pk, key=r.key, text=r.text, url=r.url) for r in fresh],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return fresh


def email_body(name: str, text: str, url: str, todo: Todo | None = None, lead: str = "") -> str:
    lines = [f"{name}，您好：", ""]
    if lead:
        lines += [lead, ""]
    lines.append(text)
    if todo is not None:
        if todo.deadline is not None:
            lines.append(f"截止时间：{todo.deadline_text}（{todo.countdown}）")
        if todo.names_text:
            lines.append(f"涉及：{todo.names_text}")
        if todo.detail:
            lines.append(todo.detail)
    lines += ["", f"办理地址：{absolute_url(None, url)}", "", SIGNATURE]
    return "\n".join(lines)


def send_emails(messages: Sequence[tuple[str, str, str]]) -> tuple[int, int]:
    """Send (address, subject, body) e-mails through one connection when e-mail is enabled; (sent, failed). A
    failing message is logged and skipped: the in-app notice exists either way."""
    if not settings.YOUJUN_EMAIL_ENABLED or not messages:
        return 0, 0
    sent = failed = 0
    try:
        with get_connection() as connection:
            for address, subject, body in messages:
                message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection)
                try:
                    sent += message.send()
                except (smtplib.SMTPException, OSError) as exc:
                    failed += 1
                    log.warning("reminder e-mail failed: %s", type(exc).__name__)
    except (smtplib.SMTPException, OSError) as exc:  # the server could not be reached at all
        log.warning("reminder e-mails not sent, no connection: %s", type(exc).__name__)
        failed = len(messages) - sent
    return sent, failed


def _reminder_emails(created: Sequence[Reminder]) -> list[tuple[str, str, str]]:
    out = []
    for r in created:
        if r.user.email:
            subject = f"【优均】{'已逾期' if r.todo.overdue else '待办提醒'}：{r.todo.text}"[:150]
            out.append((r.user.email, subject, email_body(r.user.name, r.todo.text, r.url, r.todo)))
    return out


def send_reminders(now: dt.datetime | None = None, *, dry_run: bool = False, digest: bool = False) -> Run:
    """The daily reminder run (the function the task system calls): create the reminders that are due, e-mail
    them, settle every open notice whose action is done, and (``digest``) send the daily digests.

    ``dry_run`` computes the same and writes nothing, sends nothing."""
    now = now or timezone.now()
    due, keys = due_reminders(now)
    run = Run(dry_run=dry_run)
    if dry_run:
        run.created = _new(due)
        return run
    with transaction.atomic():
        run.created = store(due)
    run.emails, run.failed = send_emails(_reminder_emails(run.created))
    run.settled = settle_all(keys)
    if digest:
        run.digests = send_digests(now)
    log.info("reminders: %d created, %d e-mailed, %d settled", len(run.created), run.emails, run.settled)
    return run


# ---------------------------------------------------------------------------------------------------------------
# Settling notices whose action is done

#: Notice keys (as the programme's services and this app write them) → the kind of action they ask for.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^return-(\d+)-"), "nomination"),
    (re.compile(r"^resubmitted-(\d+)-"), "resubmitted"),
    (re.compile(r"^submitted-(\d+)-(\d{6})-"), "province-set"),
    (re.compile(r"^(?:deadline|batch-open)-(\d+)$"), "batch"),
    (re.compile(r"^pilot-(\d+)$"), "pilot"),
    (re.compile(r"^plan-(\d+)-(submit|return)-"), "plan"),
    (re.compile(r"^report-(\d+)-(submit|return)-"), "report"),
    (re.compile(r"^(?:remind|chase):([^:]+):"), "todo"),
)


@dataclass(frozen=True)
class Notice:
    pk: int
    user_id: int
    kind: str
    ids: tuple[str, ...]
    created_at: dt.datetime


def _parsed(rows: Iterable[tuple[int, int, str, dt.datetime]]) -> list[Notice]:
    found = []
    for pk, user_id, key, created_at in rows:
        for pattern, kind in PATTERNS:
            match = pattern.match(key)
            if match:
                found.append(Notice(pk, user_id, kind, match.groups(), created_at))
                break
    return found


def _superseded(notices: Sequence[Notice]) -> set[int]:
    """Older open notices of the same user, object and step as a newer one (a resubmission asks anew)."""
    newest: dict[tuple[int, str, tuple[str, ...]], Notice] = {}
    old = set()
    for n in sorted(notices, key=lambda n: (n.created_at, n.pk)):
        if n.kind in ("nomination", "resubmitted", "province-set", "plan", "report"):
            slot = (n.user_id, n.kind, n.ids)
            if slot in newest:
                old.add(newest[slot].pk)
            newest[slot] = n
    return old


def _done(notices: Sequence[Notice], todo_keys: Callable[[int], set[str] | None]) -> set[int]:
    """The notices whose action is done, from one query per kind present."""
    by_kind: dict[str, list[Notice]] = defaultdict(list)
    for n in notices:
        by_kind[n.kind].append(n)
    done = _superseded(notices)

    def ids(kind: str) -> list[int]:
        return sorted({int(n.ids[0]) for n in by_kind[kind]})

    if by_kind["nomination"]:
        returned = set(
            Nomination.objects.filter(pk__in=ids("nomination"), status=NominationStatus.RETURNED).values_list(
                "pk", flat=True
            )
        )
        done |= {n.pk for n in by_kind["nomination"] if int(n.ids[0]) not in returned}
    if by_kind["resubmitted"]:
        unreviewed = set(
            Nomination.objects.filter(pk__in=ids("resubmitted"), status=NominationStatus.SUBMITTED).values_list(
                "pk", flat=True
            )
        )
        done |= {n.pk for n in by_kind["resubmitted"] if int(n.ids[0]) not in unreviewed}
    if by_kind["province-set"]:
        waiting = set(
            Nomination.objects.filter(batch_id__in=ids("province-set"), status=NominationStatus.SUBMITTED)
            .values_list("batch_id", "province__code")
            .distinct()
        )
        done |= {n.pk for n in by_kind["province-set"] if (int(n.ids[0]), n.ids[1]) not in waiting}
    if by_kind["batch"]:
        done |= _batches_done(by_kind["batch"], ids("batch"))
    if by_kind["pilot"]:
        planned = set(
            Plan.objects.filter(
                nomination_id__in=ids("pilot"), status__in=(PlanStatus.SUBMITTED, PlanStatus.ACCEPTED)
            ).values_list("nomination_id", flat=True)
        )
        done |= {n.pk for n in by_kind["pilot"] if int(n.ids[0]) in planned}
    for kind, model, states in (
        ("plan", Plan, {"submit": PlanStatus.SUBMITTED, "return": PlanStatus.RETURNED}),
        ("report", ProgressReport, {"submit": ReportStatus.SUBMITTED, "return": ReportStatus.RETURNED}),
    ):
        if by_kind[kind]:
            status = dict(model.objects.filter(pk__in=ids(kind)).values_list("pk", "status"))
            done |= {n.pk for n in by_kind[kind] if status.get(int(n.ids[0])) != states[n.ids[1]]}
    for n in by_kind["todo"]:
        keys = todo_keys(n.user_id)
        if keys is not None and n.ids[0] not in keys:
            done.add(n.pk)
    return done


def _batches_done(notices: Sequence[Notice], batch_ids: list[int]) -> set[int]:
    """A province's "nominate" notices are done once the batch closed or the province signed off every draft."""
    units = dict(
        User.objects.filter(pk__in={n.user_id for n in notices}, role=Role.PROVINCE).values_list("pk", "org_unit_id")
    )
    still_open = set(Batch.objects.filter(pk__in=batch_ids, status=BatchStatus.OPEN).values_list("pk", flat=True))
    signed = set(ProvinceSubmission.objects.filter(batch_id__in=batch_ids).values_list("batch_id", "province_id"))
    drafts = set(
        Nomination.objects.filter(batch_id__in=batch_ids, status=NominationStatus.DRAFT)
        .values_list("batch_id", "province_id")
        .distinct()
    )
    done = set()
    for n in notices:
        batch, province = int(n.ids[0]), units.get(n.user_id)
        if province is None:
            continue  # not a province account: its notice asks nothing of it
        if batch not in still_open or ((batch, province) in signed and (batch, province) not in drafts):
            done.add(n.pk)
    return done


def _mark_done(pks: Iterable[int], now: dt.datetime | None = None) -> int:
    ordered = sorted(pks)
    changed = 0
    for i in range(0, len(ordered), CHUNK):
        changed += Notification.objects.filter(pk__in=ordered[i : i + CHUNK], done_at__isnull=True).update(
            done_at=now or timezone.now()
        )
    return changed


def settle_notifications(user: User, todos: Sequence[Todo] | None = None) -> int:
    """Mark done the user's open notices whose action has been done; returns how many. ``todos``: the user's
    to-do list if the caller has just built it (else it is built when a reminder is among the open notices).
    A handful of queries: one for the open notices, one per kind of action among them."""
    rows = (
        Notification.objects.filter(user=user, done_at__isnull=True)
        .order_by("-created_at", "-pk")
        .values_list("pk", "user_id", "key", "created_at")[:SETTLE_LIMIT]
    )
    notices = _parsed(rows)
    if not notices:
        return 0
    cache: dict[int, set[str]] = {}

    def keys(user_id: int) -> set[str]:
        if user_id not in cache:
            cache[user_id] = {t.key for t in (todos if todos is not None else selectors.todos_for(user))}
        return cache[user_id]

    return _mark_done(_done(notices, keys))


def settle_all(todo_keys: dict[int, set[str]]) -> int:
    """Settle every user's open notices (the reminder run). ``todo_keys``: each user's current to-do keys of the
    kinds reminders are sent for (users absent have none left); a reminder is judged only against those."""
    rows = (
        Notification.objects.filter(done_at__isnull=True)
        .filter(_settled_keys())
        .order_by("pk")
        .values_list("pk", "user_id", "key", "created_at")
    )
    total = 0
    batch: list[tuple[int, int, str, dt.datetime]] = []
    for row in rows.iterator(chunk_size=5000):
        batch.append(row)
        if len(batch) >= 5000:
            total += _mark_done(_done(_parsed(batch), lambda u: todo_keys.get(u, set())))
            batch = []
    if batch:
        total += _mark_done(_done(_parsed(batch), lambda u: todo_keys.get(u, set())))
    return total


def _settled_keys() -> Q:
    starts = (
        "return-",
        "resubmitted-",
        "submitted-",
        "deadline-",
        "batch-open-",
        "pilot-",
        "plan-",
        "report-",
        "remind:",
        "chase:",
    )
    query = Q()
    for prefix in starts:
        query |= Q(key__startswith=prefix)
    return query


def open_notifications(user: User) -> QuerySet[Notification]:
    """The user's notices not yet done (newest first): the list above 「已办理」."""
    return Notification.objects.filter(user=user, done_at__isnull=True).order_by("-created_at", "-pk")


def done_notifications(user: User) -> QuerySet[Notification]:
    """The user's notices whose action has been done (「已办理」), latest done first."""
    return Notification.objects.filter(user=user, done_at__isnull=False).order_by("-done_at", "-pk")


def unread_count(user: User) -> int:
    """The badge: notices neither read nor done."""
    return Notification.objects.filter(user=user, read=False, done_at__isnull=True).count()


def mark_read(user: User, url: str) -> int:
    """The user opened ``url``: their notices pointing there are read."""
    return Notification.objects.filter(user=user, url=url, read=False).update(read=True)


# ---------------------------------------------------------------------------------------------------------------
# The county's one-click chase (一键催报)


@dataclass(frozen=True)
class Chase:
    schools: int  # schools with a form to fill, reminded now (new notices)
    already: int  # reminded earlier today
    without_account: int  # schools with a form but no active reporter account
    without_form: int  # schools without a form yet (the county creates them first)
    emails: int


def chase(user: User, county: OrgUnit, year: int, now: dt.datetime | None = None) -> Chase:
    """The county reminds every school of the year whose record is not yet submitted (draft or returned): one
    notice per reporter account and day, e-mailed when enabled. Only during the open window (a school cannot
    save outside it)."""
    if user.role != Role.COUNTY or user.org_unit_id != county.pk:
        raise refusal("只有本县（区）教育行政部门账号可以催报。", 403)
    window = open_collection(county, year)
    if window is None:
        raise refusal(f"{year} 年度数据采集未开放或已截止，学校无法填报，不能催报。")
    now = now or timezone.now()
    today = timezone.localdate(now)
    records = list(
        SchoolRecord.objects.filter(
            county=county, year=year, status__in=(RecordStatus.DRAFT, RecordStatus.RETURNED)
        ).values_list("pk", "school_id", "status", "return_reason")
    )
    by_school: dict[int, list[Recipient]] = defaultdict(list)
    for pk, school_id, email, name, username in (
        User.objects.filter(role=Role.SCHOOL, is_active=True, school__county=county)
        .order_by("pk")
        .values_list("pk", "school_id", "email", "display_name", "username")
    ):
        by_school[school_id].append(Recipient(pk, email or "", name or username))
    deadline = f"{timezone.localtime(window.closes_at):%Y-%m-%d %H:%M}"
    wanted: list[Reminder] = []
    without_account = 0
    for pk, school_id, status, reason in records:
        people = by_school.get(school_id, [])
        if not people:
            without_account += 1
            continue
        what = "修改并重新提交" if status == RecordStatus.RETURNED else "填写并提交"
        text = f"{county.name}教育局催报：请尽快{what}本校 {year} 年度数据，截止 {deadline}。"
        if reason:
            text += f"退回原因：{reason}"
        url = reverse("collection:record", args=[pk])
        todo = Todo(
            key=f"record-{pk}", text=text, count=1, url=url, deadline=window.closes_at, today=today, remind=True
        )
        key = f"chase:record-{pk}:{today:%Y%m%d}"
        wanted += [Reminder(person, key, text[:TEXT_LENGTH], url, todo) for person in people]
    with transaction.atomic():
        created = store(wanted)
    emails = [
        (r.user.email, f"【优均】{county.name}教育局催报 {year} 年度数据", email_body(r.user.name, r.text, r.url))
        for r in created
        if r.user.email
    ]
    sent, _ = send_emails(emails)
    reminded = {r.key for r in created}
    asked = {r.key for r in wanted}
    without_form = sum(1 for row in selectors.chase_list(county, year) if row["record"] is None)
    return Chase(len(reminded), len(asked - reminded), without_account, without_form, sent)


# ---------------------------------------------------------------------------------------------------------------
# The daily digest

DIGEST_ROLES = (Role.MINISTRY, Role.PROVINCE, Role.PREFECTURE, Role.COUNTY)


def digest_text(user: User, todos: Sequence[Todo], today: dt.date) -> tuple[str, str]:
    """The digest e-mail of one user's to-do list: subject and body."""
    name = user.display_name or user.username
    subject = f"【优均】{today:%Y-%m-%d} 待办事项（{len(todos)} 项）"
    lines = [f"{name}，您好：", "", f"截至 {today:%Y 年 %m 月 %d 日}，您有以下 {len(todos)} 项待办事项：", ""]
    for i, todo in enumerate(todos, 1):
        lines.append(f"{i}. {todo.sentence}")
        if todo.names_text:
            lines.append(f"   涉及：{todo.names_text}")
        if todo.detail:
            lines.append(f"   {todo.detail}")
        lines.append(f"   办理地址：{absolute_url(None, todo.url)}")
    lines += ["", f"登录工作台查看全部：{absolute_url(None, reverse('home'))}", "", SIGNATURE]
    return subject, "\n".join(lines)


def send_digests(now: dt.datetime | None = None) -> int:
    """One e-mail a day per administrative user with an address and something to do (``DigestSent`` keeps the day:
    a second run sends nothing). Nothing when e-mail is not enabled. Schools get their reminders instead."""
    if not settings.YOUJUN_EMAIL_ENABLED:
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    users = (
        User.objects.filter(role__in=DIGEST_ROLES, is_active=True)
        .exclude(email="")
        .exclude(pk__in=DigestSent.objects.filter(day=today).values("user_id"))
        .select_related("org_unit")
        .order_by("pk")
    )
    for user in users.iterator(chunk_size=200):
        todos = selectors.todos_for(user, now)
        if not todos:
            continue
        try:
            with transaction.atomic():
                DigestSent.objects.create(user=user, day=today, items=len(todos))
        except IntegrityError:
            continue  # another run sent it meanwhile
        subject, body = digest_text(user, todos, today)
        done, _ = send_emails([(user.email, subject, body)])
        sent += done
    return sent
