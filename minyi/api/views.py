"""The endpoints of /api/v1/. Thin: read the request (`inputs`), call the selectors and actions
the pages use, answer with `serializers`. Errors become JSON in `http.endpoint`."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from minyi.api import openapi
from minyi.api.auth import Caller
from minyi.api.http import answer, endpoint, error, json_body
from minyi.api.inputs import (
    ACTION_FIELDS,
    ATTACHMENTS_FIELD,
    EXPECTED_VERSION,
    BadRequest,
    Problem,
    require,
)
from minyi.api.pagination import page, read_limit
from minyi.api.receiving import receive
from minyi.api.serializers import API_ACTIONS, feedback_row, order_detail, order_summary
from minyi.core.errors import Conflict, NotAllowed
from minyi.intake.models import FeedbackDelivery
from minyi.orders import actions
from minyi.orders.models import Order
from minyi.orders.selectors import OrderFilter, filter_orders, order_list
from minyi.orgs import access
from minyi.orgs.models import Role, Unit

ORDER_KEYS = ("received_at", "id")
LIST_PARAMS = frozenset(f.name for f in fields(OrderFilter)) | {"cursor", "limit"}
INCLUDES = frozenset({"timeline"})
FEEDBACK_STATUSES = frozenset(FeedbackDelivery.Status.values)
CLIENT_CANNOT_ACT = "对接系统只能提交、查询工单和查看反馈，不能办理工单；办理由民警使用本人令牌进行"


def _reject_unknown(request: HttpRequest, known: frozenset[str]) -> None:
    unknown = [k for k in request.GET if k not in known]
    if unknown:
        raise BadRequest([Problem(k, f"未知的查询参数 {k!r}") for k in unknown])


def _client_orders(client: Any) -> Any:
    """An integrating system sees the orders it sent, and no others: it speaks for one
    platform, and the bureau's other orders (and their citizens) are none of its business."""
    return Order.objects.filter(source_client=client)


def _get_order(caller: Caller, pk: int) -> Order:
    """404 alike for a missing order and one the caller may not see."""
    if caller.is_client:
        order = _client_orders(caller.client).filter(pk=pk).first()
        if order is None:
            raise Http404("没有找到该工单")
        return order
    return access.get_order_for_user(caller.user, pk)


# --- orders -----------------------------------------------------------------------------------


