"""Every change of a survey's set-up: questionnaires from the template, their versions, waves.

Each action takes keyword-only arguments and the acting user, and writes its event in its own
transaction (the chain lock first, as `core.audit.lock_chain` asks).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from minyi.core.audit import lock_chain, record_event, register_action_labels
from minyi.core.errors import InvalidInput, NotAllowed
from minyi.orgs import access
from minyi.orgs.models import Unit
from minyi.surveys import template
from minyi.surveys.models import Question, Questionnaire, QuestionnaireVersion, Wave

ACTION_LABELS = {
    "survey.questionnaire_create": "新建问卷",
    "survey.wave_create": "新建调查",
}


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


def create_wave(*, actor: Any, version: QuestionnaireVersion, name: str, starts_on: date,
                ends_on: date, web_enabled: bool = True, max_attempts: int = 3) -> Wave:
    """A new wave in preparation (准备中) on a questionnaire version of the bureau."""
    bureau = version.questionnaire.bureau
    check_manager(actor, bureau)
    if ends_on < starts_on:
        raise InvalidInput("结束日期不能早于开始日期")
    if not 1 <= max_attempts <= 10:
        raise InvalidInput("每个号码最多拨打次数应在 1 到 10 之间")
    if not name.strip():
        raise InvalidInput("请填写调查名称")
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


def register() -> None:
    register_action_labels(ACTION_LABELS)
