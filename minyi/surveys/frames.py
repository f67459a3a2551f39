"""A wave's sample frame (样本框): numbers imported from a file, or drawn at random within given
mobile prefixes (random digit dialling, RDD).

Import. The work-order import's machinery (`minyi.intake.importing`) reads the file (xlsx, csv
in UTF-8 or GBK, gz), numbers the rows as a spreadsheet does, runs all or nothing (or skips the
bad rows), keeps the bad rows and their workbook, and records the batch (`ImportBatch` of kind
"survey_frame"; the wave's id is kept in the batch's `mapping` as "wave"). This module brings
what is the frame's: its columns (`FRAME`), the check of one row and the writing.

    电话     required: a mainland mobile (11 digits, 13–19), a landline with its area code, or
             a local number; kept encrypted, with its keyed hash and mask
    乡镇     optional: the name or code of a township or street of the wave's bureau
    性别     optional: 男 / 女
    年龄段   optional: an age group (code or label, e.g. 30-39 or 30–39岁) or an age in years,
             folded into its group (18 and over only)

A number is one frame member per wave (unique wave + phone hash): a row whose number is
already in the wave's frame is counted as existing and left as it is; the same number twice in
one file keeps the first row and reports the second, naming the first. One event
"survey.frame_import" per written chunk (the members carry their batch and line).

Random numbers. `generate_numbers` (pure) draws numbers uniformly over the union of the
prefixes' suffix spaces, without repeats and without the numbers the wave has; the seed makes
the draw reproducible and is recorded in the action's event (`actions.generate_frame`).
"""

from __future__ import annotations

import bisect
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from minyi.core import crypto
from minyi.core.audit import lock_chain, record_events_bulk
from minyi.intake.importing.errors import BadInput
from minyi.intake.importing.insert import FastInserter
from minyi.intake.importing.mapping import Mapping, Schema, Target, parse_mapping
from minyi.intake.importing.reading import open_source
from minyi.intake.importing.rows import CellReader
from minyi.intake.importing.run import (
    CHUNK_ROWS,
    ImportResult,
    Plan,
    execute,
    file_sha256,
    import_with,
    run_stored_batch,
)
from minyi.orgs import access
from minyi.orgs.models import Area, Unit
from minyi.surveys.models import AgeGroup, FrameMember, Sex, Wave

# --- random numbers within prefixes (pure) -------------------------------------------------------

MOBILE_LENGTH = 11
MIN_PREFIX = 3
MAX_PREFIX = MOBILE_LENGTH - 1
MAX_GENERATE = 100_000
MOBILE_PREFIX = re.compile(r"^1[3-9]\d*$")
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def parse_prefixes(prefixes: str | Iterable[str]) -> list[str]:
    """The prefixes written in a text (separated by spaces, commas, 、 or new lines) or given as
    a list, checked, sorted, each once, and without one that a shorter prefix already covers
    (1390571 lies within 139). ValueError, in Chinese, for a bad one."""
    items = _SEPARATORS.split(prefixes) if isinstance(prefixes, str) else list(prefixes)
    found: set[str] = set()
    for item in items:
        value = str(item).strip()
        if not value:
            continue
        if not value.isdigit() or not value.isascii():
            raise ValueError(f"号段「{value}」只能由数字组成")
        if not MIN_PREFIX <= len(value) <= MAX_PREFIX:
            raise ValueError(f"号段「{value}」应为 {MIN_PREFIX} 到 {MAX_PREFIX} 位数字"
                             "（如 139 或 1390571）")
        if not MOBILE_PREFIX.match(value):
            raise ValueError(f"号段「{value}」不是手机号段（应以 13–19 开头）")
        found.add(value)
    if not found:
        raise ValueError("请填写至少一个号段，如 139 或 1390571")
    ordered = sorted(found)
    kept: list[str] = []
    for prefix in ordered:
        if not any(prefix.startswith(shorter) for shorter in kept):
            kept.append(prefix)
    return kept


def prefix_space(prefixes: Sequence[str]) -> int:
    """How many numbers the (checked, non-overlapping) prefixes hold."""
    return sum(10 ** (MOBILE_LENGTH - len(p)) for p in prefixes)


