"""The bulletin pages: the list with a form to generate any week's bulletin, one bulletin with
its figures, charts and lists, and its downloads (docx, xlsx, json).

A bulletin is circulated to every unit of its bureau, so any post in the bureau reads it; the
links from its figures lead to the order list, which applies its own access.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.assessment import bulletins, selectors
from minyi.assessment.forms import GenerateForm
from minyi.assessment.rules import Floors, last_complete_week, lists_sentences
from minyi.core.errors import InvalidInput, NotAllowed

FORMATS = bulletins.CONTENT_TYPES


def bulletin_list(request: HttpRequest) -> HttpResponse:
    may_generate = selectors.generating_bureaus(request.user)
    form = None
    status = 200
    if may_generate:
        initial = {"week": last_complete_week(timezone.localdate()).label,
                   "bureau": may_generate[0].pk}
        form = GenerateForm(request.POST or None, bureaus=may_generate, initial=initial)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("您的岗位不能生成通报")
        if form.is_valid():
            try:
                bulletin, created = bulletins.generate(
                    actor=request.user, bureau=form.cleaned_data["bureau"],
                    week=form.cleaned_data["week"])
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from None
            except InvalidInput as exc:
                form.add_error("week", str(exc))
            else:
                if created:
                    messages.success(request, f"已生成{bulletin.display_number}")
                else:
                    at = timezone.localtime(bulletin.generated_at)
                    messages.info(request, f"该周的通报已于{at:%Y年%m月%d日 %H:%M}生成"
                                  f"（{bulletin.display_number}），如需按最新数据重算请点击"
                                  "“重新生成”")
                return redirect("assessment:bulletin", pk=bulletin.pk)
        status = 400
    rows = list(selectors.bulletins_for_user(request.user)[:200])
    return render(request, "assessment/bulletin_list.html",
                  {"bulletins": rows, "form": form,
                   "many_bureaus": len(selectors.user_bureaus(request.user)) > 1},
                  status=status)


def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = selectors.get_bulletin_for_user(request.user, pk)
    snapshot = bulletin.snapshot
    floors = Floors.from_dict(snapshot["floors"])
    return render(request, "assessment/bulletin_detail.html", {
        "bulletin": bulletin,
        "snapshot": snapshot,
        "headline": selectors.headline_links(request.user, snapshot),
        "lists": lists_sentences(snapshot["units"], floors),
        "red": [u for u in snapshot["units"] if u["list"] == "red"],
        "black": [u for u in snapshot["units"] if u["list"] == "black"],
        "columns": selectors.COLUMNS,
        "rows": selectors.table_rows(request.user, snapshot),
        "charts": selectors.chart_data(request.user, snapshot),
        "definitions": snapshot["definitions"],
        "may_regenerate": bulletin.bureau in selectors.generating_bureaus(request.user),
        "empty": not snapshot["total"]["received"],
    })


def bulletin_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("没有这种格式")
    bulletin = selectors.get_bulletin_for_user(request.user, pk)
    data = bulletins.export(bulletin, fmt)
    response = HttpResponse(data, content_type=FORMATS[fmt])
    name = f"{bulletin.week_label}-{bulletin.bureau.code}-每周通报.{fmt}"
    response["Content-Disposition"] = (f"attachment; filename=\"bulletin-{bulletin.week_label}."
                                       f"{fmt}\"; filename*=UTF-8''{quote(name)}")
    return response


@require_POST
def bulletin_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = selectors.get_bulletin_for_user(request.user, pk)
    try:
        bulletin = bulletins.regenerate(actor=request.user, bulletin=bulletin)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, f"已按最新数据重新生成{bulletin.display_number}")
    return redirect("assessment:bulletin", pk=bulletin.pk)


urlpatterns = [
    path("bulletins/", bulletin_list, name="bulletins"),
    path("bulletins/<int:pk>/", bulletin_detail, name="bulletin"),
    path("bulletins/<int:pk>/regenerate/", bulletin_regenerate, name="bulletin_regenerate"),
    path("bulletins/<int:pk>/download.<slug:fmt>", bulletin_download, name="bulletin_download"),
]
