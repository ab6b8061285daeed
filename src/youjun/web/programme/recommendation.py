"""The recommendation form (推荐表): the pre-filling context for the data-defined definition ``recommendation-2021``
(``youjun.forms``), which of its fields the data fix, and how the province's entries are read and checked.

The form's fields, labels, types and sources live in the definition file; this module only supplies the context
the ``source`` paths point into (county, stored evaluation, county inputs, registry counts, and the facts the
programme computes under ``nomination``). A nomination stores the id and version it was filled under.

Three kinds of field:

- *live* fields (``LIVE_SOURCES``): facts of the hierarchy and of the basic-balance record (names, codes, the
  recognition year, the years since, condition 2). They are computed whenever the form is shown or printed and are
  never stored, so the form cannot disagree with the one record of the year;
- *data* fields: what the stored evaluation and the school records supplied when the county was nominated
  (``Nomination.data_keys``), shown and not edited;
- everything else the province fills in — including the fields the data would supply when the county has no data
  (the definition marks them ``editable = false``; the page says that no data supplied them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from youjun import forms
from youjun.errors import Location, Problem
from youjun.formatting import parse_percent, percent
from youjun.web.collection.models import SchoolRecord
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import MUNICIPAL_PLACEHOLDERS, PLACEHOLDER_PREFECTURES, OrgUnit
from youjun.web.organisation.selectors import basic_balance_year
from youjun.web.programme.catalogue import catalogue

FORM_ID = "recommendation-2021"
#: The form as people name it (the definition's id is for the machine and never shown).
FORM_NAME = "推荐表（2021 年通知附件）"
STAGES = {"primary": "小学", "junior": "初中"}
INDICATORS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7")
REGISTRY_COLUMNS = ("school_type", "students_primary", "students_junior", "teachers_primary", "teachers_junior")
#: Sources computed from the hierarchy and the basic-balance record each time: never stored with a nomination.
LIVE_SOURCES = frozenset(
    {
        "county.code",
        "county.name",
        "county.type",
        "county.province_name",
        "county.prefecture_name",
        "inputs.basic_balance_year",
        "nomination.basic_balance_years",
        "nomination.condition_2",
    }
)
#: Fields checked beyond their type (the definition format has no such key yet): phone numbers and e-mail.
FORMATS = {"contact_phone": "phone", "contact_email": "email"}
#: A mainland mobile number, or a landline with its area code and an optional extension (-, 转 or #).
PHONE = re.compile(r"^(?:(?:\+86|86)[- ]?)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}(?:(?:-|转|#)\d{1,6})?$")
MAX_CHARS = {"text": 200, "longtext": 4000}


def definition(version: int | None = None) -> forms.FormDefinition:
    return forms.load_form(FORM_ID, version)


def definition_of(form_id: str, version: str) -> forms.FormDefinition:
    """The definition a nomination was filled under (the latest when that version is no longer shipped)."""
    try:
        return forms.load_form(form_id, int(version))
    except Exception:  # an unknown or removed version: show the values under the current definition
        return definition()


def county_type(name: str) -> str:
    for suffix in ("旗", "区", "市", "县"):
        if name.endswith(suffix):
            return suffix
    return ""


def latest_evaluation(county: OrgUnit, year: int | None = None) -> CountyEvaluation | None:
    qs = CountyEvaluation.objects.filter(county=county)
    if year is not None:
        qs = qs.filter(year__lte=year)
    return qs.order_by("-year").first()


def county_inputs(county: OrgUnit) -> dict[str, Any]:
    """The assessment app's latest county inputs, read defensively (that app is built alongside this one)."""
    try:
        from youjun.web.assessment.models import CountyInputs

        row = CountyInputs.objects.filter(county=county).order_by("-year").first()
    except Exception:  # table missing (not migrated): no inputs
        return {}
    return dict(row.values) if row is not None and isinstance(row.values, dict) else {}