class _Space:
    """The numbers of non-overlapping prefixes as one range 0 … size-1, prefix after prefix."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        self.prefixes = list(prefixes)
        self.starts: list[int] = []
        size = 0
        for prefix in self.prefixes:
            self.starts.append(size)
            size += 10 ** (MOBILE_LENGTH - len(prefix))
        self.size = size

    def number(self, index: int) -> str:
        at = bisect.bisect_right(self.starts, index) - 1
        prefix = self.prefixes[at]
        return prefix + str(index - self.starts[at]).zfill(MOBILE_LENGTH - len(prefix))


def generate_numbers(prefixes: str | Iterable[str], count: int, *, seed: int,
                     taken: Callable[[str], bool] | None = None) -> list[str]:
    """`count` distinct mobile numbers drawn uniformly from the numbers that begin with one of
    `prefixes`, leaving out those `taken` says are taken (already in the wave), in the order
    they were drawn. The same prefixes, count, seed and taken numbers give the same numbers.

    Each number of the union is equally likely, whatever the prefixes' lengths (a 3-digit
    prefix holds 10^8 numbers, a 7-digit one 10^4). ValueError, in Chinese, for bad prefixes or
    a count the prefixes cannot give.
    """
    checked = parse_prefixes(prefixes)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("生成数量应为正整数")
    if count > MAX_GENERATE:
        raise ValueError(f"一次最多生成 {MAX_GENERATE} 个号码")
    space = _Space(checked)
    is_taken = taken or (lambda number: False)
    rng = random.Random(seed)
    if 2 * count > space.size:
        # Most of a small space is wanted: choose among all its free numbers at once.
        return _sample_free(space, range(space.size), is_taken, rng, count, count)
    chosen: list[str] = []
    drawn: set[int] = set()
    while len(chosen) < count:
        if 2 * len(drawn) > space.size:
            # The taken numbers fill much of the space: drawing again and again would crawl.
            rest = (i for i in range(space.size) if i not in drawn)
            chosen += _sample_free(space, rest, is_taken, rng, count - len(chosen), count)
            break
        index = rng.randrange(space.size)
        if index in drawn:
            continue
        drawn.add(index)
        number = space.number(index)
        if not is_taken(number):
            chosen.append(number)
    return chosen


def _sample_free(space: _Space, indices: Iterable[int], taken: Callable[[str], bool],
                 rng: random.Random, wanted: int, asked: int) -> list[str]:
    free = [n for n in map(space.number, indices) if not taken(n)]
    if len(free) < wanted:
        raise ValueError(f"号段内可用的号码不足 {asked} 个（除去已在样本框中的号码）")
    return rng.sample(free, wanted)


# --- the import ----------------------------------------------------------------------------------

TARGETS: tuple[Target, ...] = (
    Target("phone", "电话", "phone",
           "手机号、带区号的固定电话或本地号码；加密保存，同一调查中一个号码只导入一次"),
    Target("area", "乡镇", "ref", "本局辖区的乡镇（街道）名称或区划代码；可空，访问时再问"),
    Target("sex", "性别", "choice", "男或女；可空"),
    Target("age_group", "年龄段", "choice", "18–29岁、30–39岁、40–49岁、50–59岁、60岁及以上，"
                                           "或填年龄（周岁）；可空"),
)
FRAME = Schema(targets=TARGETS, required=("phone",), defaultable=())
# The spellings of each column a file may use (the first is the template's).
COLUMNS: dict[str, list[str]] = {
    "phone": ["电话", "手机号", "手机号码", "电话号码", "联系电话"],
    "area": ["乡镇", "乡镇（街道）", "乡镇(街道)", "乡镇街道", "街道"],
    "sex": ["性别"],
    "age_group": ["年龄段", "年龄"],
}
NOUN = "号码"
MIN_AGE = 18
MAX_AGE = 120

SEX_WORDS: dict[str, str] = {
    "男": Sex.MALE, "男性": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE,
    "女": Sex.FEMALE, "女性": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE,
}
_DASHES = re.compile(r"[–—~～至到]")
_AGE = re.compile(r"^(\d{1,3})(?:岁|周岁)?$")


def _age_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for value, label in AgeGroup.choices:
        for spelling in (value, str(label), str(label).removesuffix("岁")):
            words[_DASHES.sub("-", spelling)] = value
    for spelling in ("60岁以上", "60以上", "60+岁", "60岁+", "60岁及60岁以上"):
        words[spelling] = AgeGroup.A60
    return words


AGE_WORDS = _age_words()
AGE_GROUPS_TEXT = "、".join(str(label) for _, label in AgeGroup.choices)


def age_group_of(value: str) -> tuple[str | None, str]:
    """The age group a cell names (code, label or age in years), or None and why not (pure)."""
    word = _DASHES.sub("-", value.replace(" ", ""))
    found = AGE_WORDS.get(word)
    if found is not None:
        return str(found), ""
    match = _AGE.match(word)
    if match is None:
        return None, f"年龄段「{value}」无法识别（应为 {AGE_GROUPS_TEXT} 之一，或填写年龄）"
    age = int(match.group(1))
    if age < MIN_AGE:
        return None, f"年龄 {age} 岁不满 {MIN_AGE} 岁，不是调查对象"
    if age > MAX_AGE:
        return None, f"年龄「{value}」不合常理"
    for group in (AgeGroup.A60, AgeGroup.A50_59, AgeGroup.A40_49, AgeGroup.A30_39):
        if age >= int(str(group.value)[:2]):
            return str(group.value), ""
    return str(AgeGroup.A18_29.value), ""


def sex_of(value: str) -> tuple[str | None, str]:
    found = SEX_WORDS.get(value.strip().lower())
    if found is None:
        return None, f"性别「{value}」无法识别（应为 男 或 女）"
    return str(found), ""


_AMBIGUOUS = object()


class TownshipLookup:
    """The townships and streets of a bureau by code and name; a name two of them share is
    ambiguous (the code must be used), and a village or community named instead is answered
    with the township it lies in."""

    def __init__(self, bureau: Unit) -> None:
        self.bureau = bureau
        self.townships: dict[str, Any] = {}
        self.lower: dict[str, Area] = {}
        areas = Area.objects.filter(station__path__startswith=bureau.path).select_related(
            "parent")
        for area in areas:
            if area.kind in (Area.Kind.TOWNSHIP, Area.Kind.STREET):
                self.townships[area.code] = area
                held = self.townships.get(area.name)
                if held is None:
                    self.townships[area.name] = area
                elif held is not area and getattr(held, "code", "") != area.name:
                    self.townships[area.name] = _AMBIGUOUS
            else:
                self.lower.setdefault(area.name, area)
                self.lower.setdefault(area.code, area)

    def township(self, value: str) -> tuple[Area | None, str]:
        found = self.townships.get(value)
        if found is _AMBIGUOUS:
            return None, f"乡镇名称「{value}」对应{self.bureau}的多个乡镇（街道），请改用区划代码"
        if found is not None:
            return found, ""
        lower = self.lower.get(value)
        if lower is not None:
            top = lower.parent
            while top is not None and top.parent_id:
                top = top.parent
            where = f"，请填写它所在的乡镇（街道）「{top}」" if top is not None else ""
            return None, f"「{value}」是村（社区）{where}"
        return None, f"乡镇「{value}」不是{self.bureau}辖区的乡镇（街道）"


@dataclass(slots=True)
class FrameRow:
    """A good row: what its frame member is made of."""

    line: int
    phone: str
    phone_hash: str
    area: Area | None
    sex: str
    age_group: str


class FrameChecker(CellReader):
    """Checks one row; reads its look-up, writes nothing."""

    def __init__(self, mapping: Mapping, townships: TownshipLookup) -> None:
        super().__init__(mapping, ())
        self.townships = townships

    def check(self, line: int, values: list[Any]) -> tuple[FrameRow | None, list[str]]:
        errors: list[str] = []
        phone = self._text(values, "phone")
        if not phone:
            errors.append("缺少电话")
        elif not crypto.is_valid_phone(phone):
            errors.append(f"电话「{phone}」格式不正确（应为手机号、带区号的固定电话或本地号码）")
        area = None
        value = self._text(values, "area")
        if value:
            area, error = self.townships.township(value)
            if error:
                errors.append(error)
        sex = ""
        value = self._text(values, "sex")
        if value:
            found, error = sex_of(value)
            if error:
                errors.append(error)
            sex = found or ""
        age_group = ""
        value = self._text(values, "age_group")
        if value:
            found, error = age_group_of(value)
            if error:
                errors.append(error)
            age_group = found or ""
        if errors:
            return None, errors
        normal = crypto.normalize_phone(phone)
        return FrameRow(line=line, phone=normal, phone_hash=crypto.keyed_hash("phone", normal),
                        area=area, sex=sex, age_group=age_group), []


def _refuse(actor: Any, wave: Wave) -> str:
    """Why `actor` may not add numbers to the wave's frame now ("" when they may)."""
    if actor is not None and not access.may_manage_surveys(actor, wave.bureau):
        return f"只有{wave.bureau}的民意专员或系统管理员可以导入样本框"
    if wave.state == Wave.State.CLOSED:
        return f"调查「{wave}」已结束，不能再向样本框添加号码"
    return ""


