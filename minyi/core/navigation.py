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


UNIT_ROLES = frozenset({Role.UNIT_HANDLER, Role.UNIT_HEAD})
DISPATCH = frozenset({Role.DISPATCHER})
REVIEWERS = frozenset({Role.DISPATCHER, Role.INSPECTOR, Role.LEGAL_REVIEWER})

NAVIGATION: list[NavEntry] = [
    NavEntry("工作台", "home", ALL_ROLES),
    NavEntry("我的通知", "notifications:list", ALL_ROLES),
    NavEntry("我的工单", "orders:workbench", UNIT_ROLES, "工单"),
    NavEntry("接单录入", "orders:new", DISPATCH, "工单"),
    NavEntry("派单台", "orders:board", DISPATCH, "工单"),
    NavEntry("审核", "orders:review_queue", REVIEWERS, "工单"),
    NavEntry("退单审批", "orders:returns", DISPATCH, "工单"),
    # Every role sees orders: the bureau-wide roles all of the bureau's, a unit its own.
    NavEntry("工单列表", "orders:list", ALL_ROLES, "工单"),
    NavEntry("督办单", "orders:notices", ALL_ROLES, "督办"),
    NavEntry("提醒函", "orders:letters", ALL_ROLES, "督办"),
    NavEntry("每周通报", "assessment:bulletins", ALL_ROLES, "督办"),
    NavEntry("热点分析", "campaigns:hot", frozenset({Role.DISPATCHER, Role.BUREAU_LEADER,
                                                 Role.OPINION_OFFICER, Role.INSPECTOR,
                                                 Role.ADMINISTRATOR}), "督办"),
    NavEntry("专项整治", "campaigns:list", ALL_ROLES, "督办"),
    NavEntry("回访台", "callbacks:desk", UNIT_ROLES | {Role.OPINION_OFFICER}, "回访"),
    NavEntry("整改事项", "callbacks:rectifications", ALL_ROLES, "回访"),
    NavEntry("回访统计", "callbacks:figures", ALL_ROLES, "回访"),
    NavEntry("抽测回访", "callbacks:spotchecks", ALL_ROLES, "回访"),
    NavEntry("抽样方案", "callbacks:plans", frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR}),
             "回访"),
    NavEntry("回访对象导入", "callbacks:imports",
             frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR}), "回访"),
    NavEntry("领导驾驶舱", "assessment:dashboard",
             frozenset({Role.BUREAU_LEADER, Role.INSPECTOR, Role.OPINION_OFFICER,
                        Role.ADMINISTRATOR}), "考核"),
    NavEntry("月度考核", "assessment:months", ALL_ROLES, "考核"),
    NavEntry("年度工作方案", "assessment:programme", ALL_ROLES, "考核"),
    NavEntry("民调结果", "surveys:overview", ALL_ROLES, "民调"),
    NavEntry("指数口径", "surveys:definitions", ALL_ROLES, "民调"),
    NavEntry("调查列表", "surveys:waves", ALL_ROLES, "民调"),
    NavEntry("调查访问台", "surveys:desk", frozenset({Role.OPINION_OFFICER}), "民调"),
    NavEntry("问卷", "surveys:questionnaires",
             frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR}), "民调"),
    NavEntry("人口总体与加权", "surveys:populations",
             frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR}), "民调"),
    NavEntry("比较基准", "surveys:benchmarks",
             frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR}), "民调"),
    NavEntry("批量导入", "intake:imports", DISPATCH | {Role.ADMINISTRATOR}, "工单"),
    NavEntry("未送达的反馈", "intake:feedback", DISPATCH, "工单"),
    NavEntry("接口文档", "api:docs", frozenset({Role.ADMINISTRATOR}), "系统"),
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
        items.append({"label": entry.label, "url": url, "group": entry.group, "active": False})
    # The entry whose address is the longest start of the current one: on /orders/board/ that
    # is 派单台, not 工单列表 at /orders/ as well.
    matches = [item for item in items
               if (current_path == item["url"] if item["url"] == "/"
                   else current_path.startswith(item["url"]))]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return items
