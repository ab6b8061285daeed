"""The audit rows of the collection (records, submissions) and of the programme move into the one audit trail."""

from django.db import migrations


def copy_rows(apps, schema_editor):
    Transition = apps.get_model("audit", "Transition")
    Old = apps.get_model("collection", "Transition")
    Entry = apps.get_model("programme", "AuditEntry")
    rows = [
        Transition(
            kind=t.kind, object_id=t.object_id, county_id=t.county_id, year=t.year, source=t.source,
            target=t.target, reason=t.reason, actor_id=t.actor_id, at=t.at,
        )
        for t in Old.objects.all().iterator()
    ]
    rows += [
        Transition(
            kind=e.kind, object_id=e.object_id, action=e.action, source=e.from_state, target=e.to_state,
            reason=e.reason, actor_id=e.actor_id, at=e.at,
        )
        for e in Entry.objects.all().iterator()
    ]
    Transition.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("collection", "0002_enums_and_year_names"),
        ("programme", "0002_states_known"),
    ]

    operations = [migrations.RunPython(copy_rows, migrations.RunPython.noop)]
