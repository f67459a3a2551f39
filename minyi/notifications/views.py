"""A user's notifications: the list, opening one (which marks it read), marking read.

Every notification is fetched through `selectors.get_notification_for_user`, filtered by its
recipient: another user's, like a missing one, answers 404."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from minyi.notifications import actions, selectors


def _is_local(request: HttpRequest, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure())


def _links(request: HttpRequest, page: selectors.NotificationPage) -> dict[str, str]:
    params = {k: v for k, v in request.GET.items() if k != "after"}
    base = request.path + ("?" + urlencode(params) if params else "")
    joiner = "&" if params else "?"
    links = {"first_url": "" if page.is_first else base}
    if page.next_cursor:
        links["next_url"] = f"{base}{joiner}after={page.next_cursor}"
    return links


def _list_context(request: HttpRequest) -> dict:
    unread_only = request.GET.get("unread") == "1"
    page = selectors.notification_page(request.user, after=request.GET.get("after", ""),
                                       unread_only=unread_only)
    return {"page": page, "unread_only": unread_only,
            "unread_total": selectors.unread_count(request.user), **_links(request, page)}


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/list.html", _list_context(request))


@require_GET
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = selectors.get_notification_for_user(request.user, pk)
    actions.mark_read(actor=request.user, notification=notification)
    if _is_local(request, notification.link):
        return redirect(notification.link)
    return redirect("notifications:list")


@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = selectors.get_notification_for_user(request.user, pk)
    actions.mark_read(actor=request.user, notification=notification)
    if request.htmx:
        return render(request, "notifications/_row_read.html", {
            "n": notification, "unread_total": selectors.unread_count(request.user)})
    back = request.POST.get("next", "")
    return redirect(back if _is_local(request, back) else reverse("notifications:list"))


@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = actions.mark_all_read(actor=request.user)
    if request.htmx:
        context = _list_context(request)
        return render(request, "notifications/_list_read.html", context)
    messages.success(request, f"已将 {count} 条通知标为已读" if count else "没有未读通知")
    back = request.POST.get("next", "")
    return redirect(back if _is_local(request, back) else reverse("notifications:list"))
