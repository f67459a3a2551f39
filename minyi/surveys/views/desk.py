"""The survey desk (调查访问台): the interviewer's waves with their quotas, "take the next
number", and the interview page — the masked number with reveal, the disposition buttons, the
questionnaire by keyboard, the attempts so far — as at the callback desk.

Only interviewers (the bureau's opinion officers) use it: anybody else gets 403 at the door, and
a number of another bureau's wave is 404 as a missing one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.callbacks import rules
from minyi.callbacks.forms import AttemptForm
from minyi.callbacks.selectors import CLAIM_MINUTES
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.surveys import answers as answer_rules
from minyi.surveys import desk, weblinks
from minyi.surveys.models import FrameMember, Wave

LINK_STATUS = {weblinks.OK: "有效", weblinks.USED: "已使用", weblinks.EXPIRED: "已过期",
               weblinks.SUPERSEDED: "已被新链接取代", weblinks.ANSWERED: "已完成",
               weblinks.CLOSED: "已停止", weblinks.QUOTA_FULL: "配额已满",
               weblinks.UNKNOWN: "—"}


def _require_interviewer(request: HttpRequest) -> None:
    if not desk.is_interviewer(request.user):
        raise PermissionDenied("您的岗位没有民调访问任务")


def desk_home(request: HttpRequest) -> HttpResponse:
    _require_interviewer(request)
    now = timezone.now()
    waves = list(desk.interviewer_waves(request.user))
    start, end = rules.call_hours()
    return render(request, "surveys/desk/desk.html", {
        "progress": [desk.wave_progress(w, now=now) for w in waves],
        "current": desk.held_member(request.user, now=now),
        "in_hours": rules.in_call_hours(now), "hours": f"{start:%H:%M}–{end:%H:%M}",
    })


def _go_next(request: HttpRequest, wave: Wave | None) -> HttpResponse:
    """Claim the next number (of the same wave) and open it; back to the desk with the
    reason when there is none."""
    try:
        member = desk.claim_next_member(actor=request.user, wave=wave)
    except (InvalidInput, NotAllowed) as exc:
        messages.warning(request, str(exc))
        return redirect("surveys:desk")
    if member is None:
        messages.info(request, "目前没有待拨打的号码。")
        return redirect("surveys:desk")
    return redirect("surveys:interview", pk=member.pk)


@require_POST
def desk_next(request: HttpRequest) -> HttpResponse:
    _require_interviewer(request)
    wave = None
    if request.POST.get("wave"):
        try:
            wave = desk.interviewer_waves(request.user).get(pk=int(request.POST["wave"]))
        except (Wave.DoesNotExist, ValueError):
            raise Http404("没有找到该调查") from None
    return _go_next(request, wave)


# --- the interview page ----------------------------------------------------------------------


def _context(request: HttpRequest, member: FrameMember, *, revealed: str = "",
             attempt_form: AttemptForm | None = None, data: Any = None,
             problems: dict[str, str] | None = None) -> dict[str, Any]:
    now = timezone.now()
    wave = member.wave
    questions = answer_rules.questions_of(wave.version)
    values = answer_rules.from_post(questions, data) if data is not None else {}
    attempts = list(member.survey_attempts.select_related("caller_user").order_by("number"))
    for a in attempts:
        a.label = desk.disposition_label(a.disposition)
    response = getattr(member, "response", None) if member.state == FrameMember.State.DONE \
        else None
    held_by_other = bool(member.assigned_to_id and member.assigned_to_id != request.user.pk
                         and member.assigned_at
                         and member.assigned_at > now - timedelta(minutes=CLAIM_MINUTES))
    links = list(member.web_links.order_by("-created_at")[:5])
    for link in links:
        link.status_label = LINK_STATUS[weblinks.check(link, now)]
    return {
        "member": member, "wave": wave, "revealed": revealed,
        "can_act": member.is_open and wave.state == Wave.State.FIELDING,
        "held_by_other": held_by_other, "in_hours": rules.in_call_hours(now),
        "dispositions": desk.dispositions(),
        "attempt_form": attempt_form or AttemptForm(initial={"version": member.version}),
        "screeners": desk.respondent_questions(member, data, problems),
        "fqs": answer_rules.form_questions(questions, values, problems),
        "problems": list((problems or {}).values()),
        "answers_open": data is not None,
        "attempts": attempts, "response": response, "links": links,
        "web_sendable": wave.web_enabled and wave.state == Wave.State.FIELDING
        and member.state in weblinks.ANSWERABLE and response is None,
        "outcome_label": rules.AAPOR.get(member.outcome, ""),
    }


def interview(request: HttpRequest, pk: int) -> HttpResponse:
    _require_interviewer(request)
    member = desk.get_member_for_user(request.user, pk)
    return render(request, "surveys/desk/interview.html", _context(request, member))


@require_POST
def interview_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    _require_interviewer(request)
    member = desk.get_member_for_user(request.user, pk)
    try:
        value = desk.reveal_phone(actor=request.user, member=member)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    return render(request, "surveys/desk/interview.html",
                  _context(request, member, revealed=value))


def _refused(request: HttpRequest, member: FrameMember, exc: Exception,
             **extra: Any) -> HttpResponse:
    status = 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, NotAllowed) else 400
    if not isinstance(exc, answer_rules.AnswerErrors):
        messages.error(request, str(exc))
    member.refresh_from_db()
    return render(request, "surveys/desk/interview.html", _context(request, member, **extra),
                  status=status)


@require_POST
def interview_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    _require_interviewer(request)
    member = desk.get_member_for_user(request.user, pk)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return render(request, "surveys/desk/interview.html",
                      _context(request, member, attempt_form=form), status=400)
    data = form.cleaned_data
    try:
        member = desk.record_attempt(
            actor=request.user, member=member, disposition=data["disposition"],
            note=data["note"], retry_at=data["retry_at"], expected_version=data["version"])
    except (InvalidInput, NotAllowed, Conflict) as exc:
        return _refused(request, member, exc, attempt_form=form)
    label = desk.disposition_label(data["disposition"])
    if member.state == FrameMember.State.RETRY:
        messages.success(request, f"已登记「{label}」，将于 "
                         f"{timezone.localtime(member.next_attempt_at):%m月%d日 %H:%M} 后再拨。")
    else:
        messages.success(request, f"已登记「{label}」，该号码的访问已结束"
                                  f"（AAPOR {member.outcome}）。")
    return _go_next(request, member.wave)


@require_POST
def interview_response(request: HttpRequest, pk: int) -> HttpResponse:
    _require_interviewer(request)
    member = desk.get_member_for_user(request.user, pk)
    questions = answer_rules.questions_of(member.wave.version)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        result = desk.record_response(
            actor=request.user, member=member,
            answers=answer_rules.from_post(questions, request.POST),
            area=request.POST.get("area") or None, sex=request.POST.get("sex", ""),
            age_group=request.POST.get("age_group", ""), expected_version=version)
    except answer_rules.AnswerErrors as exc:
        return _refused(request, member, exc, data=request.POST, problems=exc.problems)
    except (InvalidInput, NotAllowed, Conflict) as exc:
        return _refused(request, member, exc, data=request.POST)
    if result.screened_out:
        messages.warning(request, "受访者所在乡镇（街道）的配额已满，本次访问终止"
                                  "（不符合条件，AAPOR NE），请礼貌结束通话。")
    else:
        messages.success(request, f"已保存问卷（{result.response.area}），感谢受访者后挂断。")
    return _go_next(request, member.wave)


@require_POST
def interview_release(request: HttpRequest, pk: int) -> HttpResponse:
    _require_interviewer(request)
    member = desk.get_member_for_user(request.user, pk)
    desk.release_member(actor=request.user, member=member)
    messages.info(request, "已放回该号码，其他访员可以领取。")
    return redirect("surveys:desk")


@require_POST
def interview_send_link(request: HttpRequest, pk: int) -> HttpResponse:
    _require_interviewer(request)
    member = desk.get_member_for_user(request.user, pk)
    try:
        sent = weblinks.send_web_link(actor=request.user, member=member)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except (Conflict, InvalidInput) as exc:
        messages.error(request, f"未发送自填短信：{exc}")
    else:
        messages.success(request, f"已向 {member.phone_mask} 发送自填短信，"
                                  f"{weblinks.link_days()} 日内有效（失效时间 "
                                  f"{timezone.localtime(sent.link.expires_at):%Y-%m-%d %H:%M}）。")
    return redirect("surveys:interview", pk=member.pk)


urlpatterns = [
    path("desk/", desk_home, name="desk"),
    path("desk/next/", desk_next, name="desk_next"),
    path("desk/<int:pk>/", interview, name="interview"),
    path("desk/<int:pk>/reveal/", interview_reveal, name="interview_reveal"),
    path("desk/<int:pk>/attempt/", interview_attempt, name="interview_attempt"),
    path("desk/<int:pk>/response/", interview_response, name="interview_response"),
    path("desk/<int:pk>/release/", interview_release, name="interview_release"),
    path("desk/<int:pk>/link/", interview_send_link, name="interview_send_link"),
]
