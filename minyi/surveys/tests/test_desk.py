"""The survey desk: claiming the next number (order, quotas, call hours, claims that expire,
races), calls with the callback desk's dispositions and retries, interviews (the respondent's
township, sex and age group, the quota's screen-out), each with its event; and its pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from minyi.callbacks import rules
from minyi.core.audit import action_label, events_for, verify_chain
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import AreaFactory, MembershipFactory, UnitFactory, UserFactory
from minyi.surveys import desk
from minyi.surveys.answers import AnswerErrors
from minyi.surveys.models import FrameMember, Quota, Response, SurveyAttempt, Wave
from minyi.surveys.tests import factories
from minyi.testing import race

SH = rules.TIME_ZONE
DAY = date(2026, 11, 20)
NOW = datetime.combine(DAY, time(10), SH)
pytestmark = pytest.mark.django_db

ANSWERS = {"security": "安全", "sat_police": "满意", "sat_station": "基本满意",
           "antigang_aware": "知道", "antigang_sat": "满意", "sat_traffic": "满意",
           "participation": "偶尔参加", "police_rating": 9, "problems": ["盗窃"],
           "suggestion": "多巡逻"}


def sh(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), SH)


@contextmanager
def clock(moment: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def wave(bureau, opinion_officer) -> Wave:
    made = factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)
    Quota.objects.create(wave=made, area=bureau.township, target=2)
    Quota.objects.create(wave=made, area=bureau.other_township, target=2)
    return made


@pytest.fixture
def colleague(bureau):
    return bureau.member(Role.OPINION_OFFICER, bureau.bureau, full_name="周访员")


def known(wave: Wave, bureau: Any, **fields: Any) -> FrameMember:
    """A member whose township, sex and age group the frame knows."""
    fields.setdefault("area", bureau.township)
    return factories.member(wave, sex="F", age_group="40-49", **fields)


def generated(wave: Wave, **fields: Any) -> FrameMember:
    """A number generated at random: the frame knows nothing of who answers."""
    made = factories.member(wave, **fields)
    FrameMember.objects.filter(pk=made.pk).update(origin=FrameMember.Origin.GENERATED)
    made.origin = FrameMember.Origin.GENERATED
    return made


def other_bureau_officer() -> Any:
    other = UnitFactory(kind="bureau", name="邻县公安局")
    station = UnitFactory(kind="station", name="邻县城关派出所", parent=other)
    AreaFactory(kind="township", name="城关镇", station=station)
    user = UserFactory(full_name="邻县民意")
    MembershipFactory(user=user, unit=other, role=Role.OPINION_OFFICER)
    return user


# --- claiming --------------------------------------------------------------------------------


def test_claim_order_due_retries_first_then_new_numbers_in_frame_order(
        bureau, wave, opinion_officer, colleague):
    third = bureau.member(Role.OPINION_OFFICER, bureau.bureau)
    fourth = bureau.member(Role.OPINION_OFFICER, bureau.bureau)
    new_a = known(wave, bureau)
    retry_due = known(wave, bureau, state=FrameMember.State.RETRY, attempts=1,
                      next_attempt_at=sh(9))
    retry_later = known(wave, bureau, state=FrameMember.State.RETRY, attempts=1,
                        next_attempt_at=sh(11))
    new_b = known(wave, bureau)
    known(wave, bureau, state=FrameMember.State.DONE, outcome="I")
    known(wave, bureau, state=FrameMember.State.CLOSED, outcome="NE")
    got = [desk.claim_next_member(actor=u, now=NOW)
           for u in (opinion_officer, colleague, third, fourth)]
    assert [m.pk if m else None for m in got] == [retry_due.pk, new_a.pk, new_b.pk, None]
    assert FrameMember.objects.get(pk=retry_due.pk).assigned_to == opinion_officer
    # asking again answers the number already held
    assert desk.claim_next_member(actor=opinion_officer, now=NOW).pk == retry_due.pk
    assert retry_later.pk not in [m.pk for m in got if m]


def test_a_claim_expires_after_the_callback_desks_minutes(bureau, wave, opinion_officer,
                                                          colleague):
    m = known(wave, bureau)
    assert desk.claim_next_member(actor=opinion_officer, now=NOW).pk == m.pk
    assert desk.claim_next_member(actor=colleague, now=NOW + timedelta(minutes=14)) is None
    assert desk.claim_next_member(actor=colleague, now=NOW + timedelta(minutes=15)).pk == m.pk


def test_townships_whose_quota_is_full_are_skipped(bureau, wave, opinion_officer, colleague):
    third = bureau.member(Role.OPINION_OFFICER, bureau.bureau)
    for _ in range(2):
        factories.response(wave, bureau.township, ANSWERS)
    full_one = known(wave, bureau)
    elsewhere = known(wave, bureau, area=bureau.other_township)
    unknown = generated(wave)
    got = [desk.claim_next_member(actor=u, now=NOW) for u in (opinion_officer, colleague, third)]
    assert [m.pk if m else None for m in got] == [elsewhere.pk, unknown.pk, None]
    assert desk.full_areas([wave.pk]) == {wave.pk: {bureau.township.pk}}
    full_one.refresh_from_db()
    assert full_one.assigned_to is None


def test_a_township_without_quota_has_no_limit(bureau, wave, opinion_officer):
    village_town = AreaFactory(kind="township", name="南城镇", station=bureau.station)
    factories.response(wave, village_town, ANSWERS)
    m = known(wave, bureau, area=village_town)
    assert desk.claim_next_member(actor=opinion_officer, now=NOW).pk == m.pk


def test_only_fielding_waves_of_the_interviewers_bureau(bureau, opinion_officer, wave):
    draft = factories.wave(bureau, opinion_officer, name="草稿调查")
    known(draft, bureau)
    outsider_officer = other_bureau_officer()
    assert desk.claim_next_member(actor=opinion_officer, now=NOW) is None
    with pytest.raises(InvalidInput, match="准备中"):
        desk.claim_next_member(actor=opinion_officer, wave=draft, now=NOW)
    with pytest.raises(NotAllowed):
        desk.claim_next_member(actor=outsider_officer, wave=wave, now=NOW)
    assert desk.claim_next_member(actor=outsider_officer, now=NOW) is None


def test_a_wave_filter_claims_from_that_wave_only(bureau, opinion_officer, wave):
    second = factories.wave(bureau, opinion_officer, name="第二期", state=Wave.State.FIELDING)
    known(wave, bureau)
    theirs = known(second, bureau)
    assert desk.claim_next_member(actor=opinion_officer, wave=second, now=NOW).pk == theirs.pk


def test_people_without_an_interviewers_role_cannot_claim(bureau, wave, handler, leader):
    known(wave, bureau)
    for user in (handler, leader):
        with pytest.raises(NotAllowed, match="没有民调访问任务"):
            desk.claim_next_member(actor=user, now=NOW)


def test_nothing_is_claimed_outside_call_hours(bureau, wave, opinion_officer):
    m = known(wave, bureau)
    with pytest.raises(InvalidInput) as caught:
        desk.claim_next_member(actor=opinion_officer, now=sh(21, 30))
    assert str(caught.value) == ("现在不在访问时段（08:00–21:00），不能拨打；"
                                 "请于 11月21日 08:00 后再取号码。")
    m.refresh_from_db()
    assert m.assigned_to is None


@pytest.mark.django_db(transaction=True)
def test_two_interviewers_claiming_at_once_get_different_numbers(bureau, opinion_officer):
    colleague = bureau.member(Role.OPINION_OFFICER, bureau.bureau)
    w = factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)
    a, b = known(w, bureau), known(w, bureau)
    results = race(lambda: desk.claim_next_member(actor=opinion_officer, now=NOW),
                   lambda: desk.claim_next_member(actor=colleague, now=NOW))
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert {r[1].pk for r in results} == {a.pk, b.pk}
    holders = dict(FrameMember.objects.values_list("pk", "assigned_to"))
    assert {holders[a.pk], holders[b.pk]} == {opinion_officer.pk, colleague.pk}


def test_release_gives_the_number_back(bureau, wave, opinion_officer, colleague):
    m = known(wave, bureau)
    desk.claim_next_member(actor=opinion_officer, now=NOW)
    desk.release_member(actor=colleague, member=m)  # not theirs: nothing happens
    assert FrameMember.objects.get(pk=m.pk).assigned_to == opinion_officer
    desk.release_member(actor=opinion_officer, member=m)
    assert desk.claim_next_member(actor=colleague, now=NOW).pk == m.pk


# --- calls -----------------------------------------------------------------------------------


def test_reveal_is_logged_and_only_for_interviewers(bureau, wave, opinion_officer, handler):
    m = known(wave, bureau, phone="13955556666")
    assert desk.reveal_phone(actor=opinion_officer, member=m) == "13955556666"
    [event] = events_for(m)
    assert event.action == "survey.reveal" and event.actor_id == opinion_officer.pk
    assert "13955556666" not in str(event.payload)
    with pytest.raises(NotAllowed):
        desk.reveal_phone(actor=handler, member=m)
    with pytest.raises(NotAllowed):
        desk.reveal_phone(actor=other_bureau_officer(), member=m)


def test_retries_follow_the_waves_max_attempts(bureau, wave, opinion_officer):
    Wave.objects.filter(pk=wave.pk).update(max_attempts=2)
    m = known(wave, bureau)
    m = desk.record_attempt(actor=opinion_officer, member=m, disposition="no_answer", now=NOW)
    assert (m.state, m.attempts, m.outcome, m.next_attempt_at) == (
        "retry", 1, "UH", NOW + timedelta(hours=2))
    m = desk.record_attempt(actor=opinion_officer, member=m, disposition="busy",
                            note=" 占线 ", now=sh(12))
    assert (m.state, m.attempts, m.outcome, m.next_attempt_at, m.closed_at) == (
        "closed", 2, "UH", None, sh(12))
    rows = list(SurveyAttempt.objects.filter(member=m).values_list(
        "number", "disposition", "outcome", "note", "caller_user"))
    assert rows == [(1, "no_answer", "UH", "", opinion_officer.pk),
                    (2, "busy", "UH", "占线", opinion_officer.pk)]
    events = list(events_for(m).order_by("id"))
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("survey.attempt", "pending", "retry"), ("survey.attempt", "retry", "closed")]
    assert events[0].payload["aapor_code"] == "3.13" and events[1].payload["number"] == 2
    assert events[0].payload["label"] == "无人接听"


def test_a_late_retry_moves_into_the_next_mornings_call_hours(bureau, wave, opinion_officer):
    m = desk.record_attempt(actor=opinion_officer, member=known(wave, bureau),
                            disposition="switched_off", now=sh(20))
    assert m.next_attempt_at == sh(8, day=DAY + timedelta(days=1))


def test_final_dispositions_close_with_their_aapor_class(bureau, wave, opinion_officer):
    expected = {"invalid_number": "NE", "refused": "R", "hung_up": "R", "language": "O",
                "not_person": "NE", "suspended": "NE", "wrong_number": "NE"}
    for code, outcome in expected.items():
        m = desk.record_attempt(actor=opinion_officer, member=known(wave, bureau),
                                disposition=code, now=NOW)
        assert (m.state, m.outcome) == ("closed", outcome), code


def test_an_appointment_needs_a_time_and_keeps_it(bureau, wave, opinion_officer):
    m = known(wave, bureau)
    with pytest.raises(InvalidInput, match="预约再拨请填写约定的时间"):
        desk.record_attempt(actor=opinion_officer, member=m, disposition="appointment",
                            now=NOW)
    m = desk.record_attempt(actor=opinion_officer, member=m, disposition="appointment",
                            retry_at=sh(15), now=NOW)
    assert (m.state, m.outcome, m.next_attempt_at) == ("retry", "NC", sh(15))


def test_bad_dispositions_are_refused_and_write_nothing(bureau, wave, opinion_officer):
    m = known(wave, bureau)
    with pytest.raises(InvalidInput, match="接通后请登记问卷的回答"):
        desk.record_attempt(actor=opinion_officer, member=m, disposition="answered", now=NOW)
    with pytest.raises(InvalidInput, match="未知的拨打结果"):
        desk.record_attempt(actor=opinion_officer, member=m, disposition="fax", now=NOW)
    assert SurveyAttempt.objects.count() == 0 and not events_for(m).exists()


def test_a_second_action_is_a_conflict_naming_who_and_when(bureau, wave, opinion_officer,
                                                           colleague):
    m = known(wave, bureau)
    desk.record_attempt(actor=opinion_officer, member=m, disposition="invalid_number",
                        now=NOW)
    with pytest.raises(Conflict) as caught:
        desk.record_attempt(actor=colleague, member=m, disposition="no_answer",
                            now=NOW + timedelta(minutes=1))
    assert str(caught.value) == ("该样本已于 11月20日 10:00 由孙民意登记第1次拨打「空号」，"
                                 "当前为「已结案」，不能再登记。")
    with pytest.raises(Conflict, match="不能再登记"):
        desk.record_response(actor=colleague, member=m, answers=ANSWERS, now=NOW)


def test_a_stale_page_and_a_number_held_by_another_are_conflicts(bureau, wave,
                                                                 opinion_officer, colleague):
    m = known(wave, bureau)
    desk.record_attempt(actor=opinion_officer, member=m, disposition="no_answer",
                        now=sh(8))
    with pytest.raises(Conflict, match="请刷新后再登记"):
        desk.record_attempt(actor=opinion_officer, member=m, disposition="busy",
                            expected_version=1, now=NOW)
    desk.claim_next_member(actor=colleague, now=NOW)
    with pytest.raises(Conflict) as caught:
        desk.record_attempt(actor=opinion_officer, member=m, disposition="busy", now=NOW)
    assert str(caught.value) == "该样本正由周访员拨打（11月20日 10:00 领取），请取下一个号码。"


def test_a_closed_wave_takes_no_more_calls(bureau, wave, opinion_officer):
    m = known(wave, bureau)
    Wave.objects.filter(pk=wave.pk).update(state=Wave.State.CLOSED, closed_at=sh(9))
    with pytest.raises(Conflict, match="已于 11月20日 09:00 结束调查"):
        desk.record_attempt(actor=opinion_officer, member=m, disposition="busy", now=NOW)
    with pytest.raises(Conflict, match="结束调查"):
        desk.record_response(actor=opinion_officer, member=m, answers=ANSWERS, now=NOW)


def test_only_the_bureaus_interviewers_record(bureau, wave, handler):
    m = known(wave, bureau)
    with pytest.raises(NotAllowed):
        desk.record_attempt(actor=handler, member=m, disposition="busy", now=NOW)
    with pytest.raises(NotAllowed):
        desk.record_response(actor=other_bureau_officer(), member=m, answers=ANSWERS, now=NOW)


# --- interviews ------------------------------------------------------------------------------


def test_an_interview_with_the_frames_respondent(bureau, wave, opinion_officer):
    m = known(wave, bureau)
    desk.record_attempt(actor=opinion_officer, member=m, disposition="no_answer", now=sh(8))
    result = desk.record_response(actor=opinion_officer, member=m,
                                  answers={**ANSWERS, "police_rating": "9"},
                                  expected_version=2, now=NOW)
    assert not result.screened_out
    r = Response.objects.get(member=m)
    assert (r.wave_id, r.mode, r.area_id, r.station_id, r.sex, r.age_group, r.interviewer_id,
            r.completed_at, r.weight) == (wave.pk, "phone", bureau.township.pk,
                                          bureau.station.pk, "F", "40-49", opinion_officer.pk,
                                          NOW, None)
    assert r.answers == ANSWERS
    m.refresh_from_db()
    assert (m.state, m.outcome, m.attempts, m.closed_at, m.version, m.assigned_to) == (
        "done", "I", 2, NOW, 3, None)
    assert list(SurveyAttempt.objects.filter(member=m).values_list(
        "number", "disposition", "outcome")) == [(1, "no_answer", "UH"), (2, "answered", "I")]
    event = events_for(m).order_by("-id").first()
    assert (event.action, event.from_state, event.to_state) == ("survey.response", "retry",
                                                                "done")
    assert event.payload == {"wave": wave.pk, "response": r.pk, "mode": "phone",
                             "area": bureau.township.pk, "station": bureau.station.pk,
                             "attempt": 2, "questions": 10}
    assert verify_chain().ok


def test_a_generated_number_is_asked_township_sex_and_age(bureau, wave, opinion_officer):
    m = generated(wave)
    result = desk.record_response(actor=opinion_officer, member=m, answers=ANSWERS,
                                  area=str(bureau.other_township.pk), sex="M",
                                  age_group="60+", now=NOW)
    r = result.response
    assert (r.area, r.station, r.sex, r.age_group) == (bureau.other_township,
                                                       bureau.other_station, "M", "60+")


def test_every_problem_of_an_interview_at_once_and_nothing_written(bureau, wave,
                                                                   opinion_officer):
    m = generated(wave)
    before = Event.objects.count()
    with pytest.raises(AnswerErrors) as caught:
        desk.record_response(actor=opinion_officer, member=m,
                             answers={**ANSWERS, "security": None, "police_rating": 12},
                             sex="X", now=NOW)
    assert caught.value.problems == {
        "area": "请选择受访者所在的乡镇（街道）", "sex": "请选择受访者性别",
        "age_group": "请选择受访者年龄段", "security": "第1题为必答题，请选择",
        "police_rating": "第8题：请打 0 到 10 之间的整数分"}
    m.refresh_from_db()
    assert (m.state, m.attempts, m.version) == ("pending", 0, 1)
    assert Response.objects.count() == 0 and SurveyAttempt.objects.count() == 0
    assert Event.objects.count() == before


def test_the_township_must_be_one_of_the_bureaus(bureau, wave, opinion_officer):
    stranger = other_bureau_officer()
    foreign = stranger.memberships.first().unit.children.first().areas.first()
    m = generated(wave)
    for area, text in ((foreign.pk, "所选乡镇（街道）不在测试县公安局辖区内"),
                       (bureau.village.pk, "所选乡镇（街道）不在测试县公安局辖区内"),
                       ("东城镇", "所选乡镇（街道）不在测试县公安局辖区内")):
        with pytest.raises(AnswerErrors) as caught:
            desk.record_response(actor=opinion_officer, member=m, answers=ANSWERS, area=area,
                                 sex="M", age_group="30-39", now=NOW)
        assert caught.value.problems == {"area": text}
    framed = known(wave, bureau)
    with pytest.raises(AnswerErrors) as caught:
        desk.record_response(actor=opinion_officer, member=framed, answers=ANSWERS,
                             area=bureau.other_township, now=NOW)
    assert caught.value.problems == {
        "area": "样本框已记录该号码属于东城镇，不能改为其他乡镇（街道）"}


def test_a_full_quota_ends_the_interview_screened_out(bureau, wave, opinion_officer):
    for _ in range(2):
        factories.response(wave, bureau.township, ANSWERS)
    m = generated(wave)
    result = desk.record_response(actor=opinion_officer, member=m, answers={},
                                  area=bureau.township.pk, sex="F", age_group="18-29",
                                  now=NOW)
    assert result.screened_out and result.response is None
    m.refresh_from_db()
    assert (m.state, m.outcome, m.attempts, m.closed_at) == ("closed", "NE", 1, NOW)
    attempt = SurveyAttempt.objects.get(member=m)
    assert (attempt.disposition, attempt.outcome, attempt.note) == (
        "quota_full", "NE", "东城镇配额已满")
    assert Response.objects.filter(member=m).count() == 0
    event = events_for(m).get()
    assert event.action == "survey.screened_out"
    assert event.payload["aapor_code"] == "4.80" and event.payload["area"] == bureau.township.pk
    assert desk.disposition_label("quota_full") == "配额已满"


def test_a_second_response_is_a_conflict_naming_who_finished_it(bureau, wave,
                                                                opinion_officer, colleague):
    m = known(wave, bureau)
    desk.record_response(actor=opinion_officer, member=m, answers=ANSWERS, now=NOW)
    with pytest.raises(Conflict) as caught:
        desk.record_response(actor=colleague, member=m, answers=ANSWERS, now=NOW)
    assert str(caught.value) == ("该样本已于 11月20日 10:00 由孙民意完成问卷（电话访问），"
                                 "不能重复登记。")
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_interviews_racing_for_the_last_place_of_a_quota(bureau, opinion_officer):
    colleague = bureau.member(Role.OPINION_OFFICER, bureau.bureau)
    w = factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)
    Quota.objects.create(wave=w, area=bureau.township, target=1)
    a, b = known(w, bureau), known(w, bureau)
    results = race(
        lambda: desk.record_response(actor=opinion_officer, member=a.pk, answers=ANSWERS,
                                     now=NOW),
        lambda: desk.record_response(actor=colleague, member=b.pk, answers=ANSWERS, now=NOW))
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert sorted(r[1].screened_out for r in results) == [False, True]
    assert Response.objects.filter(wave=w).count() == 1
    assert sorted(FrameMember.objects.filter(wave=w).values_list("state", flat=True)) == [
        "closed", "done"]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_two_interviewers_recording_one_number_at_once(bureau, opinion_officer):
    colleague = bureau.member(Role.OPINION_OFFICER, bureau.bureau)
    w = factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)
    m = known(w, bureau)
    results = race(
        lambda: desk.record_response(actor=opinion_officer, member=m.pk, answers=ANSWERS,
                                     now=NOW),
        lambda: desk.record_attempt(actor=colleague, member=m.pk, disposition="refused",
                                    now=NOW))
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, Conflict) and "不能" in str(error)
    assert SurveyAttempt.objects.filter(member=m).count() == 1
    assert Event.objects.filter(action__in=["survey.response", "survey.attempt"]).count() == 1


def test_progress_by_township_against_quota(bureau, wave, opinion_officer):
    factories.response(wave, bureau.township, ANSWERS)
    factories.response(wave, bureau.township, ANSWERS, mode="web")
    factories.response(wave, bureau.other_township, ANSWERS)
    known(wave, bureau, area=bureau.other_township)
    known(wave, bureau, area=bureau.other_township, state=FrameMember.State.RETRY,
          next_attempt_at=sh(11))
    generated(wave)
    p = desk.wave_progress(wave, now=NOW)
    rows = [(t.area.name if t.area else None, t.target, t.phone, t.web, t.open, t.full,
             t.percent) for t in p.townships]
    assert rows == [("东城镇", 2, 1, 1, 0, True, 100), ("西城镇", 2, 1, 0, 2, False, 50),
                    (None, None, 0, 0, 1, False, None)]
    assert p.counts == {"total": 6, "due": 2, "later": 1, "done": 3, "closed": 0,
                        "target": 4, "responses": 3}


def test_the_event_labels_are_registered():
    desk.register()
    assert action_label("survey.attempt") == "登记民调拨打结果"
    assert action_label("survey.screened_out") == "配额已满，终止访问"


def test_survey_wording_of_the_callback_desks_codes():
    by_code = {d.code: d for d in desk.dispositions()}
    assert list(by_code) == list(rules.DISPOSITIONS)
    assert by_code["not_person"].label == "不符合条件"
    assert by_code["no_answer"].label == "无人接听" and by_code["no_answer"].key == "2"
    assert rules.DISPOSITIONS["not_person"].label == "非本人"  # the callback desk's unchanged


# --- pages -----------------------------------------------------------------------------------


def test_the_desk_page(client, bureau, wave, opinion_officer):
    factories.response(wave, bureau.township, ANSWERS)
    known(wave, bureau)
    client.force_login(opinion_officer)
    with clock(NOW):
        response = client.get(reverse("surveys:desk"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="desk-next"' in html and wave.name in html
    assert html.count('data-testid="quota-row"') == 2
    assert "1/2" in html and 'data-testid="count-due">1<' in html


def test_the_desk_is_closed_to_others(client, bureau, wave, handler, leader):
    m = known(wave, bureau)
    for user in (handler, leader):
        client.force_login(user)
        assert client.get(reverse("surveys:desk")).status_code == 403
        assert client.get(reverse("surveys:interview", args=[m.pk])).status_code == 403
        assert client.post(reverse("surveys:desk_next")).status_code == 403
        assert client.post(reverse("surveys:interview_reveal", args=[m.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("surveys:desk")).status_code == 302


def test_another_bureaus_interviewer_gets_404_on_a_member(client, bureau, wave):
    m = known(wave, bureau)
    client.force_login(other_bureau_officer())
    for name in ("surveys:interview_reveal", "surveys:interview_attempt",
                 "surveys:interview_response", "surveys:interview_send_link",
                 "surveys:interview_release"):
        assert client.post(reverse(name, args=[m.pk]), {"disposition": "busy",
                                                        "version": 1}).status_code == 404
    assert client.get(reverse("surveys:interview", args=[m.pk])).status_code == 404
    assert client.post(reverse("surveys:desk_next"), {"wave": wave.pk}).status_code == 404
    m.refresh_from_db()
    assert (m.attempts, m.assigned_to) == (0, None)


def test_take_next_opens_the_interview_page(client, bureau, wave, opinion_officer):
    m = known(wave, bureau, phone="13912345678")
    client.force_login(opinion_officer)
    with clock(NOW):
        response = client.post(reverse("surveys:desk_next"), {"wave": wave.pk})
        assert response.status_code == 302
        assert response["Location"] == reverse("surveys:interview", args=[m.pk])
        page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "139****5678" in html and "13912345678" not in html
    assert 'data-dispose-key="2"' in html and 'data-key="1"' in html
    assert 'data-testid="question-antigang_sat"' in html and "data-show-if=" in html
    assert 'data-testid="screener-area"' not in html  # the frame knows the township
    with clock(NOW):
        revealed = client.post(reverse("surveys:interview_reveal", args=[m.pk]))
    assert "13912345678" in revealed.content.decode()
    assert events_for(m).filter(action="survey.reveal").count() == 1


def test_nothing_to_take(client, bureau, wave, opinion_officer):
    client.force_login(opinion_officer)
    with clock(NOW):
        response = client.post(reverse("surveys:desk_next"), follow=True)
    assert "目前没有待拨打的号码" in response.content.decode()
    with clock(sh(22)):
        response = client.post(reverse("surveys:desk_next"), follow=True)
    assert "现在不在访问时段" in response.content.decode()


def post_answers(answers: dict, **extra: Any) -> dict:
    data = {f"q_{k}": v for k, v in answers.items()}
    data.update(extra)
    return data


def test_answering_by_the_page_and_going_on_to_the_next(client, bureau, wave,
                                                        opinion_officer):
    m = generated(wave)
    following = known(wave, bureau)
    client.force_login(opinion_officer)
    with clock(NOW):
        desk.claim_next_member(actor=opinion_officer)
        page = client.get(reverse("surveys:interview", args=[m.pk])).content.decode()
        assert 'data-testid="screener-area"' in page and 'data-testid="screener-sex"' in page
        response = client.post(
            reverse("surveys:interview_response", args=[m.pk]),
            post_answers(ANSWERS, version=1, area=bureau.other_township.pk, sex="F",
                         age_group="50-59"))
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:interview", args=[following.pk])
    r = Response.objects.get(member=m)
    assert (r.area, r.sex, r.age_group, r.answers["police_rating"], r.answers["problems"]) == (
        bureau.other_township, "F", "50-59", 9, ["盗窃"])


def test_bad_answers_on_the_page_are_shown_and_nothing_written(client, bureau, wave,
                                                               opinion_officer):
    m = generated(wave)
    client.force_login(opinion_officer)
    with clock(NOW):
        response = client.post(reverse("surveys:interview_response", args=[m.pk]),
                               post_answers({**ANSWERS, "security": ""}, version=1, sex="M"))
    html = response.content.decode()
    assert response.status_code == 400
    for text in ("请选择受访者所在的乡镇（街道）", "请选择受访者年龄段", "第1题为必答题，请选择"):
        assert text in html
    assert 'value="M" data-key="1" checked' in html  # what was entered is kept
    assert Response.objects.count() == 0 and SurveyAttempt.objects.count() == 0


def test_a_disposition_from_the_page(client, bureau, wave, opinion_officer, colleague):
    m = known(wave, bureau)
    client.force_login(opinion_officer)
    with clock(NOW):
        response = client.post(reverse("surveys:interview_attempt", args=[m.pk]),
                               {"disposition": "no_answer", "version": 1}, follow=True)
    assert "已登记「无人接听」，将于 11月20日 12:00 后再拨" in response.content.decode()
    m.refresh_from_db()
    assert (m.state, m.attempts) == ("retry", 1)
    client.force_login(colleague)
    with clock(NOW):
        again = client.post(reverse("surveys:interview_attempt", args=[m.pk]),
                            {"disposition": "busy", "version": 1})
    assert again.status_code == 409 and "请刷新后再登记" in again.content.decode()


def test_sending_a_web_link_from_the_page(client, bureau, wave, opinion_officer):
    m = known(wave, bureau)
    client.force_login(opinion_officer)
    with clock(NOW):
        response = client.post(reverse("surveys:interview_send_link", args=[m.pk]),
                               follow=True)
    assert "已向 138****" in response.content.decode()
    assert m.web_links.count() == 1
