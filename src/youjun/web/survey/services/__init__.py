"""Survey operations and the interface for the rest of the product (``county_recognition``).

The recognition rate itself is computed by ``youjun.engine.recognition`` from the campaign's counted answers (an
answer over its group's cap is stored with ``excess`` set and left out); this package turns stored responses into
the engine's frame, stores campaigns, links, quotas and state moves, and computes the integrity figures.

Rules enforced where the data is written:

* state moves: ``UPDATE … WHERE status = <the move's source state>``; a lost race is a Chinese conflict, nothing is
  logged twice; every move writes one ``CampaignEvent``; closing and reopening mark the county-year's stored result
  stale in the same transaction and recompute it after the commit (an open survey never decides S1);
* single-use links: at most the group's quota plus the allowance of ``settings.toml`` (campaign row locked);
* quotas: a group's cap never drops below the answers it already counts (counter rows locked).

The operations live by concern: ``rules`` (rule set, protections, caps), ``campaigns`` (creation, counters and
quotas, state moves), ``links`` (single-use and open links), ``tokens`` (keyed hashes, form nonces, refused
submissions), ``figures`` (the engine's frame, progress, ``county_recognition``, the integrity panel). Every name is
importable from here, as callers always have.
"""

from youjun.web.survey.services.campaigns import (
    MAX_REASON,
    MOVES,
    PLACEHOLDER_PREFECTURES,
    check_move,
    county_label,
    create_campaign,
    ensure_counts,
    history,
    recount,
    save_quotas,
    transition,
)
from youjun.web.survey.services.figures import (
    ANSWER_SCHEMA,
    GroupProgress,
    Integrity,
    Progress,
    answers_frame,
    county_recognition,
    integrity,
    is_national,
    latest_campaign,
    pct,
    progress,
    share_text,
)
from youjun.web.survey.services.links import (
    MAX_LINKS_PER_REQUEST,
    check_link_cap,
    generate_links,
    open_links,
    open_links_for_all,
    single_links,
    survey_schools,
)
from youjun.web.survey.services.rules import (
    allowance,
    answer_cap,
    campaign_display,
    campaign_rules,
    campaign_standard,
    display_for,
    initial_quotas,
    link_cap,
    protection,
    rules_for,
)
from youjun.web.survey.services.tokens import (
    NONCE_BYTES,
    PURGE_BATCH,
    PURGE_EVERY,
    address_block,
    issue_nonce,
    keyed_hash,
    nonce_digest,
    purge_nonces,
    record_refusal,
)

__all__ = [
    "ANSWER_SCHEMA",
    "MAX_LINKS_PER_REQUEST",
    "MAX_REASON",
    "MOVES",
    "NONCE_BYTES",
    "PLACEHOLDER_PREFECTURES",
    "PURGE_BATCH",
    "PURGE_EVERY",
    "GroupProgress",
    "Integrity",
    "Progress",
    "address_block",
    "allowance",
    "answer_cap",
    "answers_frame",
    "campaign_display",
    "campaign_rules",
    "campaign_standard",
    "check_link_cap",
    "check_move",
    "county_label",
    "county_recognition",
    "create_campaign",
    "display_for",
    "ensure_counts",
    "generate_links",
    "history",
    "initial_quotas",
    "integrity",
    "is_national",
    "issue_nonce",
    "keyed_hash",
    "latest_campaign",
    "link_cap",
    "nonce_digest",
    "open_links",
    "open_links_for_all",
    "pct",
    "progress",
    "protection",
    "purge_nonces",
    "record_refusal",
    "recount",
    "rules_for",
    "save_quotas",
    "share_text",
    "single_links",
    "survey_schools",
    "transition",
]
