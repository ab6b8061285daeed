"""Pages of the creation programme (先行创建).

Access: every page but the published list and the typical-experience library requires a login; school accounts
take no part (403). An object is placed by its county or province code: outside the user's jurisdiction it is a
404 (its existence does not leak). Inside, whether the user's role may act is decided by ``services`` (403 page
with a Chinese message); a refusal because of the object's state, a quota or a deadline comes back as a message on
the object's page, a mistake in a form beside its field. No page writes on a GET.
"""

from youjun.web.programme.views.batches import (
    basic_balance,
    batch,
    batch_forms,
    batch_move,
    batch_new,
    extension,
    letter_upload,
    nominate,
    province_forms,
    province_set,
    submit_set,
)
from youjun.web.programme.views.nominations import (
    attachment,
    attachment_delete,
    evidence_upload,
    form_sections,
    nomination,
    nomination_action,
    nomination_export,
)
from youjun.web.programme.views.overview import (
    county,
    index,
    notifications,
    notifications_for,
    province_dashboard,
)
from youjun.web.programme.views.plans import adopt_scenario, plan, plan_action
from youjun.web.programme.views.public import (
    experiences,
    public_export,
    public_list,
)
from youjun.web.programme.views.reports import experience_publish, report, report_action, report_new

__all__ = [
    "adopt_scenario",
    "attachment",
    "attachment_delete",
    "basic_balance",
    "batch",
    "batch_forms",
    "batch_move",
    "batch_new",
    "county",
    "evidence_upload",
    "experience_publish",
    "experiences",
    "extension",
    "form_sections",
    "index",
    "letter_upload",
    "nominate",
    "nomination",
    "nomination_action",
    "nomination_export",
    "notifications",
    "notifications_for",
    "plan",
    "plan_action",
    "province_dashboard",
    "province_forms",
    "province_set",
    "public_export",
    "public_list",
    "report",
    "report_action",
    "report_new",
    "submit_set",
]
