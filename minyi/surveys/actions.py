"""Every change of a survey's set-up: questionnaires and their versions, the questions, waves,
their quotas, state changes and sample frames.

Each action takes keyword-only arguments and the acting user, and writes its event in its own
transaction (the chain lock first, as `core.audit.lock_chain` asks, then the rows it changes,
questionnaire before version, wave before its members). Bad input raises InvalidInput with a
Chinese message and writes nothing.

Versions. A version a wave has fielded on is frozen (`frozen_at`): the answers of every wave
keep the wording they were given under. A change to a frozen version makes a new version — a
copy of it with the change, numbered after the questionnaire's last — and the change is
recorded on the new one; a version not yet frozen is changed in place. Every change is checked
on the whole list of questions before anything is written: codes unique, and each skip rule
(`show_if`) naming an earlier single-choice or scale question and options that question has.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from minyi.callbacks import rules
from minyi.core import crypto
from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Area, Unit
from minyi.surveys import frames, selectors, template
from minyi.surveys.models import (
    FrameMember,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    Quota,
    Wave,
)

ACTION_LABELS = {
    "survey.questionnaire_create": "新建问卷",
    "survey.questionnaire_change": "修改问卷名称或说明",
    "survey.version_create": "问卷已冻结，生成新版本",
    "survey.question_add": "新增题目",
    "survey.question_change": "修改题目",
    "survey.question_remove": "删除题目",
    "survey.question_move": "调整题目顺序",
    "survey.wave_create": "新建调查",
    "survey.wave_change": "修改调查",
    "survey.quotas_set": "设置配额",
    "survey.wave_open": "开始调查",
    "survey.wave_close": "结束调查",
    "survey.frame_import": "导入样本框",
    "survey.frame_generate": "随机生成样本号码",
    "survey.frame_clear": "清空样本框",
}

CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.SCALE)
# The kinds a skip rule may name: one answer that is one of the options.
RULE_KINDS = (QuestionKind.SINGLE, QuestionKind.SCALE)
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_OPTION = 100
MAX_QUOTA = 100_000
OPEN_STATES = (FrameMember.State.PENDING, FrameMember.State.RETRY)


def check_manager(actor: Any, bureau: Unit) -> None:
    if actor is None or not access.may_manage_surveys(actor, bureau):
        raise NotAllowed(f"只有{bureau}的民意专员或系统管理员可以管理民意调查")


def create_questionnaire_from_template(*, actor: Any, bureau: Unit,
                                       name: str = "") -> Questionnaire:
    """The bureau's own, editable copy of the built-in questionnaire, as its version 1."""
    check_manager(actor, bureau)
    with transaction.atomic():
        lock_chain()
        questionnaire = Questionnaire.objects.create(
            bureau=bureau, name=(name or template.TEMPLATE_NAME).strip(),
            template_code=template.TEMPLATE_CODE)
        version = QuestionnaireVersion.objects.create(
            questionnaire=questionnaire, number=1, note="由内置模板生成", created_by=actor)
        Question.objects.bulk_create([
            Question(version=version, position=position, code=q["code"], kind=q["kind"],
                     text=q["text"], options=list(q.get("options", [])),
                     required=q.get("required", True), show_if=dict(q.get("show_if", {})),
                     max_choices=q.get("max_choices"))
            for position, q in enumerate(template.QUESTIONS, start=1)
        ])
        record_event(actor=actor, obj=questionnaire, action="survey.questionnaire_create",
                     after={"template": template.TEMPLATE_CODE, "version": 1,
                            "questions": len(template.QUESTIONS)})
        return questionnaire


def update_questionnaire(*, actor: Any, questionnaire: Questionnaire, name: str,
                         description: str = "") -> Questionnaire:
    """The questionnaire's name and description (not its questions: those are versioned)."""
    check_manager(actor, questionnaire.bureau)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写问卷名称")
    if len(name) > 100:
        raise InvalidInput("问卷名称不能超过 100 个字符")
    with transaction.atomic():
        lock_chain()
        questionnaire = Questionnaire.objects.select_for_update(of=("self",)).get(
            pk=questionnaire.pk)
        before = {"name": questionnaire.name, "description": questionnaire.description}
        questionnaire.name, questionnaire.description = name, (description or "").strip()
        questionnaire.save(update_fields=["name", "description", "updated_at"])
        record_event(actor=actor, obj=questionnaire, action="survey.questionnaire_change",
                     before=before,
                     after={"name": questionnaire.name, "description": questionnaire.description})
        return questionnaire


