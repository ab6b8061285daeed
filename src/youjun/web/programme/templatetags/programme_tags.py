"""Template tags of the programme's pages.

- ``{% unread_notifications as n %}``: the unread count shown beside the programme link in the header;
- ``{% programme_basis %}``: the notice the programme runs under, cited in the footer of its pages (the site's
  footer cites the evaluation method instead).
"""

from __future__ import annotations

from typing import Any

from django import template

from youjun.web.programme.models import Notification

register = template.Library()

#: The 2021 notice that launched the creation programme (programme.md §1).
BASIS = "依据《教育部办公厅关于开展县域义务教育优质均衡创建工作的通知》（教基厅函〔2021〕43号）"


@register.simple_tag(takes_context=True)
def unread_notifications(context: dict[str, Any]) -> int:
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read=False, done_at__isnull=True).count()


@register.simple_tag
def programme_basis() -> str:
    return BASIS
