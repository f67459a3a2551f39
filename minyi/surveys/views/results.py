"""The results of the survey waves (民调结果) and the definitions (口径) of their indices.

Pages: the overview (the latest wave with responses → its results), a wave's results under a
chosen definition, its downloads (xlsx, json) and the analysis report (docx), the definitions
with the form to add one or a new version. Views are thin: figures from `surveys.results`,
writes through `surveys.definitions`; waves through `access.get_wave_for_user` (404 for
missing and for another bureau's)."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.core.errors import MinyiError, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Unit
from minyi.reports.docx import DOCX_CONTENT_TYPE
from minyi.reports.survey_docx import survey_report_docx
from minyi.surveys import definitions as defs
from minyi.surveys import results as res
from minyi.surveys.models import IndexDefinition, Wave

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(ascii_name: str, name: str) -> str:
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _bureaus(request: HttpRequest) -> list[Unit]:
    bureaus = sorted(access.survey_bureaus(request.user), key=lambda u: u.path)
    if not bureaus:
        raise Http404("没有可查看的民意调查")
    return bureaus


# --- results -----------------------------------------------------------------------------------


def overview(request: HttpRequest) -> HttpResponse:
    """民调结果: the latest wave of the user's bureau(s) that has responses, or an empty state."""
    wave = res.latest_wave_with_responses(request.user)
    if wave is not None:
        return redirect("surveys:results", pk=wave.pk)
    return render(request, "surveys/results/empty.html", {
        "bureaus": access.survey_bureaus(request.user),
        "may_manage": any(access.may_manage_surveys(request.user, b)
                          for b in access.survey_bureaus(request.user)),
    })


def _chosen_definition(request: HttpRequest, wave: Wave) -> IndexDefinition | None:
    raw = request.GET.get("definition", "").strip()
    if not raw:
        return None
    try:
        return defs.definitions_for(wave.bureau).get(pk=int(raw))
    except (IndexDefinition.DoesNotExist, ValueError):
        raise Http404("没有找到该口径") from None


def _results(request: HttpRequest, pk: int, *, all_domains: bool = False,
             ) -> tuple[Wave, res.WaveResults]:
    wave = access.get_wave_for_user(request.user, pk)
    chosen = _chosen_definition(request, wave)
    return wave, res.wave_results(wave, user=request.user, definition=chosen,
                                  all_domains=all_domains)


def results_page(request: HttpRequest, pk: int) -> HttpResponse:
    wave, found = _results(request, pk)
    choices: dict[str, list[IndexDefinition]] = {"内置口径": [], f"{wave.bureau.name}口径": []}
    for d in found.definitions:
        choices["内置口径" if d.bureau_id is None else f"{wave.bureau.name}口径"].append(d)
    query = f"?definition={found.focus.definition.pk}" if found.focus else ""
    return render(request, "surveys/results/results.html", {
        "wave": wave, "r": found, "focus": found.focus, "choices": choices,
        "chart": res.chart_data(found),
        "other_waves": res.waves_with_responses(request.user, limit=12),
        "query": query,
        "may_read": found.suggestions is not None,
    })


