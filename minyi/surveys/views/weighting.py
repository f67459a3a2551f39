"""Population tables, the weighting of a wave, and the benchmarks.

Everyone in a bureau reads its population tables, the diagnostics of its waves' weights and
its benchmarks (aggregates, no personal data); the opinion office and administrators change
them. A table, wave or benchmark of another bureau is 404.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from minyi.core.errors import InvalidInput
from minyi.orgs import access
from minyi.orgs.models import Unit
from minyi.surveys import population, weights
from minyi.surveys.models import AgeGroup, Benchmark, PopulationTable, Response, Weighting

MAX_UPLOAD = 5 * 1024 * 1024
BENCHMARK_LABELS = ("全省平均", "全市平均")


# --- forms ----------------------------------------------------------------------------------


class _BureauMixin:
    """A bureau field only for someone who manages the surveys of more than one bureau."""

    def _bureau_field(self, bureaus: list[Unit]) -> None:
        self.bureaus = bureaus
        if len(bureaus) > 1:
            self.fields["bureau"] = forms.ChoiceField(
                label="所属公安局", choices=[(b.pk, b.name) for b in bureaus],
                error_messages={"required": "请选择公安局", "invalid_choice": "请选择公安局"})

    def bureau(self) -> Unit:
        if len(self.bureaus) == 1:
            return self.bureaus[0]
        chosen = int(self.cleaned_data["bureau"])
        return next(b for b in self.bureaus if b.pk == chosen)


class PopulationTableForm(_BureauMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=population.MAX_NAME,
                           error_messages={"required": "请填写名称"},
                           help_text="如：第七次人口普查 18 岁及以上人口")
    year = forms.IntegerField(label="年份", min_value=1949, max_value=2100,
                              error_messages={"required": "请填写年份",
                                              "invalid": "年份应为四位数字，如 2020",
                                              "min_value": "年份应在 1949 到 2100 之间",
                                              "max_value": "年份应在 1949 到 2100 之间"})
    source = forms.CharField(label="来源", max_length=population.MAX_SOURCE, required=False,
                             help_text="如：第七次全国人口普查分乡镇资料、公安户籍统计")

    def __init__(self, *args: Any, bureaus: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bureau_field(bureaus)


class PopulationImportForm(forms.Form):
    file = forms.FileField(label="人口数文件（xlsx 或 csv）",
                           error_messages={"required": "请选择文件",
                                           "empty": "文件是空的"},
                           help_text="四列：乡镇、性别、年龄段、人数；每个单元格一行；"
                                     "导入后替换本表原有的全部人数")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("文件超过 5 MB，人口数表不应这么大，请检查文件")
        return upload


class WeighForm(forms.Form):
    table = forms.ModelChoiceField(label="人口总体", queryset=PopulationTable.objects.none(),
                                   empty_label=None,
                                   error_messages={"required": "请选择人口总体",
                                                   "invalid_choice": "请选择本局的人口总体"})
    method = forms.ChoiceField(label="方法", choices=Weighting.Method.choices,
                               initial=Weighting.Method.RAKE, widget=forms.RadioSelect,
                               error_messages={"required": "请选择加权方法",
                                               "invalid_choice": "请选择加权方法"})
    trim_lower = forms.FloatField(label="权重下限（均值的倍数）", required=False,
                                  error_messages={"invalid": "请填写数字，如 0.3"},
                                  help_text="留空：不设下限；如 0.3 即不低于平均权重的 0.3 倍")
    trim_upper = forms.FloatField(label="权重上限（均值的倍数）", required=False,
                                  error_messages={"invalid": "请填写数字，如 3"},
                                  help_text="留空：不设上限；如 3 即不超过平均权重的 3 倍")

    def __init__(self, *args: Any, bureau: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["table"].queryset = PopulationTable.objects.filter(bureau=bureau)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lower, upper = data.get("trim_lower"), data.get("trim_upper")
        if lower is not None and not 0 < lower < 1:
            self.add_error("trim_lower", "下限应大于 0 且小于 1（均值的倍数）")
        if upper is not None and not upper > 1:
            self.add_error("trim_upper", "上限应大于 1（均值的倍数）")
        return data


class BenchmarkForm(_BureauMixin, forms.Form):
    index_code = forms.ChoiceField(label="指数", error_messages={
        "required": "请选择指数", "invalid_choice": "请选择指数"})
    label = forms.CharField(label="比较对象", max_length=50,
                            error_messages={"required": "请填写比较对象"},
                            widget=forms.TextInput(attrs={"list": "benchmark-labels"}),
                            help_text="如：全省平均、全市平均")
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100,
                              error_messages={"required": "请填写年份",
                                              "invalid": "年份应为四位数字，如 2025",
                                              "min_value": "年份应在 2000 到 2100 之间",
                                              "max_value": "年份应在 2000 到 2100 之间"})
    value = forms.DecimalField(label="数值（%或分）", min_value=0, max_value=100,
                               decimal_places=2, max_digits=6,
                               error_messages={
                                   "required": "请填写数值", "invalid": "请填写数字，如 98.60",
                                   "min_value": "数值应在 0 到 100 之间",
                                   "max_value": "数值应在 0 到 100 之间",
                                   "max_decimal_places": "最多保留两位小数",
                                   "max_digits": "数值应在 0 到 100 之间"})
    source = forms.CharField(label="出处", max_length=200, required=False,
                             help_text="如：2025年全省群众安全感满意度调查通报")

    def __init__(self, *args: Any, bureaus: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bureau_field(bureaus)
        # The codes of every bureau the user may choose; the action checks the chosen one's.
        choices: dict[str, str] = {}
        for bureau in bureaus:
            choices.update(weights.index_choices(bureau))
        self.fields["index_code"].choices = [("", "请选择"), *sorted(choices.items())]


# --- access ---------------------------------------------------------------------------------


def _bureaus(request: HttpRequest) -> list[Unit]:
    bureaus = sorted(access.survey_bureaus(request.user), key=lambda b: b.path)
    if not bureaus:
        raise PermissionDenied("没有可查看民意调查的公安局")
    return bureaus


def _managed(request: HttpRequest) -> list[Unit]:
    return sorted(access.survey_bureaus(request.user, access.SURVEY_MANAGERS),
                  key=lambda b: b.path)


def _require_manager(request: HttpRequest, bureau: Unit) -> None:
    if not access.may_manage_surveys(request.user, bureau):
        raise PermissionDenied(f"只有{bureau}的民意专员或系统管理员可以修改")


def _table(request: HttpRequest, pk: int) -> PopulationTable:
    table = (population.visible_tables(request.user).select_related("bureau")
             .filter(pk=pk).first())
    if table is None:
        raise Http404("没有找到该人口总体")
    return table


# --- population tables ----------------------------------------------------------------------


def populations(request: HttpRequest) -> HttpResponse:
    bureaus = _bureaus(request)
    managed = _managed(request)
    form = PopulationTableForm(request.POST or None, bureaus=managed) if managed else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("只有民意专员或系统管理员可以新建人口总体")
        if form.is_valid():
            try:
                table = population.create_population_table(
                    actor=request.user, bureau=form.bureau(), name=form.cleaned_data["name"],
                    year=form.cleaned_data["year"], source=form.cleaned_data["source"])
            except InvalidInput as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"已新建人口总体「{table}」，请录入或导入人数。")
                return redirect("surveys:population", table.pk)
    tables = list(population.visible_tables(request.user).select_related("bureau"))
    summaries = population.table_summaries(tables)
    for table in tables:
        table.summary = summaries.get(table.pk, {"cells": 0, "people": 0})
    return render(request, "surveys/weighting/populations.html", {
        "tables": tables, "form": form, "many_bureaus": len(bureaus) > 1,
    }, status=400 if form is not None and form.errors else 200)


def _grid_rows(table: PopulationTable, posted: Any = None) -> list[dict[str, Any]]:
    rows = []
    for row in population.grid(table):
        cells = []
        for age_group, count in zip(AgeGroup.values, row.counts, strict=True):
            name = population.cell_field_name(row.area.pk, row.sex, age_group)
            value = posted.get(name, "") if posted is not None else (
                "" if count is None else str(count))
            cells.append({"name": name, "value": value, "count": count,
                          "label": AgeGroup(age_group).label})
        rows.append({"row": row, "cells": cells})
    return rows


def _population_page(request: HttpRequest, table: PopulationTable, *, status: int = 200,
                     posted: Any = None, grid_errors: list[str] | None = None,
                     import_form: PopulationImportForm | None = None,
                     import_errors: list[tuple[int, str]] | None = None,
                     import_message: str = "") -> HttpResponse:
    may_edit = access.may_manage_surveys(request.user, table.bureau)
    rows = _grid_rows(table, posted)
    totals = [sum(r["row"].counts[i] or 0 for r in rows) for i in range(len(AgeGroup.values))]
    return render(request, "surveys/weighting/population.html", {
        "table": table, "may_edit": may_edit, "rows": rows, "ages": AgeGroup.labels,
        "age_totals": totals, "grand_total": sum(totals),
        "grid_errors": grid_errors or [],
        "import_form": import_form or (PopulationImportForm() if may_edit else None),
        "import_errors": import_errors or [], "import_message": import_message,
        "used_by": Weighting.objects.filter(table=table).count(),
    }, status=status)


def population_detail(request: HttpRequest, pk: int) -> HttpResponse:
    table = _table(request, pk)
    if request.method != "POST":
        return _population_page(request, table)
    _require_manager(request, table.bureau)
    counts, errors = population.parse_grid(table, request.POST)
    if not errors:
        try:
            changed = population.save_population_cells(actor=request.user, table=table,
                                                       counts=counts)
        except InvalidInput as error:
            errors = [str(error)]
        else:
            messages.success(request, f"已保存人数（{changed} 个单元格有改动）。" if changed
                             else "人数没有改动。")
            return redirect("surveys:population", table.pk)
    return _population_page(request, table, status=400, posted=request.POST,
                            grid_errors=errors)


@require_POST
def population_import(request: HttpRequest, pk: int) -> HttpResponse:
    table = _table(request, pk)
    _require_manager(request, table.bureau)
    form = PopulationImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _population_page(request, table, status=400, import_form=form)
    upload = form.cleaned_data["file"]
    with tempfile.TemporaryDirectory() as folder:
        # The reader judges the format by the content, not the name; the name is kept for the
        # event only.
        saved = Path(folder) / Path(upload.name).name
        with open(saved, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        try:
            result = population.import_population(actor=request.user, table=table, path=saved)
        except population.PopulationImportError as error:
            return _population_page(request, table, status=400, import_form=form,
                                    import_errors=error.errors, import_message=str(error))
        except InvalidInput as error:
            return _population_page(request, table, status=400, import_form=form,
                                    import_message=str(error))
    messages.success(request, f"已导入 {result.rows} 个单元格，合计 {result.people} 人"
                     f"（替换原有 {result.replaced} 个单元格）。")
    return redirect("surveys:population", table.pk)


@require_POST
def population_delete(request: HttpRequest, pk: int) -> HttpResponse:
    table = _table(request, pk)
    _require_manager(request, table.bureau)
    try:
        population.delete_population_table(actor=request.user, table=table)
    except InvalidInput as error:
        messages.error(request, str(error))
        return redirect("surveys:population", table.pk)
    messages.success(request, f"已删除人口总体「{table}」。")
    return redirect("surveys:populations")


# --- weighting of a wave --------------------------------------------------------------------


def weighting(request: HttpRequest, pk: int) -> HttpResponse:
    wave = access.get_wave_for_user(request.user, pk)
    may_edit = access.may_manage_surveys(request.user, wave.bureau)
    form = WeighForm(request.POST or None, bureau=wave.bureau) if may_edit else None
    if request.method == "POST":
        _require_manager(request, wave.bureau)
        if form.is_valid():
            data = form.cleaned_data
            try:
                done = weights.weigh_wave(actor=request.user, wave=wave, table=data["table"],
                                          method=data["method"], trim_lower=data["trim_lower"],
                                          trim_upper=data["trim_upper"])
            except InvalidInput as error:
                form.add_error(None, str(error))
            else:
                d = done.diagnostics
                messages.success(request, f"已完成加权：{d['n']} 份答卷，设计效应 "
                                 f"{d['deff_w']:.3f}，有效样本量 {d['n_eff']:.1f}。")
                return redirect("surveys:weighting", wave.pk)
    history = list(wave.weightings.select_related("table", "performed_by")
                   .order_by("-created_at", "-id"))
    current = history[0] if history else None
    responses = Response.objects.filter(wave=wave)
    return render(request, "surveys/weighting/wave.html", {
        "wave": wave, "form": form, "may_edit": may_edit, "current": current,
        "d": current.diagnostics if current else None, "history": history,
        "efficiency_pct": current.diagnostics["efficiency"] * 100 if current else None,
        "responses": responses.count(),
        "unweighted": responses.filter(weight__isnull=True).count() if current else 0,
        "has_tables": PopulationTable.objects.filter(bureau=wave.bureau).exists(),
    }, status=400 if form is not None and form.errors else 200)


# --- benchmarks -----------------------------------------------------------------------------


def _index_names(bureaus: list[Unit]) -> dict[str, str]:
    names: dict[str, str] = {}
    for bureau in bureaus:
        names.update(weights.index_choices(bureau))
    return names


def benchmarks(request: HttpRequest) -> HttpResponse:
    bureaus = _bureaus(request)
    managed = _managed(request)
    form = BenchmarkForm(request.POST or None, bureaus=managed) if managed else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("只有民意专员或系统管理员可以录入比较基准")
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = weights.save_benchmark(
                    actor=request.user, bureau=form.bureau(), index_code=data["index_code"],
                    label=data["label"], year=data["year"], value=data["value"],
                    source=data["source"])
            except InvalidInput as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"已录入 {saved.year}年{saved.label}。")
                return redirect("surveys:benchmarks")
    rows = list(Benchmark.objects.filter(bureau__in=bureaus).select_related("bureau"))
    names = _index_names(bureaus)
    managed_ids = {b.pk for b in managed}
    for row in rows:
        row.index_name = names.get(row.index_code, row.index_code)
        row.editable = row.bureau_id in managed_ids
    return render(request, "surveys/weighting/benchmarks.html", {
        "benchmarks": rows, "form": form, "labels": BENCHMARK_LABELS,
        "many_bureaus": len(bureaus) > 1,
    }, status=400 if form is not None and form.errors else 200)


def _benchmark(request: HttpRequest, pk: int) -> Benchmark:
    found = (Benchmark.objects.filter(bureau__in=_bureaus(request), pk=pk)
             .select_related("bureau").first())
    if found is None:
        raise Http404("没有找到该比较基准")
    _require_manager(request, found.bureau)
    return found


def benchmark_edit(request: HttpRequest, pk: int) -> HttpResponse:
    benchmark = _benchmark(request, pk)
    initial = {"index_code": benchmark.index_code, "label": benchmark.label,
               "year": benchmark.year, "value": benchmark.value, "source": benchmark.source}
    form = BenchmarkForm(request.POST or None, initial=initial, bureaus=[benchmark.bureau])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            weights.save_benchmark(actor=request.user, bureau=benchmark.bureau,
                                   benchmark=benchmark, index_code=data["index_code"],
                                   label=data["label"], year=data["year"],
                                   value=data["value"], source=data["source"])
        except InvalidInput as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "已保存比较基准。")
            return redirect("surveys:benchmarks")
    return render(request, "surveys/weighting/benchmark_form.html", {
        "form": form, "benchmark": benchmark, "labels": BENCHMARK_LABELS,
    }, status=400 if form.errors else 200)


@require_POST
def benchmark_delete(request: HttpRequest, pk: int) -> HttpResponse:
    benchmark = _benchmark(request, pk)
    weights.delete_benchmark(actor=request.user, benchmark=benchmark)
    messages.success(request, f"已删除 {benchmark.year}年{benchmark.label}"
                     f"（{benchmark.index_code}）。")
    return redirect("surveys:benchmarks")


urlpatterns = [
    path("populations/", populations, name="populations"),
    path("populations/<int:pk>/", population_detail, name="population"),
    path("populations/<int:pk>/import/", population_import, name="population_import"),
    path("populations/<int:pk>/delete/", population_delete, name="population_delete"),
    path("waves/<int:pk>/weighting/", weighting, name="weighting"),
    path("benchmarks/", benchmarks, name="benchmarks"),
    path("benchmarks/<int:pk>/", benchmark_edit, name="benchmark_edit"),
    path("benchmarks/<int:pk>/delete/", benchmark_delete, name="benchmark_delete"),
]
