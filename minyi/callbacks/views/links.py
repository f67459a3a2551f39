"""Sending a rating link (发送评价短信) from a callback task: one POST, back to where it came
from. The task comes through `selectors.get_task_for_user` (404 for missing or not yours)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from minyi.callbacks import links, selectors
from minyi.core.errors import Conflict, InvalidInput, NotAllowed


def _back(request: HttpRequest, task_pk: int) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    try:
        return reverse("callbacks:task", args=[task_pk])
    except NoReverseMatch:
        return reverse("callbacks:desk")


@require_POST
def send_link(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task_for_user(request.user, pk)
    try:
        sent = links.send_rating_link(actor=request.user, task=task)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except (Conflict, InvalidInput) as exc:
        messages.error(request, f"未发送评价短信：{exc}")
    else:
        messages.success(request, f"已向 {task.contact.phone_mask} 发送评价短信，"
                                  f"{links.link_days()} 日内有效（失效时间 "
                                  f"{timezone.localtime(sent.link.expires_at):%Y-%m-%d %H:%M}）")
    return redirect(_back(request, task.pk))
