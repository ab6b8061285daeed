"""Row-by-row updates of many rows in one round of statements (Django's ``bulk_update`` builds one CASE per row and
field, which grows the statement with the square of the batch and took minutes for a county of 8,000 schools)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection, models


def update_fields(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """``UPDATE table SET f = %s, … WHERE pk = %s`` for every object, sent with ``executemany`` (pipelined on
    PostgreSQL). Values are prepared by their fields, as ``save()`` would (JSON, dates)."""
    if not objects:
        return
    meta = type(objects[0])._meta
    qn = connection.ops.quote_name
    columns = [cast("models.Field[Any, Any]", meta.get_field(name)) for name in fields]  # concrete fields only
    setters = ", ".join(f"{qn(cast(str, field.column))} = %s" for field in columns)
    sql = f"UPDATE {qn(meta.db_table)} SET {setters} WHERE {qn(cast(str, meta.pk.column))} = %s"
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def refresh_statistics(*model_classes: type[models.Model], vacuum: bool = False) -> None:
    """After a bulk load on PostgreSQL: ``ANALYZE`` the tables (the planner otherwise still believes they are small
    and reads the whole table where an index would do) and, with ``vacuum`` and outside a transaction, ``VACUUM`` them
    as well (index-only scans need the visibility map: counting 200,000 records of a year went from 240 ms to 26 ms).
    Nothing to do elsewhere."""
    if connection.vendor != "postgresql" or not model_classes:
        return
    qn = connection.ops.quote_name
    tables = ", ".join(qn(m._meta.db_table) for m in model_classes)
    command = "VACUUM (ANALYZE)" if vacuum and not connection.in_atomic_block else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {tables}")