# --- questions: the rules (pure) --------------------------------------------------------------


def _label(position: int, spec: Mapping[str, Any]) -> str:
    return f"第{position}题（{spec.get('code') or '未命名'}）"


def clean_question(spec: Mapping[str, Any]) -> dict[str, Any]:
    """One question's fields as stored, or InvalidInput naming what is wrong (pure).

    Options are kept for choice and scale questions only (a scale's run from the best to the
    worst); `max_choices` for multiple-choice ones only; an empty skip rule is {}."""
    code = str(spec.get("code") or "").strip()
    if not CODE_PATTERN.match(code):
        raise InvalidInput(f"题目代码「{code}」不合要求：只能由小写英文字母、数字和下划线组成，"
                           "以字母开头，不超过 40 个字符（如 sat_police）")
    kind = str(spec.get("kind") or "")
    if kind not in QuestionKind.values:
        raise InvalidInput(f"未知的题型「{kind}」（应为单选、多选、等级量表、0–10 打分或文字）")
    text = str(spec.get("text") or "").strip()
    if not text:
        raise InvalidInput("请填写题目内容")
    options: list[str] = []
    if kind in CHOICE_KINDS:
        for raw in spec.get("options") or []:
            option = str(raw).strip()
            if not option:
                continue
            if len(option) > MAX_OPTION:
                raise InvalidInput(f"选项「{option[:20]}…」超过 {MAX_OPTION} 个字符")
            if option in options:
                raise InvalidInput(f"选项「{option}」重复")
            options.append(option)
        if len(options) < 2:
            raise InvalidInput("单选、多选和等级量表题至少要有两个选项")
    max_choices = spec.get("max_choices")
    if kind == QuestionKind.MULTIPLE and max_choices not in (None, ""):
        try:
            max_choices = int(max_choices)
        except (TypeError, ValueError):
            raise InvalidInput("“最多选几项”应为整数") from None
        if not 1 <= max_choices <= len(options):
            raise InvalidInput(f"“最多选几项”应在 1 到 {len(options)}（选项数）之间；不限请留空")
    else:
        max_choices = None
    show_if = spec.get("show_if") or {}
    if show_if:
        if not isinstance(show_if, Mapping) or set(show_if) != {"question", "in"}:
            raise InvalidInput("跳题条件应写明引用的题目和选项")
        chosen = [str(o).strip() for o in show_if.get("in") or [] if str(o).strip()]
        target = str(show_if.get("question") or "").strip()
        if not target:
            raise InvalidInput("跳题条件缺少引用的题目")
        if not chosen:
            raise InvalidInput("跳题条件至少要选一个选项（满足该选项时才问本题）")
        show_if = {"question": target, "in": list(dict.fromkeys(chosen))}
    return {"code": code, "kind": kind, "text": text, "options": options,
            "required": bool(spec.get("required", True)), "show_if": dict(show_if),
            "max_choices": max_choices}


def check_questions(specs: list[dict[str, Any]]) -> None:
    """The whole list of a version's questions, in order: InvalidInput naming the first
    question that breaks a rule (pure)."""
    if not specs:
        raise InvalidInput("问卷至少要有一道题")
    seen: dict[str, int] = {}
    for position, spec in enumerate(specs, start=1):
        code = spec["code"]
        if code in seen:
            raise InvalidInput(f"题目代码「{code}」重复（第{seen[code]}题和第{position}题）")
        seen[code] = position
    for position, spec in enumerate(specs, start=1):
        rule = spec.get("show_if") or {}
        if not rule:
            continue
        target = rule["question"]
        where = _label(position, spec)
        at = seen.get(target)
        if at is None:
            raise InvalidInput(f"{where}的跳题条件引用的题目「{target}」不存在")
        if at >= position:
            raise InvalidInput(f"{where}的跳题条件引用的「{target}」是第{at}题，不在本题之前；"
                               "跳题条件只能引用前面的题目")
        referred = specs[at - 1]
        if referred["kind"] not in RULE_KINDS:
            kind = QuestionKind(referred["kind"]).label
            raise InvalidInput(f"{where}的跳题条件引用的第{at}题「{target}」是{kind}题；"
                               "跳题条件只能引用单选题或等级量表题")
        missing = [o for o in rule["in"] if o not in referred["options"]]
        if missing:
            raise InvalidInput(f"{where}的跳题条件中的选项「{'、'.join(missing)}」不是第{at}题"
                               f"「{target}」的选项（现有选项：{'、'.join(referred['options'])}）")