class _FrameRows:
    """Frame members: the RowImporter (see `minyi.intake.importing.run.import_with`), built
    inside the import's transaction: the chain lock first, then the wave's row, whose state is
    checked under the lock (a wave closed meanwhile takes no numbers)."""

    def __init__(self, plan: Plan, wave_id: int, actor: Any, batch_id: int | None) -> None:
        lock_chain()
        self.wave = (Wave.objects.select_for_update(of=("self",)).select_related("bureau")
                     .get(pk=wave_id))
        refused = _refuse(actor, self.wave)
        if refused:
            raise BadInput(refused)
        self.actor = actor
        self.batch_id = batch_id
        self.check = FrameChecker(plan.mapping, TownshipLookup(self.wave.bureau)).check

    @staticmethod
    def key(row: FrameRow) -> str:
        return row.phone_hash

    @staticmethod
    def repeats(row: FrameRow, first: int) -> str:
        return f"电话 {crypto.mask_phone(row.phone)} 与第{first}行重复，只导入第{first}行"

    def new_only(self, rows: list[FrameRow]) -> list[FrameRow]:
        found = set(FrameMember.objects.filter(
            wave_id=self.wave.pk, phone_hash__in=[r.phone_hash for r in rows])
            .order_by().values_list("phone_hash", flat=True))
        return [r for r in rows if r.phone_hash not in found]

    def write(self, rows: list[FrameRow]) -> None:
        insert_members([
            {"wave_id": self.wave.pk, "origin": FrameMember.Origin.IMPORTED, "phone": row.phone,
             "area_id": row.area.pk if row.area is not None else None, "sex": row.sex,
             "age_group": row.age_group, "import_batch_id": self.batch_id, "line": row.line}
            for row in rows])
        record_events_bulk([{
            "obj": self.wave, "action": "survey.frame_import",
            "payload": {"batch": self.batch_id, "created": len(rows),
                        "first_line": rows[0].line, "last_line": rows[-1].line},
        }], actor=self.actor)