def registry_counts(county: OrgUnit, year: int | None) -> dict[str, Any]:
    """School, student and teacher counts from the county's collected records of the year (latest if None)."""
    records = SchoolRecord.objects.filter(county=county)
    if year is None or not records.filter(year=year).exists():
        year = records.order_by("-year").values_list("year", flat=True).first()
    if year is None:
        return {}
    rows = [{k: v.get(k) for k in REGISTRY_COLUMNS} for v in records.filter(year=year).values_list("values", flat=True)]
    schema = {"school_type": pl.String, **{k: pl.Int64 for k in REGISTRY_COLUMNS[1:]}}
    frame = pl.DataFrame(rows, schema=schema, strict=False)
    return {"year": year, **forms.registry_summary(frame)}


def standing(result: dict[str, Any] | None) -> dict[str, Any]:
    """Current standing against the 2017 method from a stored county result (dashboards and trend)."""
    if not result:
        return {}
    summary = forms.evaluation_summary(result)
    ra = result.get("resource_allocation") or {}
    verdict = result.get("verdict") or {}
    return {
        "year": result.get("year"),
        "units": summary.get("units_total"),
        "units_passed": summary.get("units_passed"),
        "units_passed_share": summary.get("units_passed_share"),
        "cv_over_limit": summary.get("cv_over_limit"),
        "resource_passed": ra.get("passed"),
        "guarantee_met": (result.get("government_guarantee") or {}).get("met"),
        "quality_met": (result.get("education_quality") or {}).get("met"),
        "recognition": (result.get("social_recognition") or {}).get("value"),
        "verdict": verdict.get("status"),
        "conclusion": verdict.get("conclusion"),
    }


# ----------------------------------------------------------------------------------------------------
# The context and the values


def _county_facts(county: OrgUnit) -> dict[str, Any]:
    province = OrgUnit.objects.filter(code=county.code[:2] + "0000").first()
    prefecture = county.parent if county.parent_id is not None else None
    real = prefecture is not None and prefecture.name not in PLACEHOLDER_PREFECTURES | MUNICIPAL_PLACEHOLDERS
    return {
        "code": county.code,
        "name": county.name,
        "type": county_type(county.name),
        "province_code": province.code if province else "",
        "province_name": province.name if province else county.province_name,
        "prefecture_code": prefecture.code if prefecture is not None and real else "",
        "prefecture_name": prefecture.name if prefecture is not None and real else "",
    }


def _computed(year: int | None, batch_year: int, min_years: int) -> dict[str, Any]:
    if year is None:
        return {}
    gap = batch_year - year
    return {"basic_balance_years": gap, "condition_2": "符合" if gap >= min_years else "不符合"}


def context(county: OrgUnit, batch_year: int, min_years: int) -> dict[str, Any]:
    """Everything the definition's ``source`` paths may point at, for one county and batch.

    ``nomination`` carries only what the programme computes (years since basic balance, condition 2); the
    basic-balance year is the one record of it (``organisation.selectors``), never the county inputs' copy.
    """
    stored = latest_evaluation(county, batch_year)
    year = basic_balance_year(county)
    return forms.make_context(
        county=_county_facts(county),
        evaluation=stored.result if stored else None,
        inputs={**county_inputs(county), "basic_balance_year": year},
        registry=registry_counts(county, stored.year if stored else None),
        nomination=_computed(year, batch_year, min_years),
    )


def live_keys(defn: forms.FormDefinition) -> set[str]:
    return {f.key for f in defn.fields if f.source in LIVE_SOURCES}


def live_values(defn: forms.FormDefinition, county: OrgUnit, batch_year: int, min_years: int) -> dict[str, Any]:
    """The live fields now (names, codes, the basic-balance year, the years since it, condition 2)."""
    year = basic_balance_year(county)
    ctx = forms.make_context(
        county=_county_facts(county),
        inputs={"basic_balance_year": year},
        nomination=_computed(year, batch_year, min_years),
    )
    keys = live_keys(defn)
    return {k: v for k, v in forms.prefill(defn, ctx).items() if k in keys}