def _spec(question: Question) -> dict[str, Any]:
    return {"code": question.code, "kind": question.kind, "text": question.text,
            "options": list(question.options or []), "required": question.required,
            "show_if": dict(question.show_if or {}), "max_choices": question.max_choices}


def _index_of(specs: list[dict[str, Any]], code: str) -> int:
    for i, spec in enumerate(specs):
        if spec["code"] == code:
            return i
    raise InvalidInput(f"本版问卷中没有题目「{code}」")


# --- questions: the actions -------------------------------------------------------------------


def _change_questions(*, actor: Any, version: QuestionnaireVersion, action: str, note: str,
                      change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
                      payload: dict[str, Any]) -> QuestionnaireVersion:
    """Apply `change` to the version's questions, check them all, and write them: in place, or,
    when the version is frozen, as a new version. Returns the version written."""
    check_manager(actor, version.questionnaire.bureau)
    with transaction.atomic():
        lock_chain()
        questionnaire = Questionnaire.objects.select_for_update(of=("self",)).get(
            pk=version.questionnaire_id)
        version = (QuestionnaireVersion.objects.select_for_update(of=("self",))
                   .get(pk=version.pk))
        specs = change([_spec(q) for q in version.questions.order_by("position")])
        check_questions(specs)
        target = version
        if version.is_frozen:
            number = (questionnaire.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            target = QuestionnaireVersion.objects.create(
                questionnaire=questionnaire, number=number, created_by=actor,
                note=f"由第{version.number}版修改：{note}"[:200])
            record_event(actor=actor, obj=target, action="survey.version_create",
                         payload={"from_version": version.number, "number": number,
                                  "reason": note})
        else:
            target.questions.all().delete()
        Question.objects.bulk_create([
            Question(version=target, position=position, **spec)
            for position, spec in enumerate(specs, start=1)
        ])
        record_event(actor=actor, obj=target, action=action,
                     payload={**payload, "version": target.number,
                              "copied_from": version.number if target is not version else None})
        return target


def add_question(*, actor: Any, version: QuestionnaireVersion, code: str, kind: str, text: str,
                 options: Iterable[str] = (), required: bool = True,
                 show_if: Mapping[str, Any] | None = None, max_choices: int | None = None,
                 position: int | None = None) -> Question:
    """A new question at `position` (1-based; default: the end)."""
    spec = clean_question({"code": code, "kind": kind, "text": text, "options": list(options),
                           "required": required, "show_if": show_if or {},
                           "max_choices": max_choices})

    def change(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any(s["code"] == spec["code"] for s in specs):
            raise InvalidInput(f"本版问卷已有代码为「{spec['code']}」的题目，请换一个代码")
        at = len(specs) if position is None else max(0, min(len(specs), position - 1))
        return [*specs[:at], spec, *specs[at:]]

    target = _change_questions(actor=actor, version=version, action="survey.question_add",
                               note=f"新增题目 {spec['code']}", change=change,
                               payload={"code": spec["code"], "after": spec})
    return target.questions.get(code=spec["code"])


def update_question(*, actor: Any, version: QuestionnaireVersion, code: str, kind: str,
                    text: str, options: Iterable[str] = (), required: bool = True,
                    show_if: Mapping[str, Any] | None = None,
                    max_choices: int | None = None) -> Question:
    """Change a question's kind, text, options, required, skip rule or maximum of choices (its
    code stays: the answers and the index definitions name it)."""
    spec = clean_question({"code": code, "kind": kind, "text": text, "options": list(options),
                           "required": required, "show_if": show_if or {},
                           "max_choices": max_choices})
    before: dict[str, Any] = {}

    def change(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        at = _index_of(specs, code)
        before.update(specs[at])
        return [*specs[:at], spec, *specs[at + 1:]]

    target = _change_questions(actor=actor, version=version, action="survey.question_change",
                               note=f"修改题目 {code}", change=change,
                               payload={"code": code, "before": before, "after": spec})
    return target.questions.get(code=code)


def remove_question(*, actor: Any, version: QuestionnaireVersion,
                    code: str) -> QuestionnaireVersion:
    """Take a question out; refused while a later question's skip rule names it."""
    removed: dict[str, Any] = {}

    def change(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        at = _index_of(specs, code)
        for position, spec in enumerate(specs, start=1):
            if (spec.get("show_if") or {}).get("question") == code:
                raise InvalidInput(f"{_label(position, spec)}的跳题条件引用了本题，"
                                   "请先修改或删除该题的跳题条件")
        removed.update(specs[at])
        return [*specs[:at], *specs[at + 1:]]

    return _change_questions(actor=actor, version=version, action="survey.question_remove",
                             note=f"删除题目 {code}", change=change,
                             payload={"code": code, "before": removed})


def reorder_questions(*, actor: Any, version: QuestionnaireVersion,
                      codes: list[str]) -> QuestionnaireVersion:
    """Put the questions in the order of `codes` (each of the version's codes once)."""
    codes = [str(c).strip() for c in codes]
    order: dict[str, list[str]] = {}

    def change(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_code = {s["code"]: s for s in specs}
        if sorted(codes) != sorted(by_code) or len(set(codes)) != len(codes):
            raise InvalidInput("新的顺序应包含本版问卷的每一道题，且每题一次")
        order["before"] = [s["code"] for s in specs]
        return [by_code[c] for c in codes]

    return _change_questions(actor=actor, version=version, action="survey.question_move",
                             note="调整题目顺序", change=change,
                             payload={"order": codes, "before": order})


def move_question(*, actor: Any, version: QuestionnaireVersion, code: str,
                  offset: int) -> Question:
    """Move a question up (offset -1) or down (+1) among the version's questions."""
    moved: dict[str, Any] = {}

    def change(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        at = _index_of(specs, code)
        to = at + offset
        if not 0 <= to < len(specs):
            raise InvalidInput("该题已在最前面" if offset < 0 else "该题已在最后面")
        specs = list(specs)
        specs.insert(to, specs.pop(at))
        moved.update({"from": at + 1, "to": to + 1})
        return specs

    target = _change_questions(actor=actor, version=version, action="survey.question_move",
                               note=f"调整题目 {code} 的顺序", change=change,
                               payload={"code": code, "moved": moved})
    return target.questions.get(code=code)


# --- waves ----------------------------------------------------------------------------------


def _check_wave_fields(*, name: str, starts_on: date, ends_on: date,
                       max_attempts: int) -> None:
    if not (name or "").strip():
        raise InvalidInput("请填写调查名称")
    if len(name.strip()) > 100:
        raise InvalidInput("调查名称不能超过 100 个字符")
    if ends_on < starts_on:
        raise InvalidInput("结束日期不能早于开始日期")
    if not 1 <= max_attempts <= 10:
        raise InvalidInput("每个号码最多拨打次数应在 1 到 10 之间")


def create_wave(*, actor: Any, version: QuestionnaireVersion, name: str, starts_on: date,
                ends_on: date, web_enabled: bool = True, max_attempts: int = 3) -> Wave:
    """A new wave in preparation (准备中) on a questionnaire version of the bureau."""
    bureau = version.questionnaire.bureau
    check_manager(actor, bureau)
    _check_wave_fields(name=name, starts_on=starts_on, ends_on=ends_on,
                       max_attempts=max_attempts)
    with transaction.atomic():
        lock_chain()
        wave = Wave.objects.create(bureau=bureau, name=name.strip(), version=version,
                                   starts_on=starts_on, ends_on=ends_on,
                                   web_enabled=web_enabled, max_attempts=max_attempts,
                                   created_by=actor)
        record_event(actor=actor, obj=wave, action="survey.wave_create",
                     after={"version": version.pk, "starts_on": str(starts_on),
                            "ends_on": str(ends_on)})
        return wave


def _lock_wave(wave: Wave | int) -> Wave:
    pk = wave.pk if isinstance(wave, Wave) else wave
    return (Wave.objects.select_for_update(of=("self",))
            .select_related("bureau", "version__questionnaire").get(pk=pk))


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "—"


def _closed(wave: Wave) -> str:
    if wave.closed_at is None:
        return f"「{wave}」已结束"
    return f"「{wave}」已于 {_when(wave.closed_at)} 结束"


WAVE_FIELDS = ("name", "starts_on", "ends_on", "version", "web_enabled", "max_attempts")
# What may still change once interviewing has begun: not the questionnaire, not the start.
FIELDING_FIELDS = frozenset({"name", "ends_on", "web_enabled", "max_attempts"})


def update_wave(*, actor: Any, wave: Wave, name: str, starts_on: date, ends_on: date,
                version: QuestionnaireVersion, web_enabled: bool, max_attempts: int) -> Wave:
    """Change a wave in preparation; once fielding, only its name, end date, web link and
    maximum of attempts; a closed wave not at all."""
    check_manager(actor, wave.bureau)
    _check_wave_fields(name=name, starts_on=starts_on, ends_on=ends_on,
                       max_attempts=max_attempts)
    if version.questionnaire.bureau_id != wave.bureau_id:
        raise InvalidInput("只能选用本局的问卷")
    with transaction.atomic():
        lock_chain()
        wave = _lock_wave(wave)
        new = {"name": name.strip(), "starts_on": starts_on, "ends_on": ends_on,
               "version": version, "web_enabled": bool(web_enabled),
               "max_attempts": max_attempts}
        changed = [f for f in WAVE_FIELDS if getattr(wave, f) != new[f]]
        if wave.state == Wave.State.CLOSED and changed:
            raise Conflict(_closed(wave) + "，不能再修改")
        if wave.state == Wave.State.FIELDING:
            locked = [f for f in changed if f not in FIELDING_FIELDS]
            if locked:
                names = "、".join(str(Wave._meta.get_field(f).verbose_name) for f in locked)
                raise InvalidInput(f"调查已开始，不能再修改{names}")
        if not changed:
            return wave
        before = {f: _plain(getattr(wave, f)) for f in changed}
        for f in changed:
            setattr(wave, f, new[f])
        wave.save(update_fields=[*changed, "updated_at"])
        record_event(actor=actor, obj=wave, action="survey.wave_change", before=before,
                     after={f: _plain(getattr(wave, f)) for f in changed})
        return wave


def _plain(value: Any) -> Any:
    if isinstance(value, QuestionnaireVersion):
        return {"id": value.pk, "number": value.number}
    if isinstance(value, date):
        return value.isoformat()
    return value


def set_quotas(*, actor: Any, wave: Wave, targets: Mapping[Any, int | None]) -> list[Quota]:
    """The wave's quotas in one go: `targets` maps a township (Area or its pk) to its target;
    0 or None takes a township's quota away, a township not named keeps its own. Allowed while
    preparing and fielding."""
    check_manager(actor, wave.bureau)
    wanted: dict[int, int] = {}
    for key, target in targets.items():
        pk = key.pk if isinstance(key, Area) else int(key)
        if target in (None, ""):
            target = 0
        if isinstance(target, bool) or not isinstance(target, int):
            raise InvalidInput("目标样本量应为整数")
        if not 0 <= target <= MAX_QUOTA:
            raise InvalidInput(f"目标样本量应在 0 到 {MAX_QUOTA} 之间")
        wanted[pk] = target
    with transaction.atomic():
        lock_chain()
        wave = _lock_wave(wave)
        if wave.state == Wave.State.CLOSED:
            raise Conflict(_closed(wave) + "，不能再修改配额")
        townships = selectors.bureau_townships(wave.bureau).filter(pk__in=list(wanted))
        areas = {a.pk: a for a in townships}
        strangers = [pk for pk in wanted if pk not in areas]
        if strangers:
            raise InvalidInput(f"配额只能设在{wave.bureau}辖区的乡镇（街道）")
        current = {q.area_id: q for q in Quota.objects.filter(wave=wave).select_related("area")}
        before = {q.area.name: q.target for q in current.values()}
        for pk, target in wanted.items():
            quota = current.get(pk)
            if target == 0:
                if quota is not None:
                    quota.delete()
                    del current[pk]
            elif quota is None:
                current[pk] = Quota.objects.create(wave=wave, area=areas[pk], target=target)
            elif quota.target != target:
                quota.target = target
                quota.save(update_fields=["target"])
        quotas = list(Quota.objects.filter(wave=wave).select_related("area").order_by(
            "area__path"))
        after = {q.area.name: q.target for q in quotas}
        if after != before:
            record_event(actor=actor, obj=wave, action="survey.quotas_set", before=before,
                         after=after, payload={"total": sum(after.values())})
        return quotas


def open_wave(*, actor: Any, wave: Wave, now: datetime | None = None) -> Wave:
    """准备中 → 调查中: the questionnaire version is frozen (if a wave has not frozen it
    already); needs at least one quota and a frame with numbers."""
    check_manager(actor, wave.bureau)
    now = now or timezone.now()
    with transaction.atomic():
        lock_chain()
        wave = _lock_wave(wave)
        if wave.state != Wave.State.DRAFT:
            raise Conflict(f"「{wave}」当前为「{wave.get_state_display()}」"
                           f"（{_when(wave.opened_at)} 开始），不能再次开始")
        version = (QuestionnaireVersion.objects.select_for_update(of=("self",))
                   .get(pk=wave.version_id))
        if not version.questions.exists():
            raise InvalidInput(f"问卷第{version.number}版没有题目，请先添加题目")
        quota_total = sum(Quota.objects.filter(wave=wave, target__gt=0)
                          .values_list("target", flat=True))
        if not quota_total:
            raise InvalidInput("请先设置至少一个乡镇（街道）的配额（目标样本量）再开始调查")
        frame_size = FrameMember.objects.filter(wave=wave).count()
        if not frame_size:
            raise InvalidInput("样本框中还没有号码：请先导入样本框或随机生成号码，再开始调查")
        froze = not version.is_frozen
        if froze:
            version.frozen_at = now
            version.save(update_fields=["frozen_at", "updated_at"])
        wave.state, wave.opened_at = Wave.State.FIELDING, now
        wave.save(update_fields=["state", "opened_at", "updated_at"])
        record_event(actor=actor, obj=wave, action="survey.wave_open",
                     from_state=Wave.State.DRAFT, to_state=wave.state,
                     payload={"version": version.number, "froze_version": froze,
                              "quota_total": quota_total, "frame": frame_size})
        return wave


def closing_outcome(*, attempts: int, outcome: str) -> str:
    """The AAPOR class a number still open when its wave closes ends with (pure).

    Never dialled: UH (AAPOR 3.11, not attempted — eligibility unknown). Dialled: the class its
    last call was given at the desk, as the callback desk keeps it for a task that runs out
    (no answer, busy, switched off: UH 3.13/3.12/3.16; an appointment never kept: NC 2.21); a
    dialled number without a class (none is expected) is counted a non-contact, NC."""
    if attempts <= 0:
        return rules.UH
    if outcome in rules.AAPOR and outcome != rules.I:
        return outcome
    return rules.NC


def close_wave(*, actor: Any, wave: Wave, now: datetime | None = None) -> Wave:
    """调查中 → 已结束: every number still open is closed with its final AAPOR class
    (`closing_outcome`), released from whoever held it, and no longer called."""
    check_manager(actor, wave.bureau)
    now = now or timezone.now()
    with transaction.atomic():
        lock_chain()
        wave = _lock_wave(wave)
        if wave.state != Wave.State.FIELDING:
            when = f"（{_when(wave.closed_at)} 结束）" if wave.closed_at else ""
            raise Conflict(f"「{wave}」当前为「{wave.get_state_display()}」{when}，"
                           "只有调查中的调查可以结束")
        open_members = FrameMember.objects.filter(wave=wave, state__in=OPEN_STATES)
        counts: dict[str, int] = {}
        for attempts, outcome, n in (open_members.order_by()
                                     .values_list("attempts", "outcome")
                                     .annotate(n=Count("pk"))):
            final = closing_outcome(attempts=attempts, outcome=outcome)
            counts[final] = counts.get(final, 0) + n
        common = {"state": FrameMember.State.CLOSED, "closed_at": now, "next_attempt_at": None,
                  "assigned_to": None, "assigned_at": None, "version": F("version") + 1,
                  "updated_at": now}
        closed = open_members.filter(attempts=0).update(outcome=rules.UH, **common)
        kept = [c for c in rules.AAPOR if c != rules.I]
        closed += open_members.filter(attempts__gt=0, outcome__in=kept).update(**common)
        closed += open_members.filter(attempts__gt=0).update(outcome=rules.NC, **common)
        wave.state, wave.closed_at = Wave.State.CLOSED, now
        wave.save(update_fields=["state", "closed_at", "updated_at"])
        record_event(actor=actor, obj=wave, action="survey.wave_close",
                     from_state=Wave.State.FIELDING, to_state=wave.state,
                     payload={"closed_members": closed, "outcomes": counts})
        return wave


# --- the frame ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameGeneration:
    """What one generation of random numbers made: enough to repeat it."""

    prefixes: list[str]
    seed: int
    created: int


def new_seed() -> int:
    """A seed for a draw nobody gave one for; short enough to be read out and typed again."""
    return secrets.randbelow(10 ** 9)


def generate_frame(*, actor: Any, wave: Wave, prefixes: str | Iterable[str], count: int,
                   seed: int | None = None) -> FrameGeneration:
    """`count` random mobile numbers within `prefixes` (see `frames.generate_numbers`) added to
    the wave's frame: origin generated, township unknown (asked at the interview), none that
    the frame already has. The seed (given, or drawn) is recorded in the event."""
    check_manager(actor, wave.bureau)
    if seed is None:
        seed = new_seed()
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
        raise InvalidInput("随机种子应为非负整数")
    try:
        checked = frames.parse_prefixes(prefixes)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with transaction.atomic():
        lock_chain()
        wave = _lock_wave(wave)
        if wave.state == Wave.State.CLOSED:
            raise Conflict(_closed(wave) + "，不能再添加号码")
        hashes = set(FrameMember.objects.filter(wave=wave).order_by()
                     .values_list("phone_hash", flat=True))
        try:
            numbers = frames.generate_numbers(
                checked, count, seed=seed,
                taken=lambda n: crypto.keyed_hash("phone", n) in hashes)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        try:
            with transaction.atomic():
                created = frames.insert_members([
                    {"wave_id": wave.pk, "origin": FrameMember.Origin.GENERATED, "phone": n}
                    for n in numbers])
        except IntegrityError:
            raise Conflict("有号码在生成期间被同时写入本调查的样本框，本次未添加任何号码；"
                           "请重新生成") from None
        record_event(actor=actor, obj=wave, action="survey.frame_generate",
                     payload={"prefixes": checked, "count": count, "seed": seed,
                              "created": created})
        return FrameGeneration(prefixes=checked, seed=seed, created=created)


def clear_frame(*, actor: Any, wave: Wave) -> int:
    """Take every number out of the frame of a wave in preparation (a wrong file, a wrong
    prefix): nobody has been called yet. Returns how many were removed."""
    check_manager(actor, wave.bureau)
    with transaction.atomic():
        lock_chain()
        wave = _lock_wave(wave)
        if wave.state != Wave.State.DRAFT:
            raise Conflict(f"「{wave}」当前为「{wave.get_state_display()}」，"
                           "只有准备中的调查可以清空样本框")
        _, deleted = FrameMember.objects.filter(wave=wave).delete()
        removed = deleted.get(FrameMember._meta.label, 0)
        if removed:
            record_event(actor=actor, obj=wave, action="survey.frame_clear",
                         payload={"removed": removed})
        return removed


def register() -> None:
    register_action_labels(ACTION_LABELS)
