"""Index definitions (口径): scoring by hand, the one-sentence definitions, JSON validation."""

import math

import numpy as np
import pytest

from minyi.surveys.stats.indices import (
    BUILTIN_RULES,
    EXCLUDED_ANSWERS,
    SATISFACTION3,
    SECURITY5,
    IndexRule,
    builtin_rule,
    score,
)

NAN = math.nan


def same(actual, expected):
    """Element-wise equality that treats NaN as equal to NaN."""
    return np.array_equal(np.asarray(actual), np.asarray(expected, dtype=float), equal_nan=True)


SECURITY_ANSWERS = ["很安全", "安全", "基本安全", "不太安全", "不安全", "不清楚", None, " 安全 "]


def test_top_share_of_security():
    rule = builtin_rule("security_top3")
    assert same(score(rule, SECURITY_ANSWERS), [1, 1, 1, 0, 0, NAN, NAN, 1])


def test_half_middle_of_security():
    rule = builtin_rule("security_half")
    assert same(score(rule, SECURITY_ANSWERS), [1, 1, 0.5, 0, 0, NAN, NAN, 1])


def test_category_scores_of_security_are_divided_by_the_scale():
    rule = builtin_rule("security_score")
    assert same(score(rule, SECURITY_ANSWERS), [1, 0.8, 0.6, 0.3, 0, NAN, NAN, 0.8])


def test_cutoff_on_a_rating():
    rule = builtin_rule("rating_cutoff7")
    answers = [10, 7, 6.5, "8", "0", "不清楚", None, NAN, ""]
    assert same(score(rule, answers), [1, 1, 0, 1, 0, NAN, NAN, NAN, NAN])


def test_an_index_is_the_weighted_mean_of_the_scores():
    # 满意 ×0.5+基本满意: (2·1 + 1·0.5 + 3·0) / (2 + 1 + 3), 不了解 (weight 4) out of the base.
    rule = builtin_rule("satisfaction_half")
    s = score(rule, ["满意", "基本满意", "不满意", "不了解"])
    w = np.array([2.0, 1.0, 3.0, 4.0])
    inside = ~np.isnan(s)
    assert np.average(s[inside], weights=w[inside]) * rule.scale == pytest.approx(250 / 6)


def test_score_accepts_numpy_arrays():
    rule = builtin_rule("satisfaction_top2")
    assert same(score(rule, np.array(["满意", "不满意"], dtype=object)), [1, 0])
    assert score(rule, []).shape == (0,)


def test_an_answer_outside_a_full_scale_is_an_error():
    with pytest.raises(ValueError, match="第2个回答「很满意」不在口径「满意度」的类别中（共1个）"):
        score(builtin_rule("satisfaction_top2"), ["满意", "很满意"])
    with pytest.raises(ValueError, match="「还行」不在口径「安全感得分」的类别中"):
        score(builtin_rule("security_score"), ["还行"])


def test_without_a_bottom_list_other_answers_count_zero():
    rule = IndexRule(kind="top_share", top=("满意",), excluded=())
    assert same(score(rule, ["满意", "还行", "不清楚"]), [1, 0, 0])


@pytest.mark.parametrize("answer, message", [
    ("很好", "第1个回答「很好」不是0到10的评分"),
    (11, "第1个回答「11」不在0到10之间"),
    (-1, "不在0到10之间"),
    (True, "不是0到10的评分"),
])
def test_bad_ratings_are_named(answer, message):
    with pytest.raises(ValueError, match=message):
        score(builtin_rule("rating_cutoff7"), [answer])


def test_describe_in_one_sentence():
    rule = IndexRule(
        kind="half_middle", code="satisfaction_half", name="满意度", version=2,
        top=("满意",), middle=("基本满意",), excluded=("不清楚",),
    )
    assert rule.describe() == (
        "满意度＝（满意＋基本满意×0.5）÷（回答总数－不清楚）×100%，口径 satisfaction_half 第2版。"
    )
    assert builtin_rule("security_top3").describe() == (
        "安全感指数＝（很安全＋安全＋基本安全）÷（回答总数－不清楚－不了解－说不清）×100%，"
        "口径 security_top3 第1版。"
    )
    assert builtin_rule("security_score").describe() == (
        "安全感得分＝（很安全×100＋安全×80＋基本安全×60＋不太安全×30＋不安全×0）"
        "÷（回答总数－不清楚－不了解－说不清），单位为分，口径 security_score 第1版。"
    )
    assert builtin_rule("rating_cutoff7").describe() == (
        "评分7分及以上占比＝评分≥7的人数÷（回答总数－不清楚－不了解－说不清）×100%，"
        "口径 rating_cutoff7 第1版。"
    )
    assert IndexRule(kind="top_share", top=("满意",), excluded=(), scale=1).describe() == (
        "顶端类别占比＝满意÷回答总数，口径 top_share 第1版。"
    )


