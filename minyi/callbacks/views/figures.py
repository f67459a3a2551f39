"""The callback figures page (回访统计) and its xlsx export: the same parameters, the same
computation (`figures.figures`), so the workbook holds exactly what the page shows."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from minyi.callbacks import aapor, exports, rules
from minyi.callbacks import figures as fig


class FigureForm(forms.Form):
    """Renders the pickers; the values are read and checked by `figures.parse_query`, which the
    API uses too, so both say the same about bad input."""

    date_from = forms.DateField(label="应回访日期从", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="至", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label="分组", required=False, choices=list(fig.GROUPINGS.items()))
    kind = forms.ChoiceField(label="任务类别", required=False, choices=list(fig.KINDS.items()))
    unit = forms.ChoiceField(label="单位", required=False)
    definition = forms.ChoiceField(label="满意率口径", required=False,
                                   choices=[(k, f"基本满意计 {w:g}") for k, w in
                                            rules.DEFINITIONS.items()])
    e = forms.CharField(label="e（可不填）", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "按比例估计",
                                                      "inputmode": "decimal", "size": 8}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", "全部单位")] + [
            (str(u.pk), ("　" * max(0, u.depth - 1)) + u.name)
            for u in fig.units_for(user).order_by("path")]


def _compute(request: HttpRequest) -> tuple[fig.Figures | None, fig.FigureQuery, list[Any]]:
    try:
        query = fig.parse_query(request.GET)
    except fig.QueryError as exc:
        start, end = fig.default_period(timezone.localdate())
        return None, fig.FigureQuery(date_from=start, date_to=end), exc.problems
    return fig.figures(user=request.user, query=query), query, []


def figures_page(request: HttpRequest) -> HttpResponse:
    result, query, problems = _compute(request)
    form = FigureForm(query.params(), user=request.user)
    context: dict[str, Any] = {"form": form, "query": query, "problems": problems,
                               "result": result}
    if result is not None:
        definition = query.definition
        context.update({
            "count_headers": [h for _k, h in fig.COUNT_COLUMNS],
            "outcome_headers": [(k, aapor.CLASS_LABELS[k]) for k, _h in fig.OUTCOME_COLUMNS],
            "formulas": [(name, aapor.RATE_LABELS[name], aapor.FORMULAS[name])
                         for name in aapor.RATES],
            "rate_headers": [k for k, _h in fig.RATE_COLUMNS],
            "rows": [{"row": r, "counts": fig.count_cells(r, definition),
                      "aapor": [*fig.outcome_cells(r), *fig.rate_cells(r)]}
                     for r in [*result.rows, result.total]],
            "definitions": result.definitions(),
            "switch": [{"id": d, "weight": f"{w:g}", "current": d == definition,
                        "url": "?" + urlencode(query.params(definition=d))}
                       for d, w in rules.DEFINITIONS.items()],
            "export_url": reverse("callbacks:figures_export") + "?" + urlencode(query.params()),
            "by_label": fig.GROUPINGS[query.by],
        })
    return render(request, "callbacks/figures.html", context, status=400 if problems else 200)


def figures_export(request: HttpRequest) -> HttpResponse:
    result, _query, problems = _compute(request)
    if result is None:
        return render(request, "callbacks/figures.html",
                      {"form": FigureForm(request.GET, user=request.user), "problems": problems,
                       "result": None}, status=400)
    out = io.BytesIO()
    exports.write_figures(result, out)
    response = HttpResponse(out.getvalue(), content_type=exports.CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(exports.filename(result))
    return response


def _attachment(name: str) -> str:
    return f"attachment; filename=\"callback-figures.xlsx\"; filename*=UTF-8''{quote(name)}"
