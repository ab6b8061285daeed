"""Pages of the annual collection (学校年度数据采集).

Thin views: every read starts from ``accounts.scoping`` (through ``collection.selectors``), every write goes
through ``collection.services``. An object outside the user's jurisdiction is a 404 (its existence does not leak);
an action the user's role may not take inside the jurisdiction is a 403 with a Chinese page; a ``YoujunError`` of a
service becomes Chinese messages, never a traceback.
"""

from youjun.web.collection.views.common import FIELD_GROUPS
from youjun.web.collection.views.county import (
    bulk_approve,
    county_export,
    county_upload,
    create_records,
    submission,
    template,
    upload_report,
    upload_report_file,
)
from youjun.web.collection.views.records import (
    field_groups,
    record,
    record_move,
    record_upload,
)
from youjun.web.collection.views.workspace import (
    county,
    workspace,
    years,
)

__all__ = [
    "FIELD_GROUPS",
    "bulk_approve",
    "county",
    "county_export",
    "county_upload",
    "create_records",
    "field_groups",
    "record",
    "record_move",
    "record_upload",
    "submission",
    "template",
    "upload_report",
    "upload_report_file",
    "workspace",
    "years",
]
