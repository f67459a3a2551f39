"""Every change to a special campaign (专项整治), each with its event, in one transaction.

The issuing side (dispatchers and bureau leaders of the campaign's bureau) issues, accepts or
sends back a unit's report, and closes the campaign; a named unit's head or handler signs for
its task and reports what was done. Each action locks the row it changes and checks its state
under the lock, so a second click or a colleague's click at the same moment is a Conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from minyi.campaigns.models import Campaign, CampaignTask, Source
from minyi.core.audit import lock_chain, record_event
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orders.escalation import next_number
from minyi.orgs import access
from minyi.orgs.models import Role, Unit
from minyi.workcal import selectors as workcal

KIND = "campaign"
ISSUE_ROLES = frozenset({Role.DISPATCHER, Role.BUREAU_LEADER})
TASK_ROLES = frozenset({Role.UNIT_HEAD, Role.UNIT_HANDLER})
MIN_TEXT = 10


def default_limit() -> str:
    """How long units have, in working time (default ten working days)."""
    return getattr(settings, "MINYI_CAMPAIGN_LIMIT", "10d")


def default_deadline(now: datetime | None = None) -> datetime:
    return workcal.deadline(now or timezone.now(), default_limit())


def issuing_side(user: Any, bureau: Unit) -> bool:
    return bool(getattr(user, "is_superuser", False)) or access.bureau_role(user, bureau,
                                                                            ISSUE_ROLES)


def for_unit(user: Any, unit: Unit) -> bool:
    return bool(getattr(user, "is_superuser", False)) or access.acts_for_unit(user, unit,
                                                                              TASK_ROLES)


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}"


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if len(value) < MIN_TEXT:
        raise InvalidInput(f"请具体写明{what}（不少于 {MIN_TEXT} 个字）")
    return value


def issue_campaign(*, actor: Any, bureau: Unit, title: str, requirements: str,
                   units: Iterable[Unit], deadline: datetime | None = None,
                   source_kind: str = "", source_key: str = "", source_label: str = "",
                   source_period: str = "", now: datetime | None = None) -> Campaign:
    """Issue a numbered campaign (专〔2026〕3号) with one task per named unit."""
    now = now or timezone.now()
    if not issuing_side(actor, bureau):
        raise NotAllowed(f"只有{bureau}的指挥调度员或局领导可以发起专项整治")
    title = (title or "").strip()
    if not title:
        raise InvalidInput("请填写专项整治的标题")
    requirements = _text(requirements, "工作要求")
    units = list(dict.fromkeys(units))
    if not units:
        raise InvalidInput("请至少选择一个责任单位")
    outside = [u.name for u in units if not u.path.startswith(bureau.path) or u.pk == bureau.pk]
    if outside:
        raise InvalidInput(f"责任单位须是{bureau}的下属单位：{'、'.join(outside)}")
    deadline = deadline or default_deadline(now)
    if deadline <= now:
        raise InvalidInput("完成期限须晚于现在")
    if source_kind and source_kind not in Source.values:
        raise InvalidInput(f"来源热点类别「{source_kind}」不对")
    year = timezone.localtime(now).year
    with transaction.atomic():
        campaign = Campaign.objects.create(
            bureau=bureau, year=year, number=next_number(bureau=bureau, kind=KIND, year=year),
            title=title, requirements=requirements, deadline=deadline, issued_by=actor,
            issued_at=now, source_kind=source_kind if source_kind else "",
            source_key=source_key[:100] if source_kind else "",
            source_label=source_label[:100] if source_kind else "",
            source_period=source_period[:20] if source_kind else "")
        CampaignTask.objects.bulk_create(
            [CampaignTask(campaign=campaign, unit=unit) for unit in units])
        record_event(actor=actor, obj=campaign, action="campaign.issue", to_state="open",
                     payload={"number": campaign.display_number, "title": title,
                              "units": [u.pk for u in units],
                              "unit_names": [u.name for u in units], "deadline": deadline,
                              "source": {"kind": source_kind, "key": source_key,
                                         "label": source_label, "period": source_period}
                              if source_kind else None})
    return campaign


def _locked_task(task: CampaignTask) -> CampaignTask:
    # The chain's lock first, then the row's: the order every writer takes them in.
    lock_chain()
    task = (CampaignTask.objects.select_for_update()
            .select_related("campaign", "unit", "campaign__bureau").get(pk=task.pk))
    return task


def _require_open(task: CampaignTask) -> None:
    if not task.campaign.is_open:
        raise Conflict(f"{task.campaign.display_number} 已于 {_when(task.campaign.closed_at)} "
                       "结束，不能再办理")


def _event(actor: Any, task: CampaignTask, action: str, before: str,
           payload: dict[str, Any] | None = None) -> None:
    record_event(actor=actor, obj=task, action=action, from_state=before, to_state=task.state,
                 payload={"campaign": task.campaign_id,
                          "number": task.campaign.display_number,
                          "unit": task.unit_id, "unit_name": task.unit.name, **(payload or {})})


def sign_task(*, actor: Any, task: CampaignTask) -> CampaignTask:
    """The named unit signs for its task (签收)."""
    with transaction.atomic():
        task = _locked_task(task)
        if not for_unit(actor, task.unit):
            raise NotAllowed(f"只有{task.unit}的民警可以签收该任务")
        _require_open(task)
        if task.signed_at is not None:
            raise Conflict(f"{task.unit}已于 {_when(task.signed_at)} 签收")
        before = task.state
        task.signed_by, task.signed_at = actor, timezone.now()
        task.state = CampaignTask.State.SIGNED
        task.save(update_fields=["signed_by", "signed_at", "state", "updated_at"])
        _event(actor, task, "campaign.sign", before)
    return task


def report_task(*, actor: Any, task: CampaignTask, report: str) -> CampaignTask:
    """The unit reports what it did (signing for the task first if not yet done)."""
    report = _text(report, "整治措施和成效")
    with transaction.atomic():
        task = _locked_task(task)
        if not for_unit(actor, task.unit):
            raise NotAllowed(f"只有{task.unit}的民警可以上报整治情况")
        _require_open(task)
        if task.state == CampaignTask.State.ACCEPTED:
            raise Conflict(f"{task.unit}的整治情况已于 {_when(task.accepted_at)} 验收通过")
        if task.state == CampaignTask.State.REPORTED:
            raise Conflict(f"{task.unit}已于 {_when(task.reported_at)} 上报，正在等待验收")
        before = task.state
        now = timezone.now()
        if task.signed_at is None:
            task.signed_by, task.signed_at = actor, now
        task.report, task.reported_by, task.reported_at = report, actor, now
        task.state = CampaignTask.State.REPORTED
        task.save()
        _event(actor, task, "campaign.report", before, {
            "report": report, "on_time": now <= task.campaign.deadline})
    return task


def _check_reported(actor: Any, task: CampaignTask, what: str) -> None:
    if not issuing_side(actor, task.campaign.bureau):
        raise NotAllowed(f"只有{task.campaign.bureau}的指挥调度员或局领导可以{what}")
    _require_open(task)
    if task.state == CampaignTask.State.ACCEPTED:
        raise Conflict(f"{task.unit}的整治情况已于 {_when(task.accepted_at)} 验收通过")
    if task.state != CampaignTask.State.REPORTED:
        raise Conflict(f"{task.unit}尚未上报整治情况（当前：{task.get_state_display()}），"
                       f"不能{what}")


def accept_task(*, actor: Any, task: CampaignTask) -> CampaignTask:
    """The issuing side accepts the unit's report (验收通过): the unit is done."""
    with transaction.atomic():
        task = _locked_task(task)
        _check_reported(actor, task, "验收")
        before = task.state
        task.accepted_by, task.accepted_at = actor, timezone.now()
        task.state = CampaignTask.State.ACCEPTED
        task.save(update_fields=["accepted_by", "accepted_at", "state", "updated_at"])
        _event(actor, task, "campaign.accept", before, {
            "on_time": task.accepted_at <= task.campaign.deadline})
    return task


