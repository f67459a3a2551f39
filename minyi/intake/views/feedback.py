"""The command centre's list of feedback the source platforms have not accepted yet."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from minyi.api.inputs import BadRequest
from minyi.api.pagination import page
from minyi.intake import feedback
from minyi.intake.models import FeedbackDelivery
from minyi.orgs import access
from minyi.orgs.models import Role

PAGE_SIZE = 100


def _require_command_centre(request: HttpRequest) -> None:
    # Feeding back is the command centre's work (actions.feed_back_order); so is chasing it.
    if not request.user.is_superuser:
        access.require_role(request.user, Role.DISPATCHER)


def _deliveries(request: HttpRequest):
    return FeedbackDelivery.objects.filter(
        order__in=access.visible_orders(request.user).values("pk"))


def _order_url(pk: int) -> str | None:
    # The order page belongs to the orders app; link to it when it is there.
    try:
        return reverse("orders:detail", args=[pk])
    except NoReverseMatch:
        return None


def undelivered(request: HttpRequest) -> HttpResponse:
    _require_command_centre(request)
    qs = (_deliveries(request).filter(status=FeedbackDelivery.Status.PENDING)
          .select_related("order", "client"))
    try:
        rows, next_cursor = page(qs, ("id",), request.GET.get("cursor") or None, PAGE_SIZE)
    except BadRequest:  # a hand-edited cursor: start again from the first page
        return redirect("intake:feedback")
    for delivery in rows:
        delivery.order_url = _order_url(delivery.order_id)
        delivery.sending = delivery.last_error == feedback.SENDING
    return render(request, "intake/feedback.html", {
        "deliveries": rows, "next_cursor": next_cursor,
        "is_first": not request.GET.get("cursor"),
    })


@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_command_centre(request)
    delivery = _deliveries(request).select_related("order", "client").filter(pk=pk).first()
    if delivery is None:
        raise Http404("没有找到该反馈推送")
    result = feedback.retry_now(delivery.pk, actor=request.user)
    number = delivery.order.number
    if result is True:
        messages.success(request, f"工单 {number} 的反馈已送达「{delivery.client.name}」。")
    elif result is False:
        delivery.refresh_from_db()
        messages.error(request, f"工单 {number} 的反馈仍未送达：{delivery.last_error}。"
                                "系统会继续按间隔自动重试。")
    else:
        messages.info(request, f"工单 {number} 的反馈已送达或正在发送中，无需重试。")
    return redirect("intake:feedback")
