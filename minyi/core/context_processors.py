from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def _unread_counter(request: HttpRequest) -> Callable[[], int]:
    """The bell's count, asked only if the page shows it and at most once per request (the
    template calls it; a page and its HTMX fragments may show the bell more than once)."""

    def count() -> int:
        if not hasattr(request, "_minyi_unread_notifications"):
            from minyi.notifications.selectors import unread_count

            request._minyi_unread_notifications = unread_count(request.user)
        return request._minyi_unread_notifications

    return count


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the page frame needs: the site name, the user's units, the navigation and the
    number of unread notifications."""
    from minyi.core.navigation import navigation_for
    from minyi.orgs.access import primary_membership

    context: dict[str, Any] = {"site_name": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["nav_items"] = navigation_for(user, request.path)
        context["current_membership"] = primary_membership(user)
        context["unread_notifications"] = _unread_counter(request)
    return context