def return_task(*, actor: Any, task: CampaignTask, reason: str) -> CampaignTask:
    """The issuing side sends the report back with a reason; the unit reports again."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写退回理由")
    with transaction.atomic():
        task = _locked_task(task)
        _check_reported(actor, task, "退回")
        before = task.state
        task.returned_by, task.returned_at = actor, timezone.now()
        task.return_reason = reason
        task.return_count += 1
        task.state = CampaignTask.State.RETURNED
        task.save(update_fields=["returned_by", "returned_at", "return_reason", "return_count",
                                 "state", "updated_at"])
        _event(actor, task, "campaign.return", before, {"reason": reason})
    return task


def close_campaign(*, actor: Any, campaign: Campaign, note: str = "") -> Campaign:
    """End the campaign; units not accepted by then stay on record as unfinished."""
    with transaction.atomic():
        lock_chain()
        campaign = Campaign.objects.select_for_update().select_related("bureau").get(
            pk=campaign.pk)
        if not issuing_side(actor, campaign.bureau):
            raise NotAllowed(f"只有{campaign.bureau}的指挥调度员或局领导可以结束专项整治")
        if not campaign.is_open:
            raise Conflict(f"{campaign.display_number} 已于 {_when(campaign.closed_at)} 结束")
        unfinished = list(campaign.tasks.exclude(state=CampaignTask.State.ACCEPTED)
                          .values_list("unit__name", flat=True))
        campaign.state = Campaign.State.CLOSED
        campaign.closed_by, campaign.closed_at = actor, timezone.now()
        campaign.close_note = (note or "").strip()
        campaign.save(update_fields=["state", "closed_by", "closed_at", "close_note",
                                     "updated_at"])
        record_event(actor=actor, obj=campaign, action="campaign.close", from_state="open",
                     to_state="closed", payload={"note": campaign.close_note,
                                                 "unfinished": unfinished})
    return campaign
