"""The basic-balance year kept once: the programme's ``BasicBalance`` rows, the county inputs' copies and the
nominations' copies become one ``organisation.BasicBalance`` per county; nominations move to the recommendation
form's version 2 (same meaning: tackling items stored as their codes; live fields no longer stored).

When the copies disagreed, the year the eligibility checks used is kept (county inputs first, then the nomination,
then the programme's record, as ``recommendation.basic_balance_year`` read them) and an audit row tells the province
what was merged, so that it can correct the year on its page.
"""

from django.db import migrations

FIRST, LAST = 2012, 2100
#: Fields of the form computed from the hierarchy and the basic-balance record (recommendation.LIVE_SOURCES).
LIVE = (
    "province",
    "prefecture",
    "county_name",
    "county_code",
    "county_type",
    "basic_balance_year",
    "basic_balance_years",
    "condition_2",
)


def _year(value):
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return year if FIRST <= year <= LAST else None


def forwards(apps, schema_editor):
    Old = apps.get_model("programme", "BasicBalance")
    New = apps.get_model("organisation", "BasicBalance")
    Nomination = apps.get_model("programme", "Nomination")
    CountyInputs = apps.get_model("assessment", "CountyInputs")
    Transition = apps.get_model("audit", "Transition")

    recorded = {b.county_id: b for b in Old.objects.all()}
    typed = {}
    for row in CountyInputs.objects.order_by("county_id", "year"):
        value = _year(row.values.get("basic_balance_year")) if isinstance(row.values, dict) else None
        if value is not None:
            typed[row.county_id] = value  # the latest year's inputs win, as the old reader took them
    nominated = {}
    for n in Nomination.objects.exclude(basic_balance_year=None).order_by("pk"):
        if _year(n.basic_balance_year) is not None:
            nominated[n.county_id] = n.basic_balance_year
    for county_id in sorted(set(recorded) | set(typed) | set(nominated)):
        record = recorded.get(county_id)
        candidates = [typed.get(county_id), nominated.get(county_id), _year(record.year) if record else None]
        chosen = next((c for c in candidates if c is not None), None)
        if chosen is None:
            continue
        New.objects.update_or_create(
            county_id=county_id, defaults={"year": chosen, "document": record.document if record else ""}
        )
        seen = {c for c in candidates if c is not None}
        if len(seen) > 1:
            parts = [
                f"{label} {value} 年"
                for label, value in zip(("县级指标", "推荐时", "省级登记"), candidates, strict=True)
                if value is not None
            ]
            Transition.objects.create(
                kind="basic_balance",
                object_id=county_id,
                county_id=county_id,
                action="合并认定年份记录",
                source=str(record.year) if record else "",
                target=str(chosen),
                reason="原有多处记录不一致（" + "、".join(parts) + f"），采用资格审查所用的 {chosen} 年，请核对。",
            )

    for n in Nomination.objects.all():
        values = dict(n.values) if isinstance(n.values, dict) else {}
        for key in LIVE:
            values.pop(key, None)
        items = values.get("tackling_items")
        if isinstance(items, list):
            values["tackling_items"] = [str(i).split(" ", 1)[0] for i in items]
        keys = [k for k in (n.data_keys or []) if k not in LIVE]
        version = "2" if n.form_id == "recommendation-2021" and n.form_version == "1" else n.form_version
        Nomination.objects.filter(pk=n.pk).update(values=values, data_keys=keys, form_version=version)


def backwards(apps, schema_editor):
    Old = apps.get_model("programme", "BasicBalance")
    New = apps.get_model("organisation", "BasicBalance")
    Nomination = apps.get_model("programme", "Nomination")
    for b in New.objects.all():
        Old.objects.update_or_create(county_id=b.county_id, defaults={"year": b.year, "document": b.document})
        Nomination.objects.filter(county_id=b.county_id).update(basic_balance_year=b.year)


class Migration(migrations.Migration):
    dependencies = [
        ("programme", "0004_notification_done"),
        ("organisation", "0003_basic_balance"),
        ("assessment", "0001_initial"),
        ("audit", "0002_from_collection_and_programme"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