def insert_members(rows: list[dict[str, Any]]) -> int:
    """Write new frame members, each given as its field values (attnames) and its "phone";
    call inside a transaction. The intake's FastInserter (COPY on PostgreSQL, executemany on
    SQLite) where it can, the ORM elsewhere: `bulk_create` spends most of a 100,000-row frame's
    time preparing values one by one."""
    if not rows:
        return 0
    now = timezone.now()
    try:
        inserter: FastInserter | None = FastInserter(FrameMember)
    except NotImplementedError:
        inserter = None
    built = []
    for row in rows:
        values = dict(row)
        phone = values.pop("phone")
        holder = SimpleNamespace()
        FrameMember.set_phone(holder, phone)  # type: ignore[arg-type]
        values.update(phone_enc=holder.phone_enc, phone_mask=holder.phone_mask,
                      phone_hash=holder.phone_hash, created_at=now, updated_at=now)
        built.append(values)
    if inserter is None:
        FrameMember.objects.bulk_create([FrameMember(**values) for values in built],
                                        batch_size=1000)
        return len(built)
    defaults = inserter.defaults()
    ready = [{**defaults, **values} for values in built]
    for values, pk in zip(ready, inserter.allocate_ids(len(ready)), strict=True):
        values["id"] = pk
    return inserter.insert(ready)


def plan_frame_import(path: str | Path, *, wave: Wave) -> Plan:
    """Check the file and its header (BadInput, in Chinese; nothing is written)."""
    source = open_source(path)
    if not any(name in source.header for name in COLUMNS["phone"]):
        raise BadInput("文件表头中没有「电话」列（也可写作 手机号、电话号码）；"
                       "样本框文件的列为：电话、乡镇、性别、年龄段")
    mapping = parse_mapping({"columns": COLUMNS, "missing_columns": "ignore"}, FRAME)
    mapping.bind(source.header)
    return Plan(source=source, mapping=mapping, bureau=wave.bureau)


def import_frame_rows(plan: Plan, *, wave_id: int, skip_bad: bool = False, actor: Any = None,
                      batch_id: int | None = None, progress: Any = None,
                      chunk_rows: int = CHUNK_ROWS) -> ImportResult:
    """Check every row and write the new members: all or nothing unless `skip_bad`."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return import_with(
        plan.source, lambda seconds: _FrameRows(plan, wave_id, actor, batch_id),
        skip_bad=skip_bad, progress=progress, chunk_rows=chunk_rows,
        conflict="有号码在导入期间被同时写入本调查的样本框（另一次导入或随机生成），"
                 "本次未导入任何号码；请重新导入，已有的号码会被识别")


def new_frame_batch(plan: Plan, *, wave: Wave, file_name: str, sha256: str, skip_bad: bool,
                    actor: Any = None) -> Any:
    from minyi.intake.models import ImportBatch

    return ImportBatch(kind=ImportBatch.Kind.SURVEY_FRAME, file_name=file_name[:255],
                       file_sha256=sha256, mapping={"wave": wave.pk, "columns": COLUMNS},
                       skip_bad=skip_bad, bureau=wave.bureau,
                       created_by=actor if getattr(actor, "pk", None) else None)


def frame_batches(wave: Wave) -> Any:
    """The wave's frame imports, newest first."""
    from minyi.intake.models import ImportBatch

    return (ImportBatch.objects.filter(kind=ImportBatch.Kind.SURVEY_FRAME, mapping__wave=wave.pk)
            .select_related("created_by").order_by("-id"))