def results_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The page's tables as JSON or as an xlsx workbook (same computation as the page)."""
    if fmt not in ("json", "xlsx"):
        raise Http404("没有该格式")
    wave, found = _results(request, pk, all_domains=True)
    if fmt == "json":
        body = json.dumps(found.as_dict(), ensure_ascii=False, indent=1)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = _attachment(f"survey-{wave.pk}.json",
                                                      f"{wave.name}结果.json")
        return response
    out = io.BytesIO()
    _write_xlsx(found, out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(f"survey-{wave.pk}.xlsx",
                                                  f"{wave.name}结果.xlsx")
    return response


def report(request: HttpRequest, pk: int) -> HttpResponse:
    """The analysis report for the leadership (docx)."""
    wave, found = _results(request, pk, all_domains=True)
    if found.empty:
        messages.error(request, "本期还没有答卷，无法生成分析报告。")
        return redirect("surveys:results", pk=wave.pk)
    data = survey_report_docx(found, on=timezone.localdate())
    response = HttpResponse(data, content_type=DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(f"survey-report-{wave.pk}.docx",
                                                  f"{wave.name}分析报告.docx")
    return response


def _write_xlsx(found: res.WaveResults, out: io.BytesIO) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, headers: list[str], rows: list[list[Any]], first: bool = False):
        ws = book.active if first else book.create_sheet()
        ws.title = title
        ws.append(headers)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        return ws

    def num(value: float | None, digits: int = 2) -> float | None:
        return None if value is None else round(value, digits)

    headline = []
    for r in found.headline:
        o = r.overall
        headline.append([
            r.definition.name, r.label, r.description or r.error, r.unit,
            num(o.estimate) if o else None, num(o.ci_low) if o else None,
            num(o.ci_high) if o else None, o.n if o else 0,
            num(o.deff, 3) if o else None,
            r.change.text if r.change else "",
            "；".join(f"{b.text}（{b.against}{b.other:.2f}）" for b in r.benchmarks)])
    sheet("总体指数", ["指标", "口径", "口径说明", "单位", "估计值", "95%下限", "95%上限",
                   "基数人数", "设计效应", "与上期比较", "与基准比较"], headline, first=True)
    for kind, title in (("townships", "乡镇"), ("stations", "派出所")):
        rows = []
        for r in found.headline:
            for f in getattr(r, kind):
                rows.append([r.definition.name, r.label, f.name, f.station, f.n,
                             num(f.estimate), num(f.ci_low), num(f.ci_high),
                             num(f.deff, 3), f.rank_text,
                             res.INSUFFICIENT if f.suppressed else "",
                             f.change.text if f.change else ""])
        sheet(f"按{title}", ["指标", "口径", title, "派出所", "基数人数", "估计值", "95%下限",
                            "95%上限", "设计效应", "排名区间", "备注", "与上期比较"], rows)
    rows = []
    for c in found.choices:
        for f in c.shares:
            rows.append([c.text, f.name, c.n, num(f.estimate), num(f.ci_low), num(f.ci_high)])
    sheet("突出问题", ["题目", "选项", "回答人数", "提及率%", "95%下限", "95%上限"], rows)
    ws = sheet("说明", ["说明"], [[line] for line in found.method])
    ws.column_dimensions["A"].width = 120
    book.save(out)


# --- definitions -------------------------------------------------------------------------------


def definitions_page(request: HttpRequest) -> HttpResponse:
    bureaus = _bureaus(request)
    manageable = [b for b in bureaus if access.may_manage_surveys(request.user, b)]
    groups = []
    for bureau in bureaus:
        rows = list(defs.definitions_for(bureau, active_only=False).select_related("bureau"))
        defaults = {d.pk for d in defs.default_definitions([d for d in rows if d.is_active])}
        groups.append({
            "bureau": bureau, "may_manage": bureau in manageable,
            "rows": [{"d": d, "text": defs.describe(d), "default": d.pk in defaults,
                      "builtin": d.bureau_id is None} for d in rows],
        })
    return render(request, "surveys/results/definitions.html", {
        "groups": groups, "may_manage": bool(manageable),
    })


class DefinitionForm(forms.Form):
    """The fields of a definition; the rule is put together and checked by
    `definitions.rule_from_fields` and `definitions.check_rule` (the same messages as the
    actions give)."""

    code = forms.CharField(label="口径代码", max_length=40, required=False,
                           help_text="小写字母、数字和连字符，如 security-own；新增版本时不可改")
    name = forms.CharField(label="指标名称", max_length=100)
    question_code = forms.ChoiceField(label="对应题目")
    kind = forms.ChoiceField(label="计算方法", choices=list(defs.KIND_LABELS.items()))
    top = forms.CharField(label="计为 1 的选项", required=False,
                          help_text="多个用顿号或逗号分开，如：满意、基本满意")
    middle = forms.CharField(label="计半的中间选项", required=False,
                             help_text="仅“中间项计半”使用，如：基本满意")
    scores = forms.CharField(label="各选项分数", required=False,
                             help_text="仅“按选项赋分”使用，如：很安全=100、安全=80、基本安全=60")
    cutoff = forms.CharField(label="分数线（0–10）", required=False,
                             help_text="仅“0–10 打分”使用：达到该分数计为 1")
    excluded = forms.CharField(label="不计入基数的选项", required=False,
                               help_text="不填则默认不计入：不清楚、不了解、说不清")
    scale = forms.CharField(label="满分（倍数）", required=False,
                            help_text="不填为 100：比例显示为百分数，得分为百分制")
    note = forms.CharField(label="说明", required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, bureau: Unit, base: IndexDefinition | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bureau, self.base = bureau, base
        self.fields["question_code"].choices = [
            (q.code, f"{q.code}：{q.text}") for q in defs.known_questions(bureau).values()]
        if base is not None:
            self.fields["code"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            data["rule"] = defs.rule_from_fields(
                kind=data["kind"], top=data.get("top", ""), middle=data.get("middle", ""),
                scores=data.get("scores", ""), cutoff=data.get("cutoff"),
                excluded=data.get("excluded", ""), scale=data.get("scale"))
        except MinyiError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


def _initial(base: IndexDefinition) -> dict[str, Any]:
    rule = dict(base.rule or {})
    scores = rule.get("scores") or {}
    return {
        "code": base.code, "name": base.name, "question_code": base.question_code,
        "kind": rule.get("kind", "top_share"), "top": "、".join(rule.get("top", [])),
        "middle": "、".join(rule.get("middle", [])),
        "scores": "、".join(f"{k}={v:g}" for k, v in scores.items()),
        "cutoff": "" if rule.get("cutoff") is None else f"{rule['cutoff']:g}",
        "excluded": "、".join(rule.get("excluded", [])),
        "scale": f"{rule['scale']:g}" if "scale" in rule else "",
        "note": base.note,
    }


def _manager_bureau(request: HttpRequest) -> Unit:
    bureaus = [b for b in _bureaus(request) if access.may_manage_surveys(request.user, b)]
    if not bureaus:
        raise PermissionDenied("只有民意专员或系统管理员可以维护指数口径")
    raw = request.GET.get("bureau") or request.POST.get("bureau")
    if raw:
        for b in bureaus:
            if str(b.pk) == raw:
                return b
        raise Http404("没有找到该公安局")
    return bureaus[0]


def _definition_form(request: HttpRequest, *, bureau: Unit,
                     base: IndexDefinition | None) -> HttpResponse:
    form = DefinitionForm(request.POST or None, bureau=bureau, base=base,
                          initial=_initial(base) if base is not None else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if base is None:
                made = defs.add_definition(actor=request.user, bureau=bureau,
                                           code=data["code"], name=data["name"],
                                           question_code=data["question_code"],
                                           rule=data["rule"], note=data["note"])
            else:
                made = defs.add_version(actor=request.user, bureau=bureau, base=base,
                                        rule=data["rule"], name=data["name"],
                                        question_code=data["question_code"],
                                        note=data["note"])
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except MinyiError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已新增{made.name}（{made.label}）。")
            return redirect(reverse("surveys:definitions") + f"#definition-{made.pk}")
    return render(request, "surveys/results/definition_form.html", {
        "form": form, "base": base, "bureau": bureau,
        "base_text": defs.describe(base) if base is not None else "",
    }, status=400 if form.errors else 200)


def definition_new(request: HttpRequest) -> HttpResponse:
    return _definition_form(request, bureau=_manager_bureau(request), base=None)


def definition_version(request: HttpRequest, pk: int) -> HttpResponse:
    base = defs.get_definition_for_user(request.user, pk)
    if base.bureau_id is not None:
        bureau = base.bureau
        if not access.may_manage_surveys(request.user, bureau):
            raise PermissionDenied("只有民意专员或系统管理员可以维护指数口径")
    else:
        bureau = _manager_bureau(request)
    return _definition_form(request, bureau=bureau, base=base)


@require_POST
def definition_active(request: HttpRequest, pk: int) -> HttpResponse:
    definition = defs.get_definition_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        defs.set_active(actor=request.user, definition=definition, active=active)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, f"已{'启用' if active else '停用'}{definition.label}。")
    return redirect(reverse("surveys:definitions") + f"#definition-{definition.pk}")


urlpatterns = [
    path("results/", overview, name="overview"),
    path("waves/<int:pk>/results/", results_page, name="results"),
    path("waves/<int:pk>/results.<str:fmt>", results_export, name="results_export"),
    path("waves/<int:pk>/report/", report, name="report"),
    path("definitions/", definitions_page, name="definitions"),
    path("definitions/new/", definition_new, name="definition_new"),
    path("definitions/<int:pk>/version/", definition_version, name="definition_version"),
    path("definitions/<int:pk>/active/", definition_active, name="definition_active"),
]