@endpoint("GET", "POST")
def orders(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return _create(request, caller)
    return _list(request, caller)


def _create(request: HttpRequest, caller: Caller) -> HttpResponse:
    results, batch = receive(caller, json_body(request))
    status = 201 if any(created for _, created in results) else 200
    if batch:
        return answer({"results": [
            {"index": i, "created": created, "order": order_summary(order)}
            for i, (order, created) in enumerate(results)
        ]}, status)
    order, created = results[0]
    order = Order.objects.get(pk=order.pk)
    headers = {"Location": reverse("api:order", args=[order.pk])} if created else {}
    return answer(order_detail(order), status, **headers)


def _list(request: HttpRequest, caller: Caller) -> HttpResponse:
    _reject_unknown(request, LIST_PARAMS)
    f = OrderFilter.from_params(request.GET)
    limit = read_limit(request.GET.get("limit"))
    if caller.is_client:
        qs = _client_orders(caller.client).select_related("channel", "order_type", "lead_unit",
                                                          "area")
        if f.unit is not None:
            # The selectors resolve a unit against a user's units; a client has none, so its
            # unit filter is resolved here, within its own bureau.
            unit = Unit.objects.filter(pk=f.unit,
                                       path__startswith=caller.client.bureau.path).first()
            if unit is None:
                raise Http404("没有找到该单位")
            qs = qs.filter(lead_unit__path__startswith=unit.path)
            f = replace(f, unit=None)
        qs = filter_orders(qs, f, AnonymousUser())
    else:
        qs = order_list(caller.user, f)
    rows, next_cursor = page(qs, ORDER_KEYS, request.GET.get("cursor") or None, limit)
    return answer({"results": [order_summary(o) for o in rows], "next_cursor": next_cursor})


@endpoint("GET")
def order(request: HttpRequest, caller: Caller, pk: int) -> HttpResponse:
    _reject_unknown(request, frozenset({"include"}))
    include = {part.strip() for part in request.GET.get("include", "").split(",") if part.strip()}
    if include - INCLUDES:
        raise BadRequest([Problem("include", f"include 只能是 {', '.join(sorted(INCLUDES))}",
                                  "附带内容")])
    return answer(order_detail(_get_order(caller, pk), timeline="timeline" in include))


# --- actions ----------------------------------------------------------------------------------


def _unit(ref: int | str, field: str, label: str) -> Unit:
    unit = Unit.objects.filter(**({"pk": ref} if isinstance(ref, int) else {"code": ref})).first()
    if unit is None:
        raise BadRequest([Problem(field, f"没有找到单位 {ref!r}", label)])
    return unit


def _units(refs: list[int | str], field: str, label: str) -> list[Unit]:
    found, problems = [], []
    for ref in refs:
        try:
            found.append(_unit(ref, field, label))
        except BadRequest as exc:
            problems.extend(exc.problems)
    if problems:
        raise BadRequest(problems)
    return found


def _run(action: str, actor: Any, order: Order, v: dict[str, Any], files: list[Any],
         expected_version: int | None) -> None:
    common = {"actor": actor, "order": order, "expected_version": expected_version}
    if action == "dispatch":
        actions.dispatch_order(**common, lead_unit=_unit(v["lead_unit"], "lead_unit", "承办单位"),
                               co_units=_units(v.get("co_units", []), "co_units", "协办单位"),
                               note=v.get("note", ""))
    elif action == "sign":
        actions.sign_order(**common)
    elif action == "contact":
        actions.contact_citizen(**common, method=v["method"], note=v.get("note", ""),
                                at=v.get("at"))
    elif action == "report":
        actions.report_order(**common, result=v["result"], measures=v.get("measures", ""),
                             resolved=v.get("resolved", True), files=files)
    elif action == "request-return":
        actions.request_return(**common, reason=v["reason"])
    elif action == "decide-return":
        actions.decide_return(**common, approve=v["approve"], note=v.get("note", ""))
    elif action == "review":
        actions.review_order(**common, passed=v["passed"], reason=v.get("reason", ""))
    elif action == "feed-back":
        actions.feed_back_order(**common, note=v.get("note", ""))
    elif action == "callback":
        actions.record_callback(**common, outcome=v["outcome"], note=v.get("note", ""))
    elif action == "close":
        actions.close_order(**common, note=v.get("note", ""))
    elif action == "redo":
        unit = _unit(v["lead_unit"], "lead_unit", "重办承办单位") if "lead_unit" in v else None
        actions.redo_order(**common, reason=v["reason"], lead_unit=unit)
    elif action == "invalid":
        actions.mark_invalid(**common, reason=v["reason"])
    else:  # the urlconf names only the actions above
        raise Http404("没有这个操作")


@endpoint("POST")
def order_action(request: HttpRequest, caller: Caller, pk: int, action: str) -> HttpResponse:
    if action not in API_ACTIONS:
        raise Http404("没有这个操作")
    if caller.is_client:
        _get_order(caller, pk)  # 404 before 403: a client learns nothing of others' orders
        raise NotAllowed(CLIENT_CANNOT_ACT)
    order = access.get_order_for_user(caller.user, pk)
    files: list[Any] = []
    if action == "report" and request.content_type == "multipart/form-data":
        data: Any = request.POST
        files = request.FILES.getlist(ATTACHMENTS_FIELD)
        from_form = True
    else:
        data, from_form = json_body(request), False
    values = require(data, [*ACTION_FIELDS[action], EXPECTED_VERSION], from_form=from_form)
    expected_version = values.pop("expected_version", None)
    try:
        _run(action, caller.user, order, values, files, expected_version)
    except Conflict as exc:
        # Tell the app what the order is now, so it can refresh without another round trip.
        current = Order.objects.values("state", "version").get(pk=order.pk)
        return error(409, str(exc), current=current)
    return answer(order_detail(Order.objects.get(pk=order.pk)))


# --- feedback ---------------------------------------------------------------------------------


@endpoint("GET")
def feedback(request: HttpRequest, caller: Caller) -> HttpResponse:
    _reject_unknown(request, frozenset({"status", "cursor", "limit"}))
    status = request.GET.get("status") or FeedbackDelivery.Status.PENDING
    if status not in FEEDBACK_STATUSES:
        raise BadRequest([Problem("status", f"status 只能是 {'、'.join(sorted(FEEDBACK_STATUSES))}",
                                  "推送状态")])
    limit = read_limit(request.GET.get("limit"))
    if caller.is_client:
        qs = FeedbackDelivery.objects.filter(client=caller.client)
    else:
        if not (access.has_role(caller.user, Role.DISPATCHER) or caller.user.is_superuser):
            raise NotAllowed("只有指挥中心可以查看反馈推送情况")
        qs = FeedbackDelivery.objects.filter(
            order__in=access.visible_orders(caller.user).values("pk"))
    qs = qs.filter(status=status).select_related("order", "client")
    rows, next_cursor = page(qs, ("id",), request.GET.get("cursor") or None, limit)
    return answer({"results": [feedback_row(d) for d in rows], "next_cursor": next_cursor})


# --- the document -----------------------------------------------------------------------------


@endpoint("GET", public=True)
def openapi_document(request: HttpRequest) -> HttpResponse:
    return answer(openapi.document())


@endpoint("GET", public=True)
def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", openapi.docs_context(openapi.document()))
