"""What guards the answering form besides the links: keyed hashes of devices and addresses, address blocks,
one-time form nonces (issued on render, purged when expired), and the count of refused submissions.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from youjun.web.survey.models import FormNonce, Refusal

NONCE_BYTES = 24


PURGE_BATCH = 2000


PURGE_EVERY = 50  # on average one render in this many deletes a batch of expired nonces


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of a device id or IP address: comparable, not reversible without the secret key."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def address_block(ip: str) -> str:
    """The address block of an IP address: /24 for IPv4, /64 for IPv6 (an IPv4-mapped IPv6 address counts as
    IPv4); the empty string for an unreadable address.

    >>> address_block("203.0.113.77"), address_block("2001:db8:1:2:3:4:5:6"), address_block("::ffff:10.1.2.3")
    ('203.0.113.0/24', '2001:db8:1:2::/64', '10.1.2.0/24')
    >>> address_block("nonsense")
    ''
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def nonce_digest(value: str) -> str:
    """SHA-256 of a form nonce (the nonce is 192 random bits: no key needed to make the stored value useless)."""
    return hashlib.sha256(value.encode()).hexdigest()


def issue_nonce(
    campaign_id: int, link_id: int, device: str | None, prot: Mapping[str, Any], now: datetime | None = None
) -> str:
    """A new one-time nonce for an answering form rendered now for this link and device (keyed hash or None)."""
    value = secrets.token_urlsafe(NONCE_BYTES)
    now = now or timezone.now()
    max_age = timedelta(hours=float(prot["render_max_age_hours"]))
    FormNonce.objects.create(
        digest=nonce_digest(value),
        campaign_id=campaign_id,
        link_id=link_id,
        device=device,
        rendered_at=now,
        expires_at=now + max_age,
    )
    if secrets.randbelow(PURGE_EVERY) == 0:
        purge_nonces(now, limit=PURGE_BATCH)
    return value


def purge_nonces(now: datetime | None = None, limit: int | None = None) -> int:
    """Delete expired nonces (all, or the oldest ``limit``); the number deleted. Cheap: an index on expiry.

    Called now and then on render; the lead may also schedule it (``manage.py purge_survey_nonces``)."""
    now = now or timezone.now()
    expired = FormNonce.objects.filter(expires_at__lt=now)
    if limit is not None:
        ids = list(expired.order_by("expires_at").values_list("pk", flat=True)[:limit])
        expired = FormNonce.objects.filter(pk__in=ids)
    deleted, _ = expired.delete()
    return int(deleted)


def record_refusal(campaign_id: int, reason: str, now: datetime | None = None) -> None:
    """Count one refused submission (per campaign, reason and minute; the answers are not kept)."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    match = Refusal.objects.filter(campaign_id=campaign_id, reason=reason, minute=minute)
    if match.update(n=F("n") + 1):
        return
    try:
        with transaction.atomic():
            Refusal.objects.create(campaign_id=campaign_id, reason=reason, minute=minute, n=1)
    except IntegrityError:  # created by a request at the same instant
        match.update(n=F("n") + 1)
