"""Pages of the creation programme (先行创建).

Access: every page but the published list and the typical-experience library requires a login; school accounts
take no part (403). An object is placed by its county or province code: outside the user's jurisdiction it is a
404 (its existence does not leak). Inside, whether the user's role may act is decided by ``services`` (403 page
with a Chinese message); a refusal because of the object's state, a quota or a deadline comes back as a message on
the object's page.
"""

from youjun.web.programme.views.batches import (
    batch,
    batch_move,
    batch_new,
    extension,
    form_sections,
    nominate,
    nomination,
    nomination_action,
    nomination_export,
    province_set,
    submit_set,
)
from youjun.web.programme.views.overview import (
    county,
    index,
    notifications,
    notifications_for,
    province_dashboard,
)
from youjun.web.programme.views.pilots import (
    experience_publish,
    plan,
    plan_action,
    report,
    report_action,
    report_new,
)
from youjun.web.programme.views.public import (
    experiences,
    public_export,
    public_list,
)

__all__ = [
    "batch",
    "batch_move",
    "batch_new",
    "county",
    "experience_publish",
    "experiences",
    "extension",
    "form_sections",
    "index",
    "nominate",
    "nomination",
    "nomination_action",
    "nomination_export",
    "notifications",
    "notifications_for",
    "plan",
    "plan_action",
    "province_dashboard",
    "province_set",
    "public_export",
    "public_list",
    "report",
    "report_action",
    "report_new",
    "submit_set",
]
