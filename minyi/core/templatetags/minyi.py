from django import template

from minyi.core.audit import action_label as _action_label

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    """An event's action as the users name it (新建单位, 后台修改 …)."""
    return _action_label(action)
