"""Hot issues and special campaigns (专项整治): the command centre sees what rose, opens a
campaign for named units from a row, and tracks it; the units sign for their tasks and report.

Campaigns are fetched through `selectors.get_campaign_for_user` (404 for missing or not
yours); the hot-issue page and issuing belong to roles (403 for the others); every change is
one action of `campaigns.actions`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.campaigns import actions, hot, selectors
from minyi.campaigns.forms import (
    TASK_FORMS,
    TASK_LABELS,
    CampaignForm,
    CloseForm,
    task_actions,
)
from minyi.campaigns.models import Campaign, Source
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orders.selectors import offset_page
from minyi.orgs import access

ECHARTS = "vendor/echarts/echarts.min.js"
KIND_WORDS = {hot.WEEK: "周", hot.MONTH: "个月"}


def _echarts_url() -> str:
    """The vendored ECharts, or "" while it is not there (the page works without it)."""
    from django.contrib.staticfiles import finders

    if not finders.find(ECHARTS):
        return ""
    try:
        return static(ECHARTS)
    except ValueError:  # the manifest of an older collectstatic does not list it
        return ""


def _chart(report: selectors.HotReport) -> dict[str, Any]:
    rows = [r for r in report.order_types if r.rise.current or r.rise.expected][:10]
    return {
        "labels": [r.rise.label for r in rows],
        "current": [r.rise.current for r in rows],
        "expected": [round(r.rise.expected, 1) for r in rows],
        "rising": [r.rise.rising for r in rows],
    }


def hot_issues(request: HttpRequest) -> HttpResponse:
    access.require_role(request.user, *selectors.HOT_ROLES)
    today = timezone.localdate()
    text = request.GET.get("period", "").strip()
    kind = request.GET.get("kind", hot.WEEK)
    kind = kind if kind in (hot.WEEK, hot.MONTH) else hot.WEEK
    error = ""
    period = report = None
    try:
        period = hot.parse_period(text) if text else hot.default_period(kind, today)
    except InvalidInput as exc:
        error = f"统计周期有误：{exc}"
    if period is not None:
        report = selectors.hot_report(access.visible_orders(request.user), period)
    recent = hot.recent_periods(today)
    return render(request, "campaigns/hot.html", {
        "report": report, "period": period, "period_text": text or (period.label if period
                                                                    else ""),
        "error": error,
        "weeks": [p for p in recent if p.kind == hot.WEEK],
        "months": [p for p in recent if p.kind == hot.MONTH],
        "baseline_count": hot.BASELINE_PERIODS[period.kind] if period else 0,
        "baseline_unit": KIND_WORDS[period.kind] if period else "",
        "min_current": hot.MIN_CURRENT, "alpha": hot.ALPHA,
        "definition_version": hot.DEFINITION_VERSION,
        "keyword_cap": selectors.KEYWORD_ORDER_CAP, "keyword_rows": selectors.KEYWORD_ROWS,
        "demand_kind_links": selectors.order_filter_supports("demand_kind"),
        "can_issue": selectors.issuing_bureau(request.user) is not None,
        "chart": _chart(report) if report else {},
        "echarts_url": _echarts_url() if report else "",
    }, status=400 if error else 200)


# --- campaigns -------------------------------------------------------------------------------


def campaign_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in Campaign.State.values else ""
    page_number = request.GET.get("page", "1")
    page = offset_page(selectors.campaign_list(request.user, state),
                       int(page_number) if page_number.isdecimal() and int(page_number) else 1)
    params = {"state": state} if state else {}
    base = request.path + ("?" + urlencode(params) + "&" if params else "?")
    return render(request, "campaigns/list.html", {
        "page": page, "state": state, "states": Campaign.State.choices,
        "my_tasks": list(selectors.open_tasks_of(request.user)[:50]),
        "can_issue": selectors.issuing_bureau(request.user) is not None,
        "can_see_hot": access.has_role(request.user, *selectors.HOT_ROLES),
        "first_url": "" if page.is_first else request.path + (
            "?" + urlencode(params) if params else ""),
        "next_url": f"{base}page={page.next_page}" if page.next_page else "",
        "now": timezone.now(),
    })


def _prefill(request: HttpRequest, source: str, key: str, period_text: str,
             label: str) -> dict[str, Any]:
    """A campaign's title, requirements and units from the hot issue it is opened from."""
    try:
        period = hot.parse_period(period_text)
    except InvalidInput:
        return {}
    orders = access.visible_orders(request.user)
    baseline = hot.baseline_periods(period)
    current = selectors.source_orders(orders, source, key, period).count()
    before = [selectors.source_orders(orders, source, key, p).count() for p in baseline]
    rise = hot.measure(key, label, current, before, period, baseline)
    what = f"{label}区域" if source == Source.AREA else f"「{label}」"
    change = (f"较前 {len(baseline)} {KIND_WORDS[period.kind]}平均 "
              f"{floatformat(rise.expected, 1)} 件"
              + (f"上升 {rise.change:.0%}" if rise.change is not None and rise.change > 0
                 else "有所变化" if rise.change is not None else "明显增多"))
    title = (f"{label}群众诉求集中问题专项整治" if source == Source.AREA
             else f"{label}问题专项整治")
    requirements = (
        f"{period.title}，{what}相关群众诉求 {current} 件，{change}。"
        "请各责任单位：一、逐件梳理本期相关工单，查清问题成因和集中的点位；"
        "二、制定整治措施，明确责任人和时间节点，对反映集中的点位开展集中整治；"
        "三、对已办结工单开展回访，防止问题反弹；"
        "四、在完成期限前上报整治措施、成效和下一步打算。")
    return {"title": title, "requirements": requirements,
            "units": selectors.suggested_units(orders, source, key, period),
            "source": source, "key": key, "period": period.label}


