"""The spot-check page (抽测回访): per unit, how many of its callbacks the opinion office
re-called in the period, how many the public answered differently, the rate, and the pairs;
and the opinion office's button to draw today's spot checks."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.callbacks import spotchecks
from minyi.core.errors import Conflict, InvalidInput, NotAllowed

DEFAULT_DAYS = 30


class PeriodForm(forms.Form):
    since = forms.DateField(label="起", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="止", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise forms.ValidationError("结束日期不能早于开始日期")
        return data


def _period(form: PeriodForm, today: date) -> tuple[date, date]:
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    until = data.get("until") or today
    since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
    return since, until


def spot_check_page(request: HttpRequest, status: int = 200,
                    error: str = "") -> HttpResponse:
    if not spotchecks.sees_spot_checks(request.user):
        raise PermissionDenied("您没有岗位，不能查看抽测回访")
    today = timezone.localdate()
    form = PeriodForm(request.GET or None)
    since, until = _period(form, today)
    rows = spotchecks.spot_check_table(request.user, since, until)
    bureau = spotchecks.drawing_bureau(request.user)
    last = spotchecks.last_draw(bureau) if bureau is not None else None
    return render(request, "callbacks/spotcheck_list.html", {
        "form": form, "rows": rows, "since": since, "until": until, "today": today,
        "bureau": bureau, "last_draw": last, "error": error,
        "definition": spotchecks.DEFINITION, "version": spotchecks.DEFINITION_VERSION,
        "share": spotchecks.default_share(),
        "done": sum(r.done for r in rows), "disagreements": sum(r.disagreements for r in rows),
    }, status=status)


@require_POST
def spot_check_draw(request: HttpRequest) -> HttpResponse:
    bureau = spotchecks.drawing_bureau(request.user)
    if bureau is None:
        raise PermissionDenied("只有民意专员可以抽取抽测回访")
    try:
        result = spotchecks.draw_spot_checks(actor=request.user, bureau=bureau,
                                             day=timezone.localdate())
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except (Conflict, InvalidInput) as exc:
        return spot_check_page(request, status=409 if isinstance(exc, Conflict) else 400,
                               error=str(exc))
    messages.success(request, f"已从 {sum(result.population.values())} 条单位回访中抽取 "
                              f"{len(result.tasks)} 条抽测回访（随机种子 {result.seed}），"
                              "已进入民意访查中心的回访队列")
    return redirect("callbacks:spotchecks")
