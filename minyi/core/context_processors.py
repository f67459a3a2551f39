from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the page frame needs: the site name, the user's units and the navigation."""
    from minyi.core.navigation import navigation_for
    from minyi.orgs.access import primary_membership

    context: dict[str, Any] = {"site_name": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["nav_items"] = navigation_for(user, request.path)
        context["current_membership"] = primary_membership(user)
    return context
