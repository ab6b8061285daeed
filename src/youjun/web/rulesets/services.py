"""Which rule set a county-year is evaluated under (decision 39), and loading a rule set by the reference stored with
each result.

A province may be assigned a rule set from a given year on — a shipped one (``example-province-2017``) or an
uploaded TOML file, validated like every rule set and kept in the database — by the ministry; every other county
uses the national default (``settings.YOUJUN_STANDARD``). Stored results name their rule set by a reference: the
shipped id, or ``upload:<sha256 of the file>``, so a result can always be read with the rules that made it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction

from youjun.errors import YoujunError
from youjun.standards import available_rule_sets, load_rule_set
from youjun.standards.model import RuleSet
from youjun.web.accounts.models import Role, User
from youjun.web.audit.services import record
from youjun.web.converters import MAX_YEAR, MIN_YEAR
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.rulesets.models import RuleSetAssignment

UPLOAD = "upload:"
MAX_UPLOAD_BYTES = 256 * 1024  # a provincial variant is a few kilobytes; the national rule set is 20 KB


def _refuse(message: str, code: str = "ruleset_refused") -> YoujunError:
    return YoujunError.single(code, message)


def default_ref() -> str:
    return str(settings.YOUJUN_STANDARD)


def assignment_for(county: OrgUnit, year: int) -> RuleSetAssignment | None:
    """The province's assignment in force in ``year`` (the latest from an earlier or the same year)."""
    province = county.code[:2] + "0000"
    query = RuleSetAssignment.objects.filter(province__code=province, from_year__lte=year)
    return query.order_by("-from_year").first()


def ref_for(county: OrgUnit, year: int) -> str:
    assignment = assignment_for(county, year)
    return assignment.ref if assignment else default_ref()


def refs_for(counties: Iterable[OrgUnit], year: int) -> dict[int, str]:
    """``ref_for`` of many counties in one query (county pk → rule-set reference)."""
    latest: dict[str, tuple[int, str]] = {}
    for assignment in RuleSetAssignment.objects.filter(from_year__lte=year).select_related("province").defer("content"):
        code = assignment.province.code
        if code not in latest or assignment.from_year > latest[code][0]:
            latest[code] = (assignment.from_year, assignment.ref)
    fallback = default_ref()
    return {c.pk: latest.get(c.code[:2] + "0000", (0, fallback))[1] for c in counties}


def rules_for(county: OrgUnit, year: int) -> RuleSet:
    """The rule set in force for the county-year."""
    return load(ref_for(county, year))


def _folder() -> Path:
    return Path(settings.DATA_DIR) / "rulesets"


@lru_cache(maxsize=64)
def load(ref: str) -> RuleSet:
    """A rule set by its reference; an uploaded one is written (once) beside the data and loaded from there."""
    if not ref.startswith(UPLOAD):
        return load_rule_set(ref)
    digest = ref.removeprefix(UPLOAD)
    path = _folder() / f"{digest}.toml"
    if not path.exists():
        row = RuleSetAssignment.objects.filter(digest=digest).exclude(content="").first()
        if row is None:
            raise _refuse(f"找不到已上传的规则集（{digest[:12]}…）", "ruleset_unknown")
        _write(path, row.content)
    return load_rule_set(path)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".part") as fh:
        fh.write(text)
    os.replace(fh.name, path)


def validate_upload(content: bytes) -> tuple[str, RuleSet, str]:
    """An uploaded rule-set file: (its text, the loaded rule set, its digest); refused with every problem."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise _refuse(f"规则集文件过大（上限 {MAX_UPLOAD_BYTES // 1024} KB），请检查是否选错了文件。")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse("规则集文件应为 UTF-8 编码的 TOML 文本。") from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with tempfile.TemporaryDirectory(prefix="youjun-ruleset-") as folder:
        path = Path(folder) / "规则集.toml"
        path.write_text(text, encoding="utf-8")
        rules = load_rule_set(path)  # every mistake, with the dotted key, or a YoujunError
    return text, rules, digest


def assign(
    user: User,
    province: OrgUnit,
    from_year: int,
    *,
    ruleset: str = "",
    content: bytes = b"",
    reason: str = "",
) -> RuleSetAssignment:
    """The ministry assigns a shipped or uploaded rule set to a province from ``from_year`` on (audited).

    Stored results of the province's counties become stale (their rule set differs) until they are recomputed.
    """
    if user.role != Role.MINISTRY:
        raise _refuse("只有教育部账号可以为省份指定规则集。", "forbidden")
    if province.level != Level.PROVINCE:
        raise _refuse("规则集只能指定给省级单位。")
    if not MIN_YEAR <= from_year <= MAX_YEAR:
        raise _refuse(f"起始年度应为 {MIN_YEAR}–{MAX_YEAR} 之间的年份。")
    if bool(ruleset) == bool(content):
        raise _refuse("请选择一个内置规则集，或上传一个规则集文件（二者选一）。")
    text = ""
    if ruleset:
        if ruleset not in available_rule_sets():
            raise _refuse(f"没有内置规则集「{ruleset}」。可选：{'、'.join(available_rule_sets())}")
        rules = load_rule_set(ruleset)
        digest = rules.digest
    else:
        text, rules, digest = validate_upload(content)
    if rules.method != load_rule_set(default_ref()).method:
        raise _refuse(f"规则集「{rules.name}」不是 2017 年优质均衡评估办法的规则集，不能用于综合评估。")
    with transaction.atomic():
        assignment, _ = RuleSetAssignment.objects.update_or_create(
            province=province,
            from_year=from_year,
            defaults={
                "ruleset": ruleset,
                "content": text,
                "name": rules.name[:200],
                "digest": digest,
                "reason": reason[:2000],
                "assigned_by": user,
            },
        )
        record("ruleset", assignment, "", assignment.ref[:16], user, reason, action=f"指定规则集：{rules.name}"[:40])
    if text:
        _write(_folder() / f"{digest}.toml", text)
    return assignment
