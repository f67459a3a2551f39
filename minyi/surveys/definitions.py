"""The definitions (口径) of the survey indices: a bureau adds its own, or a new version of one.

A definition names a question and a rule (`surveys.stats.indices.IndexRule`, kept as JSON). A
version is never changed once made: figures already published name it, so a different rule is a
new version with the next number. The version numbers of a code run on from the built-in ones
(the template's `security` has versions 1 and 2, a bureau's own next one is 3), so "口径 security
v3" says one thing within a bureau. Only the opinion office and administrators (survey managers)
add definitions; anyone in the bureau reads them.

Each action takes keyword-only arguments and the acting user, checks the rule through
`IndexRule.from_json` and against the question's options, and writes its event in the same
transaction; bad input raises `InvalidInput` with a Chinese message and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet

from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Unit
from minyi.surveys import template
from minyi.surveys.models import IndexDefinition, Question, QuestionKind
from minyi.surveys.stats.indices import IndexRule

ACTION_LABELS = {
    "survey.definition_create": "新建指数口径",
    "survey.definition_version": "新增指数口径版本",
    "survey.definition_active": "启用或停用指数口径",
}

KIND_LABELS = {
    "top_share": "前几项占比（如满意+基本满意）",
    "half_middle": "中间项计半（如基本满意计 0.5）",
    "category_scores": "按选项赋分求平均分",
    "cutoff": "0–10 打分达到分数线的比例",
}
# What separates the categories a user types in one box: Chinese and Latin commas, 、, spaces.
_SEPARATORS = re.compile(r"[,，、;；\s]+")
_SCORE = re.compile(r"^([^=＝:：]+)[=＝:：](.*)$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


# --- reads ---------------------------------------------------------------------------------


def definitions_for(bureau: Unit, *, active_only: bool = True) -> QuerySet[IndexDefinition]:
    """The definitions a bureau's figures may be computed under: the built-in ones and its own."""
    qs = IndexDefinition.objects.filter(Q(bureau=None) | Q(bureau=bureau))
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("code", "version", "pk")


def default_definitions(definitions: Iterable[IndexDefinition]) -> list[IndexDefinition]:
    """One definition per code, the one a page shows unless another is chosen: the bureau's own
    latest version of the code if it made one (it made it to be used), else the first built-in
    version (the one the seeds' published figures follow). In the order of the codes' first
    appearance (built-in template order first)."""
    by_code: dict[str, list[IndexDefinition]] = {}
    for d in definitions:
        by_code.setdefault(d.code, []).append(d)
    order = {entry["code"]: i for i, entry in enumerate(template.INDEX_DEFINITIONS)}
    chosen = []
    for versions in by_code.values():
        own = [d for d in versions if d.bureau_id is not None]
        if own:
            chosen.append(max(own, key=lambda d: d.version))
        else:
            chosen.append(min(versions, key=lambda d: d.version))
    return sorted(chosen, key=lambda d: (order.get(d.code, len(order)), d.code))


