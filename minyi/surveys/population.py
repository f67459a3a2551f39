"""Population totals (人口总体): a bureau's adults by township × sex × age group, from the census
or the household register, which the weights of a wave are made to.

A table is created empty, then filled in the grid of its page or by importing an xlsx/csv file
with the columns 乡镇, 性别, 年龄段, 人数 (one row per cell). An import is all or nothing: every
bad row is reported with its line (the spreadsheet's row number) and what is wrong, and a file
with any bad row writes nothing. An imported file is the whole table: it replaces the cells the
table had.

Each action takes keyword-only arguments and the acting user, checks that the user manages the
bureau's surveys, and writes its event in its own transaction (the chain lock first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet, Sum

from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.core.errors import InvalidInput
from minyi.intake.importing.errors import BadInput
from minyi.intake.importing.reading import open_source
from minyi.orgs.models import Area, Unit
from minyi.surveys.actions import check_manager
from minyi.surveys.models import AgeGroup, PopulationCell, PopulationTable, Sex, Weighting
from minyi.surveys.selectors import bureau_townships

ACTION_LABELS = {
    "survey.population_create": "新建人口总体",
    "survey.population_cells": "修改人口数",
    "survey.population_import": "导入人口数",
    "survey.population_delete": "删除人口总体",
}

# The columns of an import file, and the other headings people write for them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "township": ("乡镇", "乡镇（街道）", "乡镇(街道)", "乡镇街道", "街道", "乡镇名称"),
    "sex": ("性别",),
    "age_group": ("年龄段", "年龄组", "年龄"),
    "count": ("人数", "人口数", "总体数"),
}
COLUMN_LABELS = {"township": "乡镇", "sex": "性别", "age_group": "年龄段", "count": "人数"}
MAX_NAME = 100
MAX_SOURCE = 200
# More bad rows than this are counted, not listed one by one.
MAX_LISTED_ERRORS = 200

SEX_WORDS: dict[str, str] = {
    "男": Sex.MALE, "男性": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE,
    "女": Sex.FEMALE, "女性": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE,
}
_AGE_BOUNDS = {"18-29": AgeGroup.A18_29, "30-39": AgeGroup.A30_39, "40-49": AgeGroup.A40_49,
               "50-59": AgeGroup.A50_59, "60+": AgeGroup.A60, "60-": AgeGroup.A60,
               "60及以上": AgeGroup.A60, "60以上": AgeGroup.A60, ">=60": AgeGroup.A60,
               "≥60": AgeGroup.A60}


def sex_of(value: Any) -> str | None:
    """The sex code a cell names (男/女, M/F), or None."""
    return SEX_WORDS.get(str(value or "").strip().lower())


def age_group_of(value: Any) -> str | None:
    """The age group a cell names: the code ("18-29", "60+"), the label ("18–29岁",
    "60岁及以上") or the same written with other dashes or without 岁; None otherwise."""
    text = str(value or "").strip().replace(" ", "").replace("岁", "")
    text = re.sub(r"[–—~～至－]", "-", text)
    return _AGE_BOUNDS.get(text)


def visible_tables(user: Any) -> QuerySet[PopulationTable]:
    """The population tables of the bureaus whose surveys the user sees."""
    from minyi.orgs import access

    return PopulationTable.objects.filter(bureau__in=access.survey_bureaus(user))


def table_summaries(tables: Iterable[PopulationTable]) -> dict[int, dict[str, int]]:
    """Cells and people per table, in one query."""
    ids = [t.pk for t in tables]
    rows = (PopulationCell.objects.filter(table_id__in=ids).values("table_id")
            .annotate(cells=Count("id"), people=Sum("count")))
    return {r["table_id"]: {"cells": r["cells"], "people": r["people"] or 0} for r in rows}


def _table_total(table: PopulationTable) -> int:
    return table.cells.aggregate(total=Sum("count"))["total"] or 0


def _clean_header(name: str, year: Any, source: str) -> tuple[str, int, str]:
    name = (name or "").strip()
    source = (source or "").strip()
    if not name:
        raise InvalidInput("请填写人口总体的名称")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"名称不能超过{MAX_NAME}个字")
    if len(source) > MAX_SOURCE:
        raise InvalidInput(f"来源不能超过{MAX_SOURCE}个字")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InvalidInput("年份应为四位数字，如 2025") from None
    if not 1949 <= year <= 2100:
        raise InvalidInput("年份应在 1949 到 2100 之间")
    return name, year, source


def create_population_table(*, actor: Any, bureau: Unit, name: str, year: int,
                            source: str = "") -> PopulationTable:
    """A new, empty population table of the bureau."""
    check_manager(actor, bureau)
    name, year, source = _clean_header(name, year, source)
    with transaction.atomic():
        lock_chain()
        if PopulationTable.objects.filter(bureau=bureau, name=name, year=year).exists():
            raise InvalidInput(f"{year}年已有名为「{name}」的人口总体")
        table = PopulationTable.objects.create(bureau=bureau, name=name, year=year,
                                               source=source)
        record_event(actor=actor, obj=table, action="survey.population_create",
                     after={"name": name, "year": year, "source": source})
        return table


def delete_population_table(*, actor: Any, table: PopulationTable) -> None:
    """Remove a table no weighting was made with (a weighting keeps the table it used)."""
    check_manager(actor, table.bureau)
    with transaction.atomic():
        lock_chain()
        used = Weighting.objects.filter(table=table).count()
        if used:
            raise InvalidInput(f"人口总体「{table}」已用于{used}次加权，不能删除")
        before = {"name": table.name, "year": table.year, "cells": table.cells.count(),
                  "people": _table_total(table)}
        record_event(actor=actor, obj=table, action="survey.population_delete", before=before)
        table.delete()


def _cell_name(area: Area, sex: str, age_group: str) -> str:
    return f"{area.name} {Sex(sex).label} {AgeGroup(age_group).label}"


def save_population_cells(*, actor: Any, table: PopulationTable,
                          counts: Mapping[tuple[int, str, str], int | None]) -> int:
    """Set the cells of the grid: (township id, sex, age group) → people; None clears a cell.
    Cells not named are left as they are. Returns how many cells changed (no event when none).
    A bad cell (a township not of the bureau, a negative count) is named and nothing is saved."""
    bureau = table.bureau
    check_manager(actor, bureau)
    townships = {a.pk: a for a in bureau_townships(bureau)}
    errors: list[str] = []
    for (area_id, sex, age_group), count in counts.items():
        area = townships.get(area_id)
        if area is None:
            errors.append(f"区域（编号{area_id}）不是{bureau}的乡镇（街道）")
            continue
        if sex not in Sex.values or age_group not in AgeGroup.values:
            errors.append(f"{area.name}：性别或年龄段「{sex} {age_group}」不正确")
            continue
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or count < 0):
            errors.append(f"{_cell_name(area, sex, age_group)}：人数「{count}」应为不小于0的整数")
    if errors:
        raise InvalidInput("人口数有误，未保存：" + "；".join(errors))
    with transaction.atomic():
        lock_chain()
        existing = {(c.area_id, c.sex, c.age_group): c for c in table.cells.all()}
        total_before = sum(c.count for c in existing.values())
        create: list[PopulationCell] = []
        update: list[PopulationCell] = []
        delete: list[int] = []
        for key, count in counts.items():
            cell = existing.get(key)
            if count is None:
                if cell is not None:
                    delete.append(cell.pk)
            elif cell is None:
                create.append(PopulationCell(table=table, area_id=key[0], sex=key[1],
                                             age_group=key[2], count=count))
            elif cell.count != count:
                cell.count = count
                update.append(cell)
        changed = len(create) + len(update) + len(delete)
        if not changed:
            return 0
        PopulationCell.objects.filter(pk__in=delete).delete()
        PopulationCell.objects.bulk_create(create)
        PopulationCell.objects.bulk_update(update, ["count"])
        record_event(actor=actor, obj=table, action="survey.population_cells",
                     before={"cells": len(existing), "people": total_before},
                     after={"cells": len(existing) + len(create) - len(delete),
                            "people": _table_total(table)},
                     payload={"created": len(create), "updated": len(update),
                              "cleared": len(delete)})
        return changed


# --- import ---------------------------------------------------------------------------------


class PopulationImportError(InvalidInput):
    """An import with bad rows: `errors` holds (line, what is wrong) for each, in file order
    (at most MAX_LISTED_ERRORS of them; `total_bad` counts all)."""

    def __init__(self, errors: list[tuple[int, str]], total_bad: int) -> None:
        self.errors = errors
        self.total_bad = total_bad
        super().__init__(f"文件中有{total_bad}处错误，未导入任何数据；请改正后重新导入。")


@dataclass(frozen=True)
class PopulationImport:
    """What an import wrote."""

    rows: int
    people: int
    replaced: int  # cells the table had before


def _header_positions(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    cleaned = [str(h or "").strip().replace(" ", "") for h in header]
    for column, names in COLUMNS.items():
        for index, heading in enumerate(cleaned):
            if heading in names:
                positions[column] = index
                break
    missing = [COLUMN_LABELS[c] for c in COLUMNS if c not in positions]
    if missing:
        raise BadInput(f"文件第1行缺少列：{'、'.join(missing)}"
                       "（应有 乡镇、性别、年龄段、人数 四列）")
    return positions


def _count_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value or "").strip().replace(",", "").replace("，", "")
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    return None


def read_population_file(path: str | Path, bureau: Unit) -> list[tuple[int, int, str, str, int]]:
    """The rows of an import file as (line, township id, sex, age group, people), every row
    checked. Raises BadInput for a file that cannot be read, PopulationImportError naming every
    bad row."""
    source = open_source(path)
    positions = _header_positions(source.header)
    by_name: dict[str, list[Area]] = {}
    by_code: dict[str, Area] = {}
    for area in bureau_townships(bureau):
        by_name.setdefault(area.name, []).append(area)
        by_code[area.code] = area
    rows: list[tuple[int, int, str, str, int]] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[int, str, str], int] = {}
    for line, values in source.rows():
        def cell(column: str, values: list[Any] = values) -> Any:
            index = positions[column]
            return values[index] if index < len(values) else None

        problems: list[str] = []
        township = str(cell("township") or "").strip()
        area = None
        if not township:
            problems.append("缺少乡镇")
        else:
            found = by_name.get(township) or ([by_code[township]] if township in by_code
                                              else [])
            if not found:
                problems.append(f"乡镇「{township}」不是{bureau}的乡镇（街道）")
            elif len(found) > 1:
                problems.append(f"{bureau}有{len(found)}个名为「{township}」的乡镇（街道），"
                                "请改填区划代码")
            else:
                area = found[0]
        raw_sex = cell("sex")
        sex = sex_of(raw_sex)
        if sex is None:
            problems.append(f"性别「{raw_sex or ''}」应为 男 或 女" if raw_sex not in (None, "")
                            else "缺少性别")
        raw_age = cell("age_group")
        age_group = age_group_of(raw_age)
        if age_group is None:
            problems.append(
                f"年龄段「{raw_age}」应为 {'、'.join(AgeGroup.labels)} 之一"
                if raw_age not in (None, "") else "缺少年龄段")
        raw_count = cell("count")
        count = _count_of(raw_count)
        if raw_count in (None, ""):
            problems.append("缺少人数")
        elif count is None or count < 0:
            problems.append(f"人数「{raw_count}」应为不小于0的整数")
        if not problems and area is not None and sex and age_group and count is not None:
            key = (area.pk, sex, age_group)
            if key in seen:
                problems.append(f"与第{seen[key]}行重复（{_cell_name(area, sex, age_group)}）")
            else:
                seen[key] = line
                rows.append((line, area.pk, sex, age_group, count))
        for problem in problems:
            errors.append((line, problem))
    if errors:
        raise PopulationImportError(errors=errors[:MAX_LISTED_ERRORS], total_bad=len(errors))
    if not rows:
        raise BadInput("文件中没有数据行")
    return rows


def import_population(*, actor: Any, table: PopulationTable, path: str | Path) -> PopulationImport:
    """Replace the table's cells by the rows of an xlsx/csv file; all or nothing."""
    check_manager(actor, table.bureau)
    rows = read_population_file(path, table.bureau)
    with transaction.atomic():
        lock_chain()
        before = table.cells.count()
        people_before = _table_total(table)
        table.cells.all().delete()
        PopulationCell.objects.bulk_create([
            PopulationCell(table=table, area_id=area_id, sex=sex, age_group=age_group,
                           count=count)
            for _line, area_id, sex, age_group, count in rows
        ])
        people = sum(r[4] for r in rows)
        record_event(actor=actor, obj=table, action="survey.population_import",
                     before={"cells": before, "people": people_before},
                     after={"cells": len(rows), "people": people},
                     payload={"file": Path(path).name})
        return PopulationImport(rows=len(rows), people=people, replaced=before)


