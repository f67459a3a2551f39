"""The unit's open rectification items, for any page (the home page) to include in one line:
`{% load rectification_tags %}{% open_rectifications %}`."""

from __future__ import annotations

from typing import Any

from django import template

from minyi.callbacks import rectification

register = template.Library()


@register.inclusion_tag("callbacks/rectification_home.html", takes_context=True)
def open_rectifications(context: Any, limit: int = 10) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    items = rectification.open_items_of(user, limit=limit) if user is not None else []
    return {"items": items, "request": request}