def data_values(defn: forms.FormDefinition, ctx: dict[str, Any]) -> dict[str, Any]:
    """The values the data supply, only where a source resolved to something (live fields excepted)."""
    live = live_keys(defn)
    return {k: v for k, v in forms.prefill(defn, ctx).items() if not _empty(v) and k not in live}


def _empty(value: Any) -> bool:
    if isinstance(value, list):
        return all(all(c is None for c in row.values()) if isinstance(row, dict) else row is None for row in value)
    return value is None or (isinstance(value, str) and not value.strip())


def locked(defn: forms.FormDefinition, fixed: set[str]) -> set[str]:
    """Fields the province does not edit: the live ones and those the data supplied."""
    return live_keys(defn) | {f.key for f in defn.fields if f.key in fixed}


def problems(defn: forms.FormDefinition, values: dict[str, Any]) -> list[Problem]:
    """Why the form cannot be submitted yet: required fields left empty (the live ones excepted: an unrecorded year
    is condition 2's refusal), then what ``check`` finds; each located by its field key, the message without the
    label (see ``described``)."""
    live = live_keys(defn)  # an unrecorded basic-balance year is condition 2's refusal, not a missing entry
    required = [
        _problem(p.location.field or "", _without_label(defn, p.location.field or "", p.message))
        for p in forms.validate(defn, values)
        if p.code == "form_required" and p.location.field not in live
    ]
    return required + check(defn, values)


def label_of(defn: forms.FormDefinition, key: str) -> str:
    """The label of a field (a table cell ``cvs.1.primary_cv``: the table's)."""
    try:
        return defn.field(key.split(".")[0]).label
    except KeyError:
        return key


def described(defn: forms.FormDefinition, problem: Problem) -> str:
    """A problem as a sentence naming its field: 「联系电话」请填写手机号……"""
    return f"「{label_of(defn, problem.location.field or '')}」{problem.message}"


# ----------------------------------------------------------------------------------------------------
# Reading what the province typed


def _problem(key: str, message: str, value: Any = None) -> Problem:
    return Problem("form_invalid", message, "error", Location(field=key, value=None if value is None else str(value)))


def _integer(text: str) -> int | None:
    cleaned = text.replace(",", "").replace("，", "").strip()
    return int(cleaned) if re.fullmatch(r"-?\d+", cleaned) else None


def read_value(spec: forms.Field | forms.Column, key: str, raw: str) -> tuple[Any, Problem | None, str]:
    """A typed value from the text of one input: ``(value, problem, notice)``. Percentages are entered in percent
    and stored as fractions; ``notice`` says when 0 < v < 1 was read as a fraction (「已按 87% 理解」)."""
    text = raw.strip()
    if not text:
        return None, None, ""
    kind = spec.type
    if kind in ("int", "year"):
        value = _integer(text)
        if value is None:
            what = "四位年份（如 2026）" if kind == "year" else "整数"
            return text, _problem(key, f"请填写{what}，填写的是「{text[:40]}」", text), ""
        return value, None, ""
    if kind == "number":
        try:
            number = float(text.replace(",", "").replace("，", ""))
        except ValueError:
            return text, _problem(key, f"请填写数字，填写的是「{text[:40]}」", text), ""
        if number != number or number in (float("inf"), float("-inf")):
            return text, _problem(key, f"请填写数字，填写的是「{text[:40]}」", text), ""
        return number, None, ""
    if kind == "percent":
        try:
            fraction, as_fraction = parse_percent(text)
        except ValueError as exc:
            return text, _problem(key, str(exc), text), ""
        notice = f"填写的 {text} 已按 {percent(fraction, 2, trim=True)} 理解。" if as_fraction else ""
        return fraction, None, notice
    limit = MAX_CHARS.get(kind, MAX_CHARS["text"])
    if len(text) > limit:
        return text, _problem(key, f"最多 {limit} 个字，现有 {len(text)} 个字"), ""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\r\t" for ch in text):
        return text, _problem(key, "含有不可见的控制字符，请删除后再保存"), ""
    return text, None, ""