def get_definition_for_user(user: Any, pk: Any) -> IndexDefinition:
    """A definition the user may read (built-in, or of one of their bureaus); 404 otherwise."""
    from django.http import Http404

    bureaus = access.survey_bureaus(user)
    if not bureaus:
        raise Http404("没有找到该口径")
    try:
        return IndexDefinition.objects.select_related("bureau").get(
            Q(bureau=None) | Q(bureau__in=bureaus), pk=int(pk))
    except (IndexDefinition.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该口径") from None


def describe(definition: IndexDefinition) -> str:
    """The definition in one Chinese sentence (the rule's own wording), or why it cannot be
    read (a hand-edited row)."""
    try:
        return parse_rule(definition).describe()
    except (ValueError, TypeError, KeyError) as exc:
        return f"计算规则无法读取：{exc}"


# --- the questions a definition may read ----------------------------------------------------


@dataclass
class QuestionInfo:
    code: str
    kind: str
    text: str
    options: list[str] = field(default_factory=list)


def known_questions(bureau: Unit) -> dict[str, QuestionInfo]:
    """The questions of the built-in template and of every version of the bureau's
    questionnaires, by code; the options of a code are the union over its versions."""
    found: dict[str, QuestionInfo] = {}

    def add(code: str, kind: str, text: str, options: Iterable[str]) -> None:
        info = found.setdefault(code, QuestionInfo(code, kind, text))
        for option in options:
            if option not in info.options:
                info.options.append(option)

    for q in template.QUESTIONS:
        add(q["code"], q["kind"], q["text"], q.get("options", []))
    rows = (Question.objects.filter(version__questionnaire__bureau=bureau)
            .order_by("version__questionnaire_id", "version__number", "position")
            .values_list("code", "kind", "text", "options"))
    for code, kind, text, options in rows:
        add(code, kind, text, options or [])
    return found


# --- building and checking a rule -----------------------------------------------------------


def split_categories(text: str) -> list[str]:
    """Categories typed in one box ("满意、基本满意") as a list, in order, without repeats."""
    seen: list[str] = []
    for part in _SEPARATORS.split(text or ""):
        if part and part not in seen:
            seen.append(part)
    return seen


def parse_scores(text: str) -> dict[str, float]:
    """"很安全=100、安全=80" (or with ：/: instead of =) as {category: score}."""
    scores: dict[str, float] = {}
    for part in _SEPARATORS.split(text or ""):
        if not part:
            continue
        match = _SCORE.match(part)
        if match is None:
            raise InvalidInput(f"分值“{part}”的写法不对，应写成“选项=分数”，如“很安全=100”")
        try:
            name, value = match.group(1), match.group(2)
            scores[name] = float(value)
        except ValueError:
            raise InvalidInput(f"“{name}”的分数“{value}”不是数字") from None
    return scores


def rule_from_fields(*, kind: str, top: str = "", middle: str = "", scores: str = "",
                     cutoff: Any = None, excluded: str = "", scale: Any = None) -> dict[str, Any]:
    """The rule JSON from the fields of the definition form (text boxes as the user typed)."""
    if kind not in KIND_LABELS:
        raise InvalidInput("请选择计算方法")
    rule: dict[str, Any] = {"kind": kind}
    if kind in ("top_share", "half_middle"):
        rule["top"] = split_categories(top)
    if kind == "half_middle":
        rule["middle"] = split_categories(middle)
    if kind == "category_scores":
        rule["scores"] = parse_scores(scores)
    if kind == "cutoff":
        if cutoff in (None, ""):
            raise InvalidInput("请填写分数线（0–10）")
        try:
            rule["cutoff"] = float(cutoff)
        except (TypeError, ValueError):
            raise InvalidInput(f"分数线“{cutoff}”不是数字") from None
    if excluded:
        rule["excluded"] = split_categories(excluded)
    if scale not in (None, ""):
        try:
            rule["scale"] = float(scale)
        except (TypeError, ValueError):
            raise InvalidInput(f"显示倍数“{scale}”不是数字") from None
    return rule


def parse_rule(definition: IndexDefinition) -> IndexRule:
    """The stored rule of a definition, named by the definition's code, name and version (so
    that `describe` names the version); ValueError for a rule the stats module refuses."""
    data = {k: v for k, v in dict(definition.rule or {}).items()
            if k not in ("code", "name", "version")}
    return IndexRule.from_json({**data, "code": definition.code, "name": definition.name,
                                "version": definition.version})


def _stored(rule: IndexRule) -> dict[str, Any]:
    # Code, name and version live on the definition row; the JSON holds only how answers count.
    return {k: v for k, v in rule.to_json().items() if k not in ("code", "name", "version")}


def _normalised(definition: IndexDefinition) -> dict[str, Any] | None:
    try:
        return _stored(parse_rule(definition))
    except (ValueError, TypeError, KeyError):
        return None


def check_rule(rule: Mapping[str, Any], question: QuestionInfo) -> dict[str, Any]:
    """The rule as it will be stored (normalised by `IndexRule`); InvalidInput when the stats
    module refuses it or it names categories the question does not offer."""
    data = {k: v for k, v in dict(rule).items() if k not in ("code", "name", "version")}
    try:
        parsed = IndexRule.from_json(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"计算规则有误：{exc}") from None
    if parsed.kind == "cutoff":
        if question.kind != QuestionKind.RATING:
            raise InvalidInput(f"分数线只适用于 0–10 打分题，题目“{question.code}”不是打分题")
        return _stored(parsed)
    if question.kind not in (QuestionKind.SINGLE, QuestionKind.SCALE):
        raise InvalidInput(f"题目“{question.code}”不是单选或等级量表题，不能按选项计算")
    # The stats module leaves 不清楚 and the like out of the base by default; only what the
    # user named must be an option of the question.
    named = [*parsed.top, *parsed.middle, *parsed.bottom, *parsed.scores.keys(),
             *(data.get("excluded") or [])]
    unknown = [c for c in named if c not in question.options]
    if unknown:
        raise InvalidInput(f"题目“{question.code}”没有选项：{'、'.join(unknown)}"
                           f"（可选：{'、'.join(question.options)}）")
    if parsed.kind == "category_scores":
        base = [o for o in question.options if o not in parsed.excluded]
        missing = [o for o in base if o not in parsed.scores]
        if missing:
            raise InvalidInput(f"这些选项还没有分数：{'、'.join(missing)}"
                               "（不计入基数的选项请填在“不计入基数的选项”里）")
    return _stored(parsed)


# --- actions -------------------------------------------------------------------------------


def _check_manager(actor: Any, bureau: Unit) -> None:
    if actor is None or not access.may_manage_surveys(actor, bureau):
        raise NotAllowed(f"只有{bureau}的民意专员或系统管理员可以维护指数口径")


def _question(bureau: Unit, code: str) -> QuestionInfo:
    questions = known_questions(bureau)
    if code not in questions:
        raise InvalidInput(f"没有题目代码“{code}”（可选：{'、'.join(questions)}）")
    return questions[code]


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写指标名称")
    if len(name) > 100:
        raise InvalidInput("指标名称不能超过 100 个字")
    return name


def _save(**fields: Any) -> IndexDefinition:
    try:
        with transaction.atomic():
            return IndexDefinition.objects.create(**fields)
    except IntegrityError:
        raise Conflict(f"口径 {fields['code']} v{fields['version']} 刚刚已由他人建立，"
                       "请刷新后重试") from None


def add_definition(*, actor: Any, bureau: Unit, code: str, name: str, question_code: str,
                   rule: Mapping[str, Any], note: str = "") -> IndexDefinition:
    """A bureau's own new definition (version 1) under a code that neither the built-in
    definitions nor the bureau use yet."""
    _check_manager(actor, bureau)
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        raise InvalidInput("口径代码只能用小写字母、数字和连字符，以字母或数字开头，"
                           "不超过 40 个字符，如 security-own")
    name = _clean_name(name)
    question = _question(bureau, (question_code or "").strip())
    checked = check_rule(rule, question)
    with transaction.atomic():
        lock_chain()
        if definitions_for(bureau, active_only=False).filter(code=code).exists():
            raise InvalidInput(f"口径代码“{code}”已存在，请在该口径下新增版本")
        made = _save(bureau=bureau, code=code, version=1, name=name,
                     question_code=question.code, rule=checked, note=(note or "").strip())
        record_event(actor=actor, obj=made, action="survey.definition_create",
                     after={"code": code, "version": 1, "question_code": question.code,
                            "rule": checked})
        return made


def add_version(*, actor: Any, bureau: Unit, base: IndexDefinition, rule: Mapping[str, Any],
                name: str = "", question_code: str = "", note: str = "") -> IndexDefinition:
    """The next version of `base`'s code as the bureau's own (a built-in definition is never
    changed; the bureau's copy continues its numbering). Nothing existing is edited."""
    _check_manager(actor, bureau)
    if base.bureau_id not in (None, bureau.pk):
        raise NotAllowed("不能为其他公安局的口径新增版本")
    name = _clean_name(name or base.name)
    question = _question(bureau, (question_code or base.question_code).strip())
    checked = check_rule(rule, question)
    with transaction.atomic():
        lock_chain()
        siblings = definitions_for(bureau, active_only=False).filter(code=base.code)
        for existing in siblings:
            if existing.question_code == question.code and _normalised(existing) == checked:
                raise InvalidInput(f"与已有的{existing.label}的计算规则相同，无需新增版本")
        latest = siblings.aggregate(top=Max("version"))["top"] or 0
        made = _save(bureau=bureau, code=base.code, version=latest + 1, name=name,
                     question_code=question.code, rule=checked, note=(note or "").strip())
        record_event(actor=actor, obj=made, action="survey.definition_version",
                     before={"based_on": base.label},
                     after={"code": made.code, "version": made.version,
                            "question_code": question.code, "rule": checked})
        return made


def set_active(*, actor: Any, definition: IndexDefinition, active: bool) -> IndexDefinition:
    """Stop offering one of the bureau's own definitions (or offer it again). Its rule is not
    touched, so figures already published under it still say what they were made by."""
    if definition.bureau_id is None:
        raise NotAllowed("内置口径不能停用")
    _check_manager(actor, definition.bureau)
    with transaction.atomic():
        lock_chain()
        locked = IndexDefinition.objects.select_for_update().get(pk=definition.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        record_event(actor=actor, obj=locked, action="survey.definition_active",
                     before={"is_active": not active}, after={"is_active": active})
        return locked


def register() -> None:
    register_action_labels(ACTION_LABELS)
