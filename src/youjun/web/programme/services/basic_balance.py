"""The basic-balance year, kept by the province (condition 2 and the assessment read it): who may record a
county's year, and its recording or correction (audited; the county's stored results are recomputed).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from youjun.web.accounts.models import User
from youjun.web.evaluation.models import CountyEvaluation, EvaluationState
from youjun.web.organisation.models import FIRST_BASIC_BALANCE_YEAR, BasicBalance, Level, OrgUnit
from youjun.web.programme.models import Nomination, NominationStatus
from youjun.web.programme.services.batches import _invalid
from youjun.web.programme.services.common import audit, province_of, require_province
from youjun.web.shortcuts import refusal
from youjun.web.signals import county_data_changed


def check_basic_balance(user: User, county: OrgUnit) -> None:
    """Who may record a county's year, and whether it may still change (not while the ministry reviews or has
    confirmed a nomination of the county: condition 2 was judged on it)."""
    require_province(user, province_of(county))
    if county.level != Level.COUNTY:
        raise refusal("只能为县级单位登记基本均衡认定年份。")
    held = (
        Nomination.objects.filter(county=county, status__in=(NominationStatus.SUBMITTED, NominationStatus.CONFIRMED))
        .select_related("batch")
        .first()
    )
    if held is not None:
        state = "正在教育部审核" if held.status == NominationStatus.SUBMITTED else "已经教育部确认"
        raise refusal(
            f"{county.name}在{held.batch.name}中的推荐{state}，其遴选条件二依据现有认定年份，不能修改；"
            "如确需更正，请联系教育部。"
        )


def set_basic_balance(user: User, county: OrgUnit, year: int | None, document: str, reason: str = "") -> bool:
    """Record or correct the year the county passed national basic balance (audited; the county's stored results
    are recomputed, their eligibility depends on it). An empty ``document`` keeps the recorded one; a changed year
    needs a reason. False when nothing changed."""
    check_basic_balance(user, county)
    this_year = timezone.localdate().year
    document, reason = document.strip(), reason.strip()
    found: list[tuple[str, str]] = []
    if year is None:
        found.append(("year", "请填写认定年份（四位年份）"))
    elif not FIRST_BASIC_BALANCE_YEAR <= year <= this_year:
        found.append(("year", f"认定年份应在 {FIRST_BASIC_BALANCE_YEAR}–{this_year} 之间"))
    if len(document) > 200:
        found.append(("document", "认定文件最多 200 个字"))
    if len(reason) > 500:
        found.append(("reason", f"理由最多 500 个字，现有 {len(reason)} 个字"))
    record = BasicBalance.objects.filter(county=county).first()
    document = document or (record.document if record else "")  # left empty: the recorded document stays
    if record is not None and year is not None and year != record.year and not reason:
        found.append(("reason", f"修改已登记的认定年份（{record.year} 年）时请写明理由"))
    if found:
        raise _invalid(found)
    assert year is not None  # a None year was refused above
    if record is not None and (record.year, record.document) == (year, document):
        return False
    with transaction.atomic():
        before = str(record.year) if record else ""
        BasicBalance.objects.update_or_create(county=county, defaults={"year": year, "document": document})
        note = "；".join(p for p in (reason, f"认定文件：{document}" if document else "") if p)
        action = "修改基本均衡认定年份" if record else "登记基本均衡认定年份"
        audit("basic_balance", county.pk, action, user, before, str(year), note, county=county)
        years = set(CountyEvaluation.objects.filter(county=county).values_list("year", flat=True))
        years |= set(EvaluationState.objects.filter(county=county).values_list("year", flat=True))
        for evaluated in sorted(years):
            county_data_changed(county, evaluated)  # eligibility in the stored results follows the year
    return True
