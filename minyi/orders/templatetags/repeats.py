"""`{% load repeats %}{% earlier_orders order user %}`: the block "重复投诉" of an order's page,
listing the earlier orders it repeats that the user may see."""

from __future__ import annotations

from typing import Any

from django import template

from minyi.orders import repeats

register = template.Library()


@register.inclusion_tag("orders/_earlier_orders.html")
def earlier_orders(order: Any, user: Any) -> dict[str, Any]:
    return {"order": order, "earlier": repeats.earlier_orders(order, user),
            "window_days": repeats.window().days}
