"""The school registry: schools registered, closed or merged by their county, dated by year so that the records of
past years stay as they were (decision 32)."""

from __future__ import annotations

import re

from django.db import transaction

from youjun.contract import OWNERSHIP, SCHOOL_BY_KEY, SCHOOL_TYPES, URBAN_RURAL
from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.converters import MAX_YEAR, MIN_YEAR
from youjun.web.organisation.models import OrgUnit, School

REGISTRY_TYPES = SCHOOL_TYPES


def _registry_error(message: str) -> Exception:
    return YoujunError.single("registry", message)


def _county_user(user: User, county: OrgUnit) -> None:
    if user.role != Role.COUNTY or user.org_unit_id != county.pk:
        raise _registry_error("只有本县（区）教育行政部门可以变更学校名册。")


@transaction.atomic
def register_school(user: User, county: OrgUnit, school_id: str, name: str, school_type: str, ownership: str,
                    urban_rural: str, year: int) -> School:  # fmt: skip
    """A new school (or campus) from ``year`` on."""
    _county_user(user, county)
    school_id, name = school_id.strip(), name.strip()
    if not school_id or not name:
        raise _registry_error("学校标识码和学校名称不能为空。")
    for key, value in (("school_id", school_id), ("school_name", name)):
        column = SCHOOL_BY_KEY[key]
        if len(value) > column.max_length:
            raise _registry_error(f"「{column.header}」不能超过 {column.max_length} 个字符。")
        if column.pattern and not re.fullmatch(column.pattern, value):
            raise _registry_error(f"「{column.header}」只能包含{column.pattern_text}。")
        if re.search(r"[\x00-\x1f\x7f]", value):
            raise _registry_error(f"「{column.header}」含有换行、制表符等控制字符，请删除。")
    if School.objects.filter(school_id=school_id).exists():
        raise _registry_error(f"学校标识码 {school_id} 已存在。")
    if school_type not in REGISTRY_TYPES:
        raise _registry_error("办学类型只能是：" + "、".join(REGISTRY_TYPES))
    if ownership not in OWNERSHIP:
        raise _registry_error("举办者只能是：" + "、".join(OWNERSHIP))
    if urban_rural not in URBAN_RURAL:
        raise _registry_error("城乡分类只能是：" + "、".join(URBAN_RURAL))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _registry_error(f"设立年度应为 {MIN_YEAR}–{MAX_YEAR} 之间的年份。")
    return School.objects.create(
        school_id=school_id, name=name, county=county, school_type=school_type, ownership=ownership,
        urban_rural=urban_rural, opened_year=year,
    )  # fmt: skip


@transaction.atomic
def close_school(user: User, school: School, year: int, merged_into: School | None = None) -> School:
    """The school stops from ``year`` on (records of earlier years are kept as they were); optionally merged."""
    _county_user(user, school.county)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _registry_error(f"撤销年度应为 {MIN_YEAR}–{MAX_YEAR} 之间的年份。")
    if school.closed_year is not None:
        raise _registry_error(f"{school.name} 已于 {school.closed_year} 年撤销。")
    if school.opened_year is not None and year <= school.opened_year:
        raise _registry_error("撤销年度应晚于设立年度。")
    if merged_into is not None:
        if merged_into.pk == school.pk or merged_into.county_id != school.county_id:
            raise _registry_error("只能并入本县（区）的另一所学校。")
        if not merged_into.active_in(year):
            raise _registry_error(f"{merged_into.name} 在 {year} 年不在册，不能并入。")
    school.closed_year = year
    school.merged_into = merged_into
    school.save(update_fields=["closed_year", "merged_into"])
    return school