def new(request: HttpRequest) -> HttpResponse:
    """发起专项整治, from a row of the hot-issue page or from nothing."""
    bureau = selectors.issuing_bureau(request.user)
    if bureau is None:
        raise PermissionDenied("只有指挥调度员和局领导可以发起专项整治")
    params = request.POST if request.method == "POST" else request.GET
    source = params.get("source", "")
    key = params.get("key", "").strip()
    label = selectors.source_label(source, key) if source in Source.values and key else ""
    if request.method == "POST":
        form = CampaignForm(request.POST, bureau=bureau)
        if form.is_valid():
            try:
                campaign = form.perform(request.user, label=label)
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from exc
            except InvalidInput as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已发起专项整治 {campaign.display_number}，"
                                          f"下发至 {campaign.tasks.count()} 个单位")
                return redirect("campaigns:detail", pk=campaign.pk)
    else:
        initial = (_prefill(request, source, key, params.get("period", ""), label)
                   if label else {})
        form = CampaignForm(initial=initial, bureau=bureau)
    return render(request, "campaigns/new.html", {
        "form": form, "bureau": bureau, "label": label,
        "source_label": dict(Source.choices).get(source, ""),
        "period": params.get("period", ""),
    }, status=400 if request.method == "POST" else 200)


def _detail(request: HttpRequest, campaign: Campaign, bound: tuple[int, str, Any] | None = None,
            conflict: str = "", status: int = 200) -> HttpResponse:
    tasks = selectors.tasks_for(request.user, campaign)
    for task in tasks:
        task.campaign = campaign
        task.forms = []
        for name in task_actions(request.user, task):
            form_class = TASK_FORMS[name]
            if bound is not None and bound[:2] == (task.pk, name):
                form = bound[2]
            else:
                form = form_class(auto_id=f"id_{name}_{task.pk}_%s") if form_class else None
            task.forms.append({"name": name, "label": TASK_LABELS[name], "form": form})
    can_close = campaign.is_open and actions.issuing_side(request.user, campaign.bureau)
    return render(request, "campaigns/detail.html", {
        "campaign": campaign, "tasks": tasks, "conflict": conflict,
        "all_tasks": selectors.sees_all_tasks(request.user, campaign),
        "done": sum(t.state == "accepted" for t in tasks),
        "close_form": bound[2] if bound and bound[1] == "close" else CloseForm(),
        "can_close": can_close,
        "events": selectors.timeline(request.user, campaign, tasks),
    }, status=status)


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.get_campaign_for_user(request.user, pk))


@require_POST
def task_act(request: HttpRequest, pk: int, task_pk: int, action: str) -> HttpResponse:
    campaign = selectors.get_campaign_for_user(request.user, pk)
    task = selectors.get_task_for_user(request.user, campaign, task_pk)
    if action not in TASK_FORMS:
        raise Http404("没有这项操作")
    form_class = TASK_FORMS[action]
    form = form_class(request.POST, auto_id=f"id_{action}_{task.pk}_%s") if form_class else None
    if form is not None and not form.is_valid():
        return _detail(request, campaign, bound=(task.pk, action, form), status=400)
    data = form.cleaned_data if form is not None else {}
    try:
        if action == "sign":
            actions.sign_task(actor=request.user, task=task)
            message = f"{task.unit}已签收 {campaign.display_number}"
        elif action == "report":
            actions.report_task(actor=request.user, task=task, report=data["report"])
            message = f"{task.unit}的整治情况已上报，等待验收"
        elif action == "accept":
            actions.accept_task(actor=request.user, task=task)
            message = f"{task.unit}的整治情况已验收通过"
        else:
            actions.return_task(actor=request.user, task=task, reason=data["reason"])
            message = f"已将{task.unit}的整治情况退回"
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except Conflict as exc:
        campaign = selectors.get_campaign_for_user(request.user, pk)
        return _detail(request, campaign, conflict=str(exc), status=409)
    except InvalidInput as exc:
        form = form or form_class(request.POST)
        form.add_error(None, str(exc))
        return _detail(request, campaign, bound=(task.pk, action, form), status=400)
    messages.success(request, message)
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.get_campaign_for_user(request.user, pk)
    form = CloseForm(request.POST)
    form.is_valid()
    try:
        actions.close_campaign(actor=request.user, campaign=campaign,
                               note=form.cleaned_data.get("note", ""))
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except Conflict as exc:
        campaign = selectors.get_campaign_for_user(request.user, pk)
        return _detail(request, campaign, conflict=str(exc), status=409)
    messages.success(request, f"{campaign.display_number} 已结束")
    return redirect("campaigns:detail", pk=campaign.pk)