def check(defn: forms.FormDefinition, values: Mapping[str, Any]) -> list[Problem]:
    """What is wrong with entered ``values`` beyond emptiness (a draft may be incomplete): types, choices and bounds
    of the definition, the bounds of years, phone numbers, e-mail addresses and the tackling-list codes."""
    found: list[Problem] = []
    keys = set(values)
    checked = forms.validate(defn, {k: v for k, v in values.items() if v not in (None, "", [])})
    years = {f.key for f in defn.fields if f.type == "year"}  # their bounds are the definition's, checked below
    for p in checked:
        key = (p.location.field or "").split(".")[0]
        if key in keys and p.code not in ("form_required", "form_unknown") and key not in {*FORMATS, *years}:
            found.append(_problem(p.location.field or key, _without_label(defn, key, p.message)))
    for key, value in values.items():
        if value in (None, "", []):
            continue
        try:
            spec = defn.field(key)
        except KeyError:
            continue
        fmt = FORMATS.get(key)
        if fmt == "phone" and not PHONE.match(str(value).replace(" ", "")):
            found.append(
                _problem(key, "请填写手机号（11 位）或带区号的固定电话（如 0551-12345678，分机：0551-12345678-801）")
            )
        elif fmt == "email":
            try:
                validate_email(str(value))
            except ValidationError:
                found.append(_problem(key, "请填写有效的电子邮箱地址（如 name@example.gov.cn）"))
        if spec.type == "year":
            low = int(spec.min) if spec.min is not None else 1900
            high = int(spec.max) if spec.max is not None else 2100
            if not isinstance(value, int) or isinstance(value, bool):
                found.append(_problem(key, f"请填写四位年份（如 2026），填写的是「{str(value)[:40]}」"))
            elif not low <= value <= high:
                found.append(_problem(key, f"年份应在 {low}–{high} 之间，填写的是 {value}"))
    found += _parts_within_wholes(defn, values)
    return found


#: Counts of a form that are part of another count of the same form: (part, whole).
PART_OF = (("units_passed", "units_total"),)


def _parts_within_wholes(defn: forms.FormDefinition, values: Mapping[str, Any]) -> list[Problem]:
    """A part greater than its whole (达标评估单元数 above 评估单元数) is refused, naming both fields."""
    found = []
    for part, whole in PART_OF:
        a, b = values.get(part), values.get(whole)
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and a > b:
            found.append(_problem(part, f"不能大于「{label_of(defn, whole)}」（{b}），填写的是 {a}"))
    return found


def _without_label(defn: forms.FormDefinition, key: str, message: str) -> str:
    """A message of ``forms.validate`` without its leading 「label」: the page shows it under the field."""
    return message.removeprefix(f"「{label_of(defn, key)}」") or message


def tackling_groups(defn: forms.FormDefinition) -> list[dict[str, Any]]:
    """The tackling-list options of the form, grouped and worded as the catalogue gives them."""
    try:
        offered = set(defn.field("tackling_items").choices)
    except KeyError:
        return []
    groups = []
    for group in catalogue().groups:
        items = [{"code": i.code, "label": i.label} for i in group.items if i.code in offered]
        if items:
            groups.append({"code": group.code, "name": group.name, "items": items})
    return groups


def printable(defn: forms.FormDefinition, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as printed (page, Word, Excel): tackling-list codes become the catalogue's wording, by group."""
    out = dict(values)
    chosen = out.get("tackling_items")
    if isinstance(chosen, list) and chosen:
        lines = []
        for group in catalogue().groups:
            picked = [i.label for i in group.items if i.code in chosen]
            if picked:
                lines.append(f"{group.code}. {group.name}：" + "；".join(picked))
        known = {i.code for i in catalogue().items}
        lines += [str(c) for c in chosen if c not in known]  # a code the catalogue no longer has: as stored
        out["tackling_items"] = "\n".join(lines)
    return out


def display(spec: Any, value: Any) -> str:
    return forms.display(spec, value)