def _explain(batch: Any, wave_id: int) -> None:
    """Say plainly on a finished batch when the file was imported into this wave before, and
    when it brought nothing new."""
    from minyi.intake.models import ImportBatch

    if batch.status != ImportBatch.Status.DONE:
        return
    earlier = (ImportBatch.objects.filter(kind=ImportBatch.Kind.SURVEY_FRAME,
                                          mapping__wave=wave_id, file_sha256=batch.file_sha256,
                                          status=ImportBatch.Status.DONE)
               .exclude(pk=batch.pk).order_by("created_at").first())
    parts = []
    if not batch.created and batch.existing:
        parts.append(f"文件中的 {batch.existing} 个号码都已在本调查的样本框中，本次未新增号码")
    else:
        parts.append(batch.message)
    if earlier is not None:
        when = timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")
        parts.append(f"同一文件已于 {when} 导入过本调查（批次 {earlier.pk}）")
    if not batch.created and batch.bad:
        parts.append(f"跳过错误行 {batch.bad} 行")
    batch.message = "；".join(parts)[:500]
    batch.save(update_fields=["message", "updated_at"])


def start_frame_batch(*, actor: Any, wave: Wave, stored_name: str, path: str | Path,
                      file_name: str, skip_bad: bool) -> Any:
    """Keep an uploaded file (already saved at `path`, storage name `stored_name`) as a pending
    batch of the wave once the file and its header are usable. BadInput otherwise (nothing
    kept); NotAllowed/closed wave as BadInput too, in Chinese."""
    refused = _refuse(actor, wave)
    if refused:
        raise BadInput(refused)
    plan = plan_frame_import(path, wave=wave)
    batch = new_frame_batch(plan, wave=wave, file_name=file_name, sha256=file_sha256(path),
                            skip_bad=skip_bad, actor=actor)
    batch.source_file.name = stored_name
    batch.save()
    return batch


def run_frame_batch(batch_id: int) -> None:
    """The background entry point of the import page (the thread, or a Celery task later)."""
    from minyi.intake.models import ImportBatch

    stored = ImportBatch.objects.filter(pk=batch_id, kind=ImportBatch.Kind.SURVEY_FRAME).first()
    if stored is None:
        return
    wave_id = int(stored.mapping.get("wave") or 0)

    def plan(batch: Any) -> Plan:
        wave = Wave.objects.select_related("bureau").filter(pk=wave_id).first()
        if wave is None:
            raise BadInput("该调查已不存在")
        return plan_frame_import(batch.source_file.path, wave=wave)

    run_stored_batch(batch_id, kind=ImportBatch.Kind.SURVEY_FRAME, plan=plan,
                     rows=partial(import_frame_rows, wave_id=wave_id), noun=NOUN)
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is not None:
        _explain(batch, wave_id)


def import_frame(path: str | Path, *, actor: Any, wave: Wave, skip_bad: bool = False,
                 errors_path: str | Path | None = None,
                 file_name: str | None = None) -> tuple[Any, ImportResult]:
    """Plan and run a frame import in one call (tests, commands, the shell), recorded as a
    batch. Raises BadInput, before anything is written, when the file cannot be used or the
    wave takes no numbers from this actor."""
    refused = _refuse(actor, wave)
    if refused:
        raise BadInput(refused)
    plan = plan_frame_import(path, wave=wave)
    batch = new_frame_batch(plan, wave=wave, file_name=file_name or Path(path).name,
                            sha256=file_sha256(path), skip_bad=skip_bad, actor=actor)
    batch.save()
    result = execute(batch, plan, actor=actor, errors_path=errors_path,
                     rows=partial(import_frame_rows, wave_id=wave.pk), noun=NOUN)
    _explain(batch, wave.pk)
    return batch, result


def frame_template() -> bytes:
    """An empty workbook with the frame's header."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "样本框"
    sheet.append([names[0] for names in COLUMNS.values()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

