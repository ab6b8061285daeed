"""Every state change of the programme: a checked transition that leaves an audit entry and notifies.

A refused transition raises ``YoujunError`` (``youjun.web.shortcuts.refusal``: its code gives the HTTP status) with
the Chinese message shown to the user; nothing is written then.
Views only decide *which* object the user may reach (jurisdiction, see ``accounts.scoping``); whether the user's
role may take the action, and whether the object's state allows it, is decided here, so that tests can exercise
the rules without pages.
"""

from youjun.web.programme.services.batches import (
    BATCH_MOVES,
    batch_defaults,
    create_batch,
    editable,
    effective_deadline,
    eligibility,
    grant_extension,
    move_batch,
    nominate,
    quota_used,
    remind_deadlines,
    resubmit,
    review,
    save_form,
    set_verdicts,
    submit_set,
    withdraw,
)
from youjun.web.programme.services.common import (
    ACTIVE,
    MISSING_YEAR,
    REMIND_DAYS,
    audit,
    history,
    is_ministry,
    notify,
    province_of,
    require_county,
    require_ministry,
    require_province,
    users_of,
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

__all__ = [
    "ACTIVE",
    "BATCH_MOVES",
    "MISSING_YEAR",
    "REMIND_DAYS",
    "audit",
    "batch_defaults",
    "create_batch",
    "create_report",
    "editable",
    "effective_deadline",
    "eligibility",
    "grant_extension",
    "history",
    "is_ministry",
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
    "remind_deadlines",
    "require_county",
    "require_ministry",
    "require_province",
    "resubmit",
    "review",
    "save_form",
    "save_plan",
    "set_verdicts",
    "submit_set",
    "users_of",
    "withdraw",
]
