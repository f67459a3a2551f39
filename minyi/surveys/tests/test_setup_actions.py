"""The set-up actions: questions edited in place or, once frozen, as a new version; skip rules
checked with clear messages; waves changed, given quotas, opened and closed, each with its
event; random numbers added to a frame with their seed recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from minyi.core.audit import verify_chain
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orgs.models import Role
from minyi.surveys import actions, frames
from minyi.surveys.actions import clean_question, closing_outcome
from minyi.surveys.models import FrameMember, QuestionnaireVersion, Quota, Wave
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)


@pytest.fixture
def version(bureau, opinion_officer) -> QuestionnaireVersion:
    return factories.questionnaire(bureau, opinion_officer).latest_version()


def codes(version: QuestionnaireVersion) -> list[str]:
    return list(version.questions.order_by("position").values_list("code", flat=True))


def events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("id"))


def freeze(version: QuestionnaireVersion) -> None:
    QuestionnaireVersion.objects.filter(pk=version.pk).update(frozen_at=NOW)
    version.refresh_from_db()


# --- questions ------------------------------------------------------------------------------


def test_a_version_not_yet_frozen_is_edited_in_place(opinion_officer, version):
    question = actions.update_question(
        actor=opinion_officer, version=version, code="sat_traffic", kind="scale",
        text="您对本地交通秩序满意吗？", options=["满意", "基本满意", "不满意"], required=True)
    assert question.version == version and version.questionnaire.versions.count() == 1
    assert (question.text, question.options, question.position) == (
        "您对本地交通秩序满意吗？", ["满意", "基本满意", "不满意"], 6)
    [event] = events("survey.question_change")
    assert event.object_id == str(version.pk)
    assert event.payload["before"]["options"] == ["满意", "基本满意", "不满意", "不清楚"]
    assert event.payload["after"]["text"] == "您对本地交通秩序满意吗？"
    assert event.payload["copied_from"] is None
    assert not events("survey.version_create")


def test_a_frozen_version_is_copied_with_the_change(opinion_officer, version):
    freeze(version)
    added = actions.add_question(
        actor=opinion_officer, version=version, code="sat_window", kind="scale",
        text="您对派出所窗口服务满意吗？", options=["满意", "基本满意", "不满意"], position=4)
    new = added.version
    assert new.number == 2 and not new.is_frozen and new.created_by == opinion_officer
    assert new.note == "由第1版修改：新增题目 sat_window"
    assert codes(new) == ["security", "sat_police", "sat_station", "sat_window",
                          "antigang_aware", "antigang_sat", "sat_traffic", "participation",
                          "police_rating", "problems", "suggestion"]
    # The copy keeps every question as it was, skip rule included; the frozen one is unchanged.
    assert new.questions.get(code="antigang_sat").show_if == {
        "question": "antigang_aware", "in": ["知道"]}
    assert len(codes(version)) == 10 and "sat_window" not in codes(version)
    [made] = events("survey.version_create")
    assert made.object_id == str(new.pk) and made.payload["from_version"] == 1
    [event] = events("survey.question_add")
    assert event.object_id == str(new.pk)
    assert (event.payload["version"], event.payload["copied_from"]) == (2, 1)
    # Further edits of version 2 happen in place: it is not frozen.
    again = actions.move_question(actor=opinion_officer, version=new, code="sat_window",
                                  offset=-1)
    assert again.version == new and again.position == 3
    assert version.questionnaire.versions.count() == 2
    assert verify_chain().ok


def test_editing_a_frozen_old_version_numbers_the_copy_after_the_last(opinion_officer,
                                                                     version):
    freeze(version)
    second = actions.remove_question(actor=opinion_officer, version=version, code="suggestion")
    assert second.number == 2
    third = actions.remove_question(actor=opinion_officer, version=version, code="problems")
    assert third.number == 3
    assert "suggestion" in codes(third) and "problems" not in codes(third)


@pytest.mark.parametrize(("show_if", "message"), [
    ({"question": "suggestion", "in": ["x"]},
     "第4题（new_q）的跳题条件引用的「suggestion」是第11题，不在本题之前；跳题条件只能引用前面的题目"),
    ({"question": "nope", "in": ["x"]}, "第4题（new_q）的跳题条件引用的题目「nope」不存在"),
    ({"question": "problems", "in": ["盗窃"]}, None),
    ({"question": "security", "in": ["很安全", "满意"]},
     "第4题（new_q）的跳题条件中的选项「满意」不是第1题「security」的选项"
     "（现有选项：很安全、安全、基本安全、不太安全、不安全）"),
])
def test_skip_rules_must_name_an_earlier_single_or_scale_question_and_its_options(
        opinion_officer, version, show_if, message):
    with pytest.raises(InvalidInput) as caught:
        actions.add_question(actor=opinion_officer, version=version, code="new_q",
                             kind="single", text="新题", options=["是", "否"], show_if=show_if,
                             position=4)
    if message is None:  # a multiple-choice question named: a later one, and not single/scale
        assert "不在本题之前" in str(caught.value)
    else:
        assert str(caught.value) == message
    assert len(codes(version)) == 10 and not events("survey.question_add")


def test_a_rule_on_a_multiple_choice_question_is_refused_with_its_kind(opinion_officer,
                                                                      version):
    with pytest.raises(InvalidInput) as caught:
        actions.add_question(actor=opinion_officer, version=version, code="theft_detail",
                             kind="text", text="请说明被盗情况",
                             show_if={"question": "problems", "in": ["盗窃"]})
    assert str(caught.value) == ("第11题（theft_detail）的跳题条件引用的第9题「problems」是多选题；"
                                 "跳题条件只能引用单选题或等级量表题")


def test_changes_that_break_a_later_rule_are_refused(opinion_officer, version):
    with pytest.raises(InvalidInput, match="第5题（antigang_sat）的跳题条件中的选项「知道」"
                                           "不是第4题「antigang_aware」的选项"):
        actions.update_question(actor=opinion_officer, version=version, code="antigang_aware",
                                kind="single", text="您听说过扫黑除恶吗？",
                                options=["听说过", "没听说过"])
    with pytest.raises(InvalidInput, match="第5题（antigang_sat）的跳题条件引用了本题"):
        actions.remove_question(actor=opinion_officer, version=version, code="antigang_aware")
    with pytest.raises(InvalidInput, match="不在本题之前"):
        actions.move_question(actor=opinion_officer, version=version, code="antigang_sat",
                              offset=-1)
    with pytest.raises(InvalidInput, match="是文字题；跳题条件只能引用单选题或等级量表题"):
        actions.update_question(actor=opinion_officer, version=version, code="antigang_aware",
                                kind="text", text="您听说过扫黑除恶吗？")
    assert codes(version)[3:5] == ["antigang_aware", "antigang_sat"]


def test_question_fields_are_cleaned_with_chinese_messages():
    base = {"code": "q1", "kind": "multiple", "text": " 哪些？ ", "options": ["a", " b ", ""],
            "max_choices": "2", "required": False}
    assert clean_question(base) == {"code": "q1", "kind": "multiple", "text": "哪些？",
                                    "options": ["a", "b"], "required": False, "show_if": {},
                                    "max_choices": 2}
    rating = clean_question({**base, "kind": "rating", "options": ["x"], "max_choices": 3})
    assert (rating["options"], rating["max_choices"]) == ([], None)
    for bad, message in [
        ({"code": "Q 1"}, "题目代码「Q 1」不合要求"),
        ({"kind": "grid"}, "未知的题型「grid」"),
        ({"text": " "}, "请填写题目内容"),
        ({"options": ["a"]}, "至少要有两个选项"),
        ({"options": ["a", "a"]}, "选项「a」重复"),
        ({"max_choices": 3}, "“最多选几项”应在 1 到 2（选项数）之间"),
        ({"show_if": {"question": "x", "in": []}}, "跳题条件至少要选一个选项"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            clean_question({**base, **bad})


def test_code_clashes_order_and_moves(opinion_officer, version):
    with pytest.raises(InvalidInput, match="本版问卷已有代码为「security」的题目"):
        actions.add_question(actor=opinion_officer, version=version, code="security",
                             kind="text", text="重复")
    with pytest.raises(InvalidInput, match="该题已在最前面"):
        actions.move_question(actor=opinion_officer, version=version, code="security",
                              offset=-1)
    order = codes(version)
    order[0], order[1] = order[1], order[0]
    actions.reorder_questions(actor=opinion_officer, version=version, codes=order)
    assert codes(version)[:2] == ["sat_police", "security"]
    with pytest.raises(InvalidInput, match="应包含本版问卷的每一道题"):
        actions.reorder_questions(actor=opinion_officer, version=version, codes=order[:-1])
    assert [e.payload.get("order") for e in events("survey.question_move")] == [order]


def test_only_managers_change_questionnaires(bureau, handler, version):
    with pytest.raises(NotAllowed, match="民意专员或系统管理员"):
        actions.remove_question(actor=handler, version=version, code="suggestion")
    leader = bureau.member(Role.BUREAU_LEADER, bureau.bureau)
    with pytest.raises(NotAllowed):
        actions.update_questionnaire(actor=leader, questionnaire=version.questionnaire,
                                     name="新名称")
    assert len(codes(version)) == 10


def test_a_questionnaire_is_renamed_with_its_event(opinion_officer, version):
    made = actions.update_questionnaire(actor=opinion_officer,
                                        questionnaire=version.questionnaire,
                                        name=" 2027年问卷 ", description="全县通用")
    assert (made.name, made.description) == ("2027年问卷", "全县通用")
    [event] = events("survey.questionnaire_change")
    assert event.before["name"] == "群众安全感满意度调查问卷"
    assert event.after == {"name": "2027年问卷", "description": "全县通用"}


# --- waves ----------------------------------------------------------------------------------


@pytest.fixture
def wave(bureau, opinion_officer, version) -> Wave:
    return factories.wave(bureau, opinion_officer, version=version)


def ready(wave: Wave, bureau, actor) -> None:
    actions.set_quotas(actor=actor, wave=wave, targets={bureau.township.pk: 300})
    factories.member(wave, area=bureau.township)


def test_quotas_are_set_for_the_bureaus_townships_in_one_go(bureau, opinion_officer, wave):
    quotas = actions.set_quotas(actor=opinion_officer, wave=wave, targets={
        bureau.township.pk: 300, bureau.other_township: 200})
    assert [(q.area, q.target) for q in quotas] == [(bureau.township, 300),
                                                    (bureau.other_township, 200)]
    actions.set_quotas(actor=opinion_officer, wave=wave, targets={
        bureau.township.pk: 350, bureau.other_township.pk: 0})
    assert dict(Quota.objects.filter(wave=wave).values_list("area__name", "target")) == {
        "东城镇": 350}
    first, second = events("survey.quotas_set")
    assert (first.before, first.after, first.payload) == (
        {}, {"东城镇": 300, "西城镇": 200}, {"total": 500})
    assert (second.before, second.after) == ({"东城镇": 300, "西城镇": 200}, {"东城镇": 350})
    # The same quotas again change nothing and record nothing.
    actions.set_quotas(actor=opinion_officer, wave=wave, targets={bureau.township.pk: 350})
    assert len(events("survey.quotas_set")) == 2
    with pytest.raises(InvalidInput, match="配额只能设在测试县公安局辖区的乡镇（街道）"):
        actions.set_quotas(actor=opinion_officer, wave=wave, targets={bureau.village.pk: 10})
    with pytest.raises(InvalidInput, match="目标样本量应在 0 到 100000 之间"):
        actions.set_quotas(actor=opinion_officer, wave=wave, targets={bureau.township.pk: -1})


def test_open_needs_a_quota_and_a_frame(bureau, opinion_officer, wave):
    with pytest.raises(InvalidInput, match="请先设置至少一个乡镇（街道）的配额"):
        actions.open_wave(actor=opinion_officer, wave=wave)
    actions.set_quotas(actor=opinion_officer, wave=wave, targets={bureau.township.pk: 300})
    with pytest.raises(InvalidInput, match="样本框中还没有号码：请先导入样本框或随机生成号码"):
        actions.open_wave(actor=opinion_officer, wave=wave)
    wave.refresh_from_db()
    assert wave.state == Wave.State.DRAFT and not wave.version.is_frozen
    assert not events("survey.wave_open")


def test_open_freezes_the_version_and_records_it(bureau, opinion_officer, wave):
    ready(wave, bureau, opinion_officer)
    opened = actions.open_wave(actor=opinion_officer, wave=wave, now=NOW)
    assert (opened.state, opened.opened_at) == (Wave.State.FIELDING, NOW)
    wave.version.refresh_from_db()
    assert wave.version.frozen_at == NOW
    [event] = events("survey.wave_open")
    assert (event.from_state, event.to_state) == ("draft", "fielding")
    assert event.payload == {"version": 1, "froze_version": True, "quota_total": 300,
                             "frame": 1}
    with pytest.raises(Conflict, match="当前为「调查中」"):
        actions.open_wave(actor=opinion_officer, wave=opened)
    # The next wave on the same version finds it frozen already and keeps its time.
    second = factories.wave(bureau, opinion_officer, version=wave.version, name="第二期",
                            starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31))
    ready(second, bureau, opinion_officer)
    actions.open_wave(actor=opinion_officer, wave=second)
    wave.version.refresh_from_db()
    assert wave.version.frozen_at == NOW
    assert events("survey.wave_open")[1].payload["froze_version"] is False


def test_close_ends_every_open_number_by_aapor_rules(bureau, opinion_officer, wave):
    ready(wave, bureau, opinion_officer)  # one pending number, never dialled
    actions.open_wave(actor=opinion_officer, wave=wave, now=NOW)
    no_answer = factories.member(wave, state=FrameMember.State.RETRY, attempts=2, outcome="UH",
                                 assigned_to=opinion_officer, assigned_at=NOW)
    appointment = factories.member(wave, state=FrameMember.State.RETRY, attempts=1,
                                   outcome="NC")
    unclassed = factories.member(wave, state=FrameMember.State.RETRY, attempts=1)
    refused = factories.member(wave, state=FrameMember.State.CLOSED, attempts=1, outcome="R")
    done = factories.response(wave, bureau.township, {"security": "安全"}).member
    closed = actions.close_wave(actor=opinion_officer, wave=wave, now=NOW)
    assert (closed.state, closed.closed_at) == (Wave.State.CLOSED, NOW)
    members = {m.pk: m for m in FrameMember.objects.filter(wave=wave)}
    never = FrameMember.objects.get(wave=wave, attempts=0, state=FrameMember.State.CLOSED)
    assert (never.outcome, never.closed_at) == ("UH", NOW)
    assert members[no_answer.pk].outcome == "UH" and members[no_answer.pk].assigned_to is None
    assert members[appointment.pk].outcome == "NC"
    assert members[unclassed.pk].outcome == "NC"
    assert members[unclassed.pk].version == unclassed.version + 1
    assert (members[refused.pk].outcome, members[refused.pk].closed_at) == ("R", None)
    assert (members[done.pk].state, members[done.pk].outcome) == ("done", "I")
    assert not FrameMember.objects.filter(wave=wave, state__in=("pending", "retry")).exists()
    [event] = events("survey.wave_close")
    assert (event.from_state, event.to_state) == ("fielding", "closed")
    assert event.payload == {"closed_members": 4, "outcomes": {"UH": 2, "NC": 2}}
    with pytest.raises(Conflict, match="只有调查中的调查可以结束"):
        actions.close_wave(actor=opinion_officer, wave=closed)


def test_closing_outcome_rule():
    assert closing_outcome(attempts=0, outcome="") == "UH"
    assert closing_outcome(attempts=0, outcome="NC") == "UH"
    assert closing_outcome(attempts=3, outcome="UH") == "UH"
    assert closing_outcome(attempts=1, outcome="NC") == "NC"
    assert closing_outcome(attempts=1, outcome="") == "NC"
    assert closing_outcome(attempts=1, outcome="I") == "NC"


def test_a_wave_changes_within_its_state(bureau, opinion_officer, wave):
    changed = actions.update_wave(actor=opinion_officer, wave=wave, name="四季度民调",
                                  starts_on=date(2026, 10, 8), ends_on=wave.ends_on,
                                  version=wave.version, web_enabled=False, max_attempts=5)
    assert (changed.name, changed.starts_on, changed.web_enabled, changed.max_attempts) == (
        "四季度民调", date(2026, 10, 8), False, 5)
    [event] = events("survey.wave_change")
    assert event.before == {"name": "2026年第四季度群众安全感满意度调查",
                            "starts_on": "2026-10-01", "web_enabled": True, "max_attempts": 3}
    ready(wave, bureau, opinion_officer)
    actions.open_wave(actor=opinion_officer, wave=wave)
    with pytest.raises(InvalidInput, match="调查已开始，不能再修改开始日期"):
        actions.update_wave(actor=opinion_officer, wave=wave, name="四季度民调",
                            starts_on=date(2026, 10, 1), ends_on=wave.ends_on,
                            version=wave.version, web_enabled=False, max_attempts=5)
    later = actions.update_wave(actor=opinion_officer, wave=wave, name="四季度民调",
                                starts_on=date(2026, 10, 8), ends_on=date(2027, 1, 15),
                                version=wave.version, web_enabled=False, max_attempts=5)
    assert later.ends_on == date(2027, 1, 15)
    with pytest.raises(InvalidInput, match="结束日期不能早于开始日期"):
        actions.update_wave(actor=opinion_officer, wave=wave, name="x",
                            starts_on=date(2026, 10, 8), ends_on=date(2026, 10, 1),
                            version=wave.version, web_enabled=False, max_attempts=5)


def test_only_managers_run_waves(bureau, handler, wave):
    for call in (lambda: actions.open_wave(actor=handler, wave=wave),
                 lambda: actions.set_quotas(actor=handler, wave=wave,
                                            targets={bureau.township.pk: 1}),
                 lambda: actions.generate_frame(actor=handler, wave=wave, prefixes="139",
                                                count=1, seed=1)):
        with pytest.raises(NotAllowed, match="只有测试县公安局的民意专员或系统管理员"):
            call()
    assert not Quota.objects.exists() and not FrameMember.objects.exists()


# --- random numbers into the frame ----------------------------------------------------------


def test_generated_numbers_join_the_frame_with_the_seed_recorded(opinion_officer, wave):
    made = actions.generate_frame(actor=opinion_officer, wave=wave, prefixes="1390571, 139",
                                  count=5, seed=20261001)
    assert made == actions.FrameGeneration(prefixes=["139"], seed=20261001, created=5)
    members = list(FrameMember.objects.filter(wave=wave).order_by("pk"))
    assert [m.phone for m in members] == frames.generate_numbers("139", 5, seed=20261001)
    assert {(m.origin, m.area_id, m.state) for m in members} == {("generated", None,
                                                                   "pending")}
    [event] = events("survey.frame_generate")
    assert event.payload == {"prefixes": ["139"], "count": 5, "seed": 20261001, "created": 5}


def test_generated_numbers_never_repeat_the_frames(opinion_officer, wave):
    factories.member(wave, phone="13905711235")
    actions.generate_frame(actor=opinion_officer, wave=wave, prefixes="1390571123", count=9,
                           seed=4)
    phones = sorted(m.phone for m in FrameMember.objects.filter(wave=wave))
    assert phones == [f"1390571123{d}" for d in range(10)]
    with pytest.raises(InvalidInput, match="号段内可用的号码不足 1 个"):
        actions.generate_frame(actor=opinion_officer, wave=wave, prefixes="1390571123",
                               count=1, seed=5)
    with pytest.raises(InvalidInput, match="不是手机号段"):
        actions.generate_frame(actor=opinion_officer, wave=wave, prefixes="0571", count=1)
    assert len(events("survey.frame_generate")) == 1


def test_a_seed_is_drawn_when_none_is_given(opinion_officer, wave):
    made = actions.generate_frame(actor=opinion_officer, wave=wave, prefixes="1860571",
                                  count=3)
    assert 0 <= made.seed < 10 ** 9
    phones = [m.phone for m in FrameMember.objects.filter(wave=wave).order_by("pk")]
    assert phones == frames.generate_numbers("1860571", 3, seed=made.seed)
    assert events("survey.frame_generate")[0].payload["seed"] == made.seed


def test_a_closed_wave_takes_no_numbers_and_only_a_draft_frame_is_cleared(
        bureau, opinion_officer, wave):
    actions.generate_frame(actor=opinion_officer, wave=wave, prefixes="139", count=3, seed=1)
    assert actions.clear_frame(actor=opinion_officer, wave=wave) == 3
    assert events("survey.frame_clear")[0].payload == {"removed": 3}
    assert not FrameMember.objects.filter(wave=wave).exists()
    closed = factories.wave(bureau, opinion_officer, state=Wave.State.CLOSED, name="已结束")
    with pytest.raises(Conflict, match=r"^「已结束」已结束，不能再添加号码$"):
        actions.generate_frame(actor=opinion_officer, wave=closed, prefixes="139", count=1)
    with pytest.raises(Conflict, match="只有准备中的调查可以清空样本框"):
        actions.clear_frame(actor=opinion_officer, wave=closed)
