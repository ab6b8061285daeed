"""Every state change of the programme: a checked transition that leaves an audit entry and notifies.

A refused transition raises ``YoujunError`` (``youjun.web.shortcuts.refusal``: its code gives the HTTP status) with
the Chinese message shown to the user; nothing is written then. A refused form raises one problem per field
(``location.field``), so that the page shows each message beside its field.
Views only decide *which* object the user may reach (jurisdiction, see ``accounts.scoping``); whether the user's
role may take the action, and whether the object's state allows it, is decided here, so that tests can exercise
the rules without pages.

The moves live by concern: ``batches`` (the ministry's batches, extensions, deadlines), ``nominations`` (the
provinces' nominations and their forms), ``sign_off`` (a province's sign-off, the ministry's review),
``attachments`` (evidence files and the stamped letter), ``basic_balance`` (the year the provinces keep),
``pilots`` (plans, progress reports, typical experiences), ``common`` (roles, audit, notices). Every public name is
importable from here.
"""

from youjun.web.programme.services.attachments import (
    add_evidence,
    add_letter,
    check_evidence_upload,
    check_letter_upload,
    delete_attachment,
    may_delete,
)
from youjun.web.programme.services.basic_balance import (
    check_basic_balance,
    set_basic_balance,
)
from youjun.web.programme.services.batches import (
    BATCH_MOVES,
    batch_defaults,
    check_batch_settings,
    check_move_batch,
    create_batch,
    effective_deadline,
    grant_extension,
    move_batch,
    remind_deadlines,
    submission_of,
)
from youjun.web.programme.services.common import (
    ACTIVE,
    MISSING_YEAR,
    REMIND_DAYS,
    audit,
    history,
    is_ministry,
    list_title,
    notify,
    province_of,
    require_county,
    require_ministry,
    require_province,
    settle,
    users_of,
)
from youjun.web.programme.services.nominations import (
    EVIDENCE_KINDS,
    check_withdraw,
    editable,
    eligibility,
    missing_evidence,
    nominate,
    quota_used,
    ready_problems,
    save_form,
    withdraw,
)
from youjun.web.programme.services.pilots import (
    create_report,
    move_plan,
    move_report,
    pilot_of,
    plan_for,
    plan_problems,
    publish_experience,
    save_plan,
)
from youjun.web.programme.services.sign_off import (
    REVIEWS,
    SignOff,
    check_review,
    check_submit_set,
    letter_of,
    resubmit,
    review,
    set_verdicts,
    submit_set,
)

__all__ = [
    "ACTIVE",
    "BATCH_MOVES",
    "EVIDENCE_KINDS",
    "MISSING_YEAR",
    "REMIND_DAYS",
    "REVIEWS",
    "SignOff",
    "add_evidence",
    "add_letter",
    "audit",
    "batch_defaults",
    "check_basic_balance",
    "check_batch_settings",
    "check_evidence_upload",
    "check_letter_upload",
    "check_move_batch",
    "check_review",
    "check_submit_set",
    "check_withdraw",
    "create_batch",
    "create_report",
    "delete_attachment",
    "editable",
    "effective_deadline",
    "eligibility",
    "grant_extension",
    "history",
    "is_ministry",
    "letter_of",
    "list_title",
    "may_delete",
    "missing_evidence",
    "move_batch",
    "move_plan",
    "move_report",
    "nominate",
    "notify",
    "pilot_of",
    "plan_for",
    "plan_problems",
    "province_of",
    "publish_experience",
    "quota_used",
    "ready_problems",
    "remind_deadlines",
    "require_county",
    "require_ministry",
    "require_province",
    "resubmit",
    "review",
    "save_form",
    "save_plan",
    "set_basic_balance",
    "set_verdicts",
    "settle",
    "submission_of",
    "submit_set",
    "users_of",
    "withdraw",
]
