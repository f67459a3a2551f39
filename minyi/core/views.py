from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from minyi.core import actions, selectors
from minyi.orgs import access
from minyi.orgs.models import Role


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", selectors.home(request.user))


def audit(request: HttpRequest) -> HttpResponse:
    access.require_role(request.user, Role.ADMINISTRATOR, Role.INSPECTOR)
    return render(request, "core/audit.html", selectors.audit_overview(limit=50))


@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    access.require_role(request.user, Role.ADMINISTRATOR, Role.INSPECTOR)
    check = actions.verify_audit_chain(actor=request.user)
    if check.ok:
        messages.success(request, f"审计链校验通过，共 {check.rows} 条事件。")
    else:
        messages.error(request, f"审计链在第 {check.broken_event_id} 号事件处断开：{check.message}")
    return redirect("audit")
