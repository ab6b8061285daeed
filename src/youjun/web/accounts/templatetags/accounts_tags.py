"""``{% request_id %}``: the id of the request being answered, for pages rendered without a context (500)."""

from __future__ import annotations

from django import template

from youjun.web.accounts.logs import current_request_id

register = template.Library()


@register.simple_tag
def request_id() -> str:
    return current_request_id.get()