def test_builtin_definitions():
    assert {code: rule.version for code, rule in BUILTIN_RULES.items()} == {
        "security_top3": 1, "security_half": 1, "security_score": 1,
        "satisfaction_top2": 1, "satisfaction_half": 1, "satisfaction_score": 1,
        "satisfaction5_top2": 1, "satisfaction5_score": 1, "rating_cutoff7": 1,
    }
    assert builtin_rule("security_top3").top == SECURITY5[:3]
    assert builtin_rule("security_score").scores == {
        "很安全": 100, "安全": 80, "基本安全": 60, "不太安全": 30, "不安全": 0,
    }
    assert builtin_rule("satisfaction_score").scores == dict(zip(SATISFACTION3, (100, 60, 0),
                                                                 strict=True))
    assert builtin_rule("rating_cutoff7").cutoff == 7.0
    for rule in BUILTIN_RULES.values():
        assert rule.excluded == EXCLUDED_ANSWERS
    with pytest.raises(ValueError, match="没有内置口径「nope」，可用：security_top3、"):
        builtin_rule("nope")


@pytest.mark.parametrize("code", sorted(BUILTIN_RULES))
def test_json_round_trip(code):
    rule = BUILTIN_RULES[code]
    data = rule.to_json()
    back = IndexRule.from_json(data)
    assert back == rule and hash(back) == hash(rule)
    assert data["version"] == 1 and data["code"] == code


def test_to_json_writes_only_the_fields_that_apply():
    assert builtin_rule("satisfaction_top2").to_json() == {
        "kind": "top_share", "top": ["满意", "基本满意"], "bottom": ["不满意"],
        "excluded": ["不清楚", "不了解", "说不清"], "scale": 100.0,
        "code": "satisfaction_top2", "name": "满意度", "version": 1,
    }


def test_lists_from_json_become_tuples_and_scores_floats():
    rule = IndexRule.from_json({"kind": "category_scores", "scores": {"满意": 100, "不满意": 0},
                                "excluded": ["不清楚"]})
    assert rule.excluded == ("不清楚",)
    assert rule.scores == {"满意": 100.0, "不满意": 0.0}
    assert isinstance(rule.scores["满意"], float)


@pytest.mark.parametrize("data, message", [
    ([], "口径定义必须是 JSON 对象"),
    ({"top": ["满意"]}, "缺少字段 kind"),
    ({"kind": "top_share", "top": ["满意"], "colour": "red"}, "未知字段：colour"),
    ({"kind": "mean"}, "字段 kind 必须是 top_share、half_middle、category_scores、cutoff 之一"),
    ({"kind": "top_share"}, "口径类型 top_share 必须填写字段 top"),
    ({"kind": "top_share", "top": "满意"}, "字段 top 必须是类别名称的列表"),
    ({"kind": "top_share", "top": ["满意", "满意"]}, "字段 top 中的类别「满意」重复"),
    ({"kind": "top_share", "top": ["满意", ""]}, "字段 top 中的类别名称必须是非空文字"),
    ({"kind": "top_share", "top": ["满意"], "middle": ["基本满意"]},
     "字段 middle 不适用于口径类型 top_share"),
    ({"kind": "half_middle", "top": ["满意"]}, "口径类型 half_middle 必须填写字段 middle"),
    ({"kind": "half_middle", "top": ["满意"], "middle": ["满意"]},
     "类别「满意」同时出现在字段 top 和 middle 中"),
    ({"kind": "top_share", "top": ["不清楚"]}, "类别「不清楚」同时出现在字段 top 和 excluded 中"),
    ({"kind": "category_scores", "scores": {"满意": "一百"}},
     "字段 scores 中「满意」的分值「一百」不是数字"),
    ({"kind": "category_scores", "scores": {"满意": 120}}, "分值 120 必须在0到100之间"),
    ({"kind": "category_scores", "scores": ["满意"]}, "字段 scores 必须是"),
    ({"kind": "category_scores", "scores": {"满意": 1}, "bottom": ["不满意"]},
     "字段 bottom 不适用于口径类型 category_scores"),
    ({"kind": "cutoff"}, "口径类型 cutoff 必须填写字段 cutoff"),
    ({"kind": "cutoff", "cutoff": 0}, "字段 cutoff 必须在0（不含）到10之间，现为 0"),
    ({"kind": "cutoff", "cutoff": 12}, "现为 12"),
    ({"kind": "cutoff", "cutoff": "7"}, "字段 cutoff 必须是数字"),
    ({"kind": "cutoff", "cutoff": 7, "top": ["满意"]}, "字段 top 不适用于口径类型 cutoff"),
    ({"kind": "cutoff", "cutoff": 7, "scale": 0}, "字段 scale 必须是大于0的数"),
    ({"kind": "cutoff", "cutoff": 7, "version": 0}, "字段 version 必须是不小于1的整数"),
    ({"kind": "cutoff", "cutoff": 7, "version": "2"}, "字段 version 必须是不小于1的整数"),
])
def test_from_json_names_the_bad_field(data, message):
    with pytest.raises(ValueError, match=message):
        IndexRule.from_json(data)


def test_rules_are_frozen_and_hashable():
    rule = builtin_rule("security_score")
    with pytest.raises(AttributeError):
        rule.version = 2
    assert len({rule, IndexRule.from_json(rule.to_json())}) == 1
