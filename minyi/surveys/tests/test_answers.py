"""Answers checked against a questionnaire version: every kind, the skip rules, every message
(named by question number), and the form's view of the questions."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from minyi.core.errors import InvalidInput
from minyi.surveys import answers
from minyi.surveys.answers import AnswerErrors, clean_answers
from minyi.surveys.models import Question
from minyi.surveys.tests import factories

SAT = ["满意", "基本满意", "不满意", "不清楚"]


def q(position: int, code: str, kind: str, options: list | None = None, *,
      required: bool = True, show_if: dict | None = None,
      max_choices: int | None = None) -> Question:
    return Question(position=position, code=code, kind=kind, text=f"题目{position}",
                    options=options or [], required=required, show_if=show_if or {},
                    max_choices=max_choices)


QUESTIONS = [
    q(1, "security", "scale", ["很安全", "安全", "基本安全", "不太安全", "不安全"]),
    q(2, "aware", "single", ["知道", "不知道"]),
    q(3, "aware_sat", "scale", SAT, show_if={"question": "aware", "in": ["知道"]}),
    q(4, "aware_why", "text", show_if={"question": "aware_sat", "in": ["不满意"]}),
    q(5, "rating", "rating"),
    q(6, "problems", "multiple", ["盗窃", "诈骗", "抢劫", "纠纷"], max_choices=2),
    q(7, "suggestion", "text", required=False),
    q(8, "mood", "rating", required=False),
]

GOOD = {"security": "安全", "aware": "知道", "aware_sat": "满意", "rating": "8",
        "problems": ["诈骗", "盗窃", "诈骗"], "suggestion": "  多巡逻  "}


def problems_of(raw: dict) -> dict[str, str]:
    with pytest.raises(AnswerErrors) as caught:
        clean_answers(QUESTIONS, raw)
    return caught.value.problems


def test_good_answers_are_kept_in_question_order_and_normal_form():
    cleaned = clean_answers(QUESTIONS, GOOD)
    assert cleaned == {"security": "安全", "aware": "知道", "aware_sat": "满意", "rating": 8,
                       "problems": ["盗窃", "诈骗"], "suggestion": "多巡逻"}
    assert list(cleaned) == ["security", "aware", "aware_sat", "rating", "problems",
                             "suggestion"]


def test_an_int_rating_and_its_bounds_are_accepted():
    for value, kept in ((0, 0), (10, 10), ("10", 10), (" 0 ", 0)):
        assert clean_answers(QUESTIONS, {**GOOD, "rating": value})["rating"] == kept


def test_a_single_option_string_counts_as_one_choice_of_a_multiple():
    assert clean_answers(QUESTIONS, {**GOOD, "problems": "纠纷"})["problems"] == ["纠纷"]


def test_optional_questions_left_blank_have_no_key():
    raw = {**GOOD, "suggestion": "   ", "mood": "", "problems": []}
    with pytest.raises(AnswerErrors) as caught:
        clean_answers(QUESTIONS, raw)
    # problems (required) is missing; the optional ones are simply absent
    assert caught.value.problems == {"problems": "第6题为必答题，请选择"}
    cleaned = clean_answers(QUESTIONS, {**raw, "problems": ["抢劫"]})
    assert "suggestion" not in cleaned and "mood" not in cleaned


def test_an_answer_to_a_hidden_question_is_dropped():
    cleaned = clean_answers(QUESTIONS, {**GOOD, "aware": "不知道", "aware_sat": "不满意",
                                        "aware_why": "没用"})
    assert "aware_sat" not in cleaned and "aware_why" not in cleaned
    assert cleaned["aware"] == "不知道"


def test_a_rule_on_a_hidden_question_hides_its_follower_too():
    # aware_why follows aware_sat, which is hidden when the person does not know
    cleaned = clean_answers(QUESTIONS, {**GOOD, "aware": "不知道", "aware_why": "x"})
    assert "aware_why" not in cleaned


def test_a_required_visible_question_missing_is_an_error():
    assert problems_of({**GOOD, "aware_sat": None}) == {"aware_sat": "第3题为必答题，请选择"}
    assert problems_of({**GOOD, "aware_sat": "不满意"}) == {
        "aware_why": "第4题为必答题，请填写"}
    assert clean_answers(QUESTIONS, {**GOOD, "aware_sat": "不满意", "aware_why": "没效果"})[
        "aware_why"] == "没效果"


def test_every_message():
    raw = {
        "security": "还行",
        "aware": ["知道", "不知道"],
        "rating": "11",
        "problems": ["盗窃", "诈骗", "抢劫"],
        "suggestion": "长" * 2001,
        "mood": "7.5",
        "age": "30",
    }
    problems = problems_of(raw)
    assert problems == {
        "age": "问卷中没有代码为「age」的题目",
        "security": "第1题：「还行」不是该题的选项",
        "aware": "第2题：只能选一项",
        "rating": "第5题：请打 0 到 10 之间的整数分",
        "problems": "第6题：最多选2项，现在选了3项",
        "suggestion": "第7题：最多 2000 字，现在 2001 字",
        "mood": "第8题：请打 0 到 10 之间的整数分",
    }
    with pytest.raises(InvalidInput) as caught:
        clean_answers(QUESTIONS, raw)
    assert str(caught.value) == "；".join(problems.values())


@pytest.mark.parametrize("rating", [-1, 11, "abc", "7.5", True, 7.0, "８", [7]])
def test_ratings_outside_0_to_10_or_not_whole_numbers_are_refused(rating):
    assert problems_of({**GOOD, "rating": rating}) == {
        "rating": "第5题：请打 0 到 10 之间的整数分"}


def test_the_other_messages_of_each_kind():
    assert problems_of({**GOOD, "security": 3}) == {"security": "第1题：「3」不是该题的选项"}
    assert problems_of({**GOOD, "problems": ["盗窃", "偷狗"]}) == {
        "problems": "第6题：「偷狗」不是该题的选项"}
    assert problems_of({**GOOD, "problems": {"盗窃": 1}}) == {
        "problems": "第6题：回答格式不正确，应为所选选项的列表"}
    assert problems_of({**GOOD, "suggestion": 12}) == {"suggestion": "第7题：回答应为文字"}
    assert problems_of({**GOOD, "rating": ""}) == {"rating": "第5题为必答题，请打分"}
    assert problems_of({}) == {"security": "第1题为必答题，请选择",
                               "aware": "第2题为必答题，请选择",
                               "rating": "第5题为必答题，请打分",
                               "problems": "第6题为必答题，请选择"}


def test_rules_on_multiple_and_rating_questions():
    questions = [
        q(1, "seen", "multiple", ["盗窃", "诈骗", "无"]),
        q(2, "which_fraud", "text", show_if={"question": "seen", "in": ["诈骗"]}),
        q(3, "score", "rating"),
        q(4, "why_low", "text", show_if={"question": "score", "in": [0, 1, 2]}),
    ]
    assert clean_answers(questions, {"seen": ["盗窃"], "score": 5, "which_fraud": "x",
                                     "why_low": "y"}) == {"seen": ["盗窃"], "score": 5}
    with pytest.raises(AnswerErrors) as caught:
        clean_answers(questions, {"seen": ["盗窃", "诈骗"], "score": "1"})
    assert caught.value.problems == {"which_fraud": "第2题为必答题，请填写",
                                     "why_low": "第4题为必答题，请填写"}


def test_the_template_questionnaire(bureau, opinion_officer):
    version = factories.questionnaire(bureau, opinion_officer).latest_version()
    questions = answers.questions_of(version)
    assert [x.position for x in questions] == list(range(1, 11))
    raw = {"security": "很安全", "sat_police": "满意", "sat_station": "基本满意",
           "antigang_aware": "不知道", "antigang_sat": "满意", "sat_traffic": "不清楚",
           "participation": "从未参加", "police_rating": "9",
           "problems": ["交通秩序", "盗窃"]}
    assert clean_answers(questions, raw) == {
        "security": "很安全", "sat_police": "满意", "sat_station": "基本满意",
        "antigang_aware": "不知道", "sat_traffic": "不清楚", "participation": "从未参加",
        "police_rating": 9, "problems": ["盗窃", "交通秩序"]}
    with pytest.raises(AnswerErrors) as caught:
        clean_answers(questions, {**raw, "antigang_aware": "知道",
                                  "problems": ["盗窃", "电信网络诈骗", "抢劫抢夺", "其他"]})
    assert caught.value.problems == {"problems": "第9题：最多选3项，现在选了4项"}
    assert clean_answers(questions, {**raw, "antigang_aware": "知道"})["antigang_sat"] == "满意"


def test_from_post_reads_one_field_per_question():
    data = QueryDict(mutable=True)
    data.update({"q_security": "安全", "q_aware": "知道", "q_rating": "7", "other": "x",
                 "q_suggestion": ""})
    data.setlist("q_problems", ["盗窃", "纠纷"])
    assert answers.from_post(QUESTIONS, data) == {
        "security": "安全", "aware": "知道", "rating": "7", "problems": ["盗窃", "纠纷"],
        "suggestion": ""}


def test_form_questions_carry_keys_values_and_problems():
    shown = answers.form_questions(QUESTIONS, {"security": "安全", "problems": ["诈骗"],
                                               "rating": 8}, {"aware": "第2题为必答题，请选择"})
    first = shown[0]
    assert first.name == "q_security"
    assert [(o.key, o.value, o.checked) for o in first.options] == [
        ("1", "很安全", False), ("2", "安全", True), ("3", "基本安全", False),
        ("4", "不太安全", False), ("5", "不安全", False)]
    assert shown[1].error == "第2题为必答题，请选择"
    assert shown[2].show_if_json == '{"question": "aware", "in": ["知道"]}'
    rating = shown[4]
    assert [o.value for o in rating.options] == [str(n) for n in range(11)]
    assert [o.value for o in rating.options if o.checked] == ["8"]
    assert [o.checked for o in shown[5].options] == [False, True, False, False]
    ten = answers.form_questions([q(1, "many", "single", [f"选项{i}" for i in range(12)])])
    assert [o.key for o in ten[0].options] == [*"1234567890", "a", "b"]
