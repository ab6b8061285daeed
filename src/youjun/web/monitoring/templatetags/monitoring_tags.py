from django import template

register = template.Library()

#: The CSS class of a warning level (关注 / 预警 / 警报; other names a province may use look like 关注).
LEVEL_CLASS = {"关注": "level-watch", "预警": "level-warn", "警报": "level-alarm"}


@register.filter
def level_class(level: str) -> str:
    return LEVEL_CLASS.get(level, "level-watch")
