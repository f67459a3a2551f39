"""Checking a respondent's answers against the questionnaire version they were asked.

One function for the desk and the web link alike: `clean_answers(questions, raw)` answers the
dict that is stored in `Response.answers` ({question code: value}; single and scale → the
option, multiple → a list of options in the questionnaire's order, rating → an int 0–10,
text → the text), or raises `AnswerErrors` naming every problem by question number.

Skip rules are applied in question order: a question whose `show_if` is not met is not asked,
so an answer sent for it is dropped (a script that failed to hide it, or a changed earlier
answer, must not leave a stray answer behind), and it is never "missing". A rule naming an
earlier question that is itself hidden is not met either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from minyi.core.errors import InvalidInput
from minyi.surveys.models import Question, QuestionKind, QuestionnaireVersion

TEXT_MAX = 2000
RATING_MIN, RATING_MAX = 0, 10
FIELD_PREFIX = "q_"
# The keys an option is chosen with at the desk: digits first (1 … 9, then 0), letters beyond.
OPTION_KEYS = [*"1234567890", *"abdefghijkmnopqrstuvwxz"]


class AnswerErrors(InvalidInput):
    """Every problem of one set of answers: `problems` maps a question code to its message
    (for the form, next to the question); the exception's text lists them all."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("；".join(self.problems.values()))


def questions_of(version: QuestionnaireVersion) -> list[Question]:
    return list(version.questions.order_by("position"))


def field_name(code: str) -> str:
    return FIELD_PREFIX + code


def from_post(questions: Iterable[Question], data: Any) -> dict[str, Any]:
    """The raw answers in a submitted form (a QueryDict): one value per question, a list for
    a multiple-choice one. Fields of other names are ignored."""
    raw: dict[str, Any] = {}
    for q in questions:
        name = field_name(q.code)
        if q.kind == QuestionKind.MULTIPLE:
            values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
            if values:
                raw[q.code] = values
        elif name in data:
            raw[q.code] = data.get(name)
    return raw


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(_blank(v) for v in value)
    return False


def _label(q: Question) -> str:
    return f"第{q.position}题"


def _choice(q: Question, value: Any) -> str:
    if isinstance(value, list | tuple):
        raise ValueError("只能选一项")
    if not isinstance(value, str) or value.strip() not in q.options:
        raise ValueError(f"「{value}」不是该题的选项")
    return value.strip()


def _choices(q: Question, value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple):
        raise ValueError("回答格式不正确，应为所选选项的列表")
    chosen = {v.strip() for v in values if isinstance(v, str) and v.strip()}
    unknown = [str(v) for v in values
               if not (isinstance(v, str) and (v.strip() in q.options or not v.strip()))]
    if unknown:
        raise ValueError(f"「{'」「'.join(unknown)}」不是该题的选项")
    if q.max_choices and len(chosen) > q.max_choices:
        raise ValueError(f"最多选{q.max_choices}项，现在选了{len(chosen)}项")
    return [option for option in q.options if option in chosen]


def _rating(value: Any) -> int:
    problem = f"请打 {RATING_MIN} 到 {RATING_MAX} 之间的整数分"
    if isinstance(value, bool):
        raise ValueError(problem)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        number = int(value.strip())
    else:
        raise ValueError(problem)
    if not RATING_MIN <= number <= RATING_MAX:
        raise ValueError(problem)
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("回答应为文字")
    text = value.strip()
    if len(text) > TEXT_MAX:
        raise ValueError(f"最多 {TEXT_MAX} 字，现在 {len(text)} 字")
    return text


CLEANERS = {
    QuestionKind.SINGLE: _choice,
    QuestionKind.SCALE: _choice,
    QuestionKind.MULTIPLE: _choices,
    QuestionKind.RATING: lambda q, value: _rating(value),
    QuestionKind.TEXT: lambda q, value: _text(value),
}


def is_shown(q: Question, answered: Mapping[str, Any], shown: set[str]) -> bool:
    """Whether `q` is asked, given the answers kept so far and the codes shown so far."""
    rule = q.show_if or {}
    code = rule.get("question")
    if not code:
        return True
    if code not in shown:
        return False
    value = answered.get(code)
    allowed = rule.get("in") or []
    if isinstance(value, list):
        return any(v in allowed for v in value)
    return value is not None and (value in allowed or str(value) in map(str, allowed))


def clean_answers(questions: Sequence[Question], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to keep, by question code in question order; AnswerErrors with every
    problem otherwise."""
    ordered = sorted(questions, key=lambda q: q.position)
    known = {q.code for q in ordered}
    problems: dict[str, str] = {}
    for code in raw:
        if code not in known:
            problems[code] = f"问卷中没有代码为「{code}」的题目"
    cleaned: dict[str, Any] = {}
    shown: set[str] = set()
    for q in ordered:
        if not is_shown(q, cleaned, shown):
            continue
        shown.add(q.code)
        value = raw.get(q.code)
        if _blank(value):
            if q.required:
                verb = "请填写" if q.kind == QuestionKind.TEXT else (
                    "请打分" if q.kind == QuestionKind.RATING else "请选择")
                problems[q.code] = f"{_label(q)}为必答题，{verb}"
            continue
        try:
            cleaned[q.code] = CLEANERS[q.kind](q, value)
        except ValueError as exc:
            problems[q.code] = f"{_label(q)}：{exc}"
    if problems:
        raise AnswerErrors(problems)
    return cleaned


# --- the form's view of the questions -----------------------------------------------------


@dataclass
class FormOption:
    value: str
    label: str
    key: str
    checked: bool
    note: str = ""


@dataclass
class FormQuestion:
    """One question as a form shows it: its options with their keys, what was entered, and
    the problem found with it."""

    question: Question
    name: str
    options: list[FormOption] = field(default_factory=list)
    value: Any = None
    error: str = ""
    show_if_json: str = ""

    @property
    def code(self) -> str:
        return self.question.code

    @property
    def kind(self) -> str:
        return self.question.kind


def form_questions(questions: Sequence[Question], values: Mapping[str, Any] | None = None,
                   problems: Mapping[str, str] | None = None) -> list[FormQuestion]:
    """The questions for a form, with the values entered before and the problems found."""
    values = values or {}
    problems = problems or {}
    shown = []
    for q in sorted(questions, key=lambda q: q.position):
        value = values.get(q.code)
        chosen = value if isinstance(value, list | tuple) else [value]
        chosen = {str(v) for v in chosen if v is not None}
        offered = (list(range(RATING_MIN, RATING_MAX + 1)) if q.kind == QuestionKind.RATING
                   else q.options or [])
        options = [FormOption(value=str(o), label=str(o), key=OPTION_KEYS[i]
                              if i < len(OPTION_KEYS) else "", checked=str(o) in chosen)
                   for i, o in enumerate(offered)]
        shown.append(FormQuestion(
            question=q, name=field_name(q.code), options=options,
            value="" if value is None else value, error=problems.get(q.code, ""),
            show_if_json=json.dumps(q.show_if, ensure_ascii=False) if q.show_if else ""))
    return shown