# --- the grid -------------------------------------------------------------------------------


@dataclass
class GridRow:
    """One township and sex of the grid: the count per age group (None: no cell)."""

    area: Area
    sex: str
    counts: list[int | None]

    @property
    def sex_label(self) -> str:
        return Sex(self.sex).label

    @property
    def total(self) -> int:
        return sum(c for c in self.counts if c is not None)


def grid(table: PopulationTable) -> list[GridRow]:
    """Township × sex rows with one count per age group, in the bureau's township order; a
    township the table has cells for but that left the bureau is shown too."""
    cells = {(c.area_id, c.sex, c.age_group): c.count for c in table.cells.all()}
    areas = list(bureau_townships(table.bureau))
    known = {a.pk for a in areas}
    extra = {k[0] for k in cells} - known
    if extra:
        areas += list(Area.objects.filter(pk__in=extra).order_by("path"))
    return [GridRow(area=area, sex=sex,
                    counts=[cells.get((area.pk, sex, age)) for age in AgeGroup.values])
            for area in areas for sex in Sex.values]


def cell_field_name(area_id: int, sex: str, age_group: str) -> str:
    """The name of a grid input; `parse_grid` reads it back."""
    return f"c-{area_id}-{sex}-{age_group}"


def parse_grid(table: PopulationTable, data: Mapping[str, Any]
               ) -> tuple[dict[tuple[int, str, str], int | None], list[str]]:
    """The counts a grid form posted, and every bad value named by its cell (pure parsing)."""
    counts: dict[tuple[int, str, str], int | None] = {}
    errors: list[str] = []
    for row in grid(table):
        for age_group in AgeGroup.values:
            name = cell_field_name(row.area.pk, row.sex, age_group)
            if name not in data:
                continue
            raw = str(data.get(name) or "").strip()
            if not raw:
                counts[(row.area.pk, row.sex, age_group)] = None
                continue
            count = _count_of(raw)
            if count is None:
                errors.append(f"{_cell_name(row.area, row.sex, age_group)}：「{raw}」"
                              "不是不小于0的整数")
            else:
                counts[(row.area.pk, row.sex, age_group)] = count
    return counts, errors


def register() -> None:
    register_action_labels(ACTION_LABELS)

