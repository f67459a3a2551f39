"""The left navigation: what each role reaches from every page.

Later apps add their entries here, so that one list says what a role can do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from minyi.orgs.models import Role

ALL_ROLES = frozenset(Role.values)


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    roles: frozenset[str]
    group: str = ""


NAVIGATION: list[NavEntry] = [
    NavEntry("工作台", "home", ALL_ROLES),
    NavEntry("单位与辖区", "orgs:units", ALL_ROLES, "基础信息"),
    NavEntry("人员", "orgs:people", ALL_ROLES, "基础信息"),
    NavEntry("办理时限计算", "workcal:calculator", ALL_ROLES, "工作日历"),
    NavEntry("节假日管理", "workcal:years", frozenset({Role.ADMINISTRATOR}), "工作日历"),
    NavEntry("审计链", "audit", frozenset({Role.ADMINISTRATOR, Role.INSPECTOR}), "系统"),
    NavEntry("基础数据后台", "admin:index", frozenset({Role.ADMINISTRATOR}), "系统"),
]


def navigation_for(user: Any, current_path: str = "") -> list[dict[str, Any]]:
    from minyi.orgs.access import roles_of

    roles = roles_of(user)
    items = []
    for entry in NAVIGATION:
        if not roles & entry.roles:
            continue
        if entry.url_name == "admin:index" and not user.is_staff:
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"label": entry.label, "url": url, "group": entry.group, "active": active})
    return items
