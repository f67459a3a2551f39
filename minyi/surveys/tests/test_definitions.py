"""Definitions (口径) of the survey indices: a bureau's own, new versions that never change an
existing one, the checks of a rule (through IndexRule and against the question's options), the
events, and who may add them."""

from __future__ import annotations

import pytest

from minyi.core.errors import InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory
from minyi.surveys import definitions as defs
from minyi.surveys.models import IndexDefinition

pytestmark = pytest.mark.django_db

TOP2 = {"kind": "top_share", "top": ["满意", "基本满意"], "excluded": ["不清楚"]}


def builtin(code: str, version: int) -> IndexDefinition:
    return IndexDefinition.objects.get(bureau=None, code=code, version=version)


def test_a_new_version_continues_the_numbering_and_leaves_the_old_one(bureau, opinion_officer):
    base = builtin("sat-police", 1)
    before = dict(base.rule)
    made = defs.add_version(actor=opinion_officer, bureau=bureau.bureau, base=base,
                            rule={"kind": "category_scores", "excluded": ["不清楚"],
                                  "scores": {"满意": 100, "基本满意": 70, "不满意": 0}},
                            name="公安工作满意度得分（本局）", note="基本满意计 70 分")
    assert (made.code, made.version, made.bureau) == ("sat-police", 3, bureau.bureau)
    assert made.label == "口径 sat-police v3"
    assert made.question_code == "sat_police"
    assert made.rule == {"kind": "category_scores", "excluded": ["不清楚"], "scale": 100.0,
                         "scores": {"满意": 100.0, "基本满意": 70.0, "不满意": 0.0}}
    base.refresh_from_db()
    assert base.rule == before and base.version == 1
    event = Event.objects.get(action="survey.definition_version")
    assert event.actor == opinion_officer
    assert event.after["version"] == 3 and event.before == {"based_on": "口径 sat-police v1"}
    # And the next one is 4, based on the bureau's own.
    again = defs.add_version(actor=opinion_officer, bureau=bureau.bureau, base=made,
                             rule={"kind": "top_share", "top": ["满意"]})
    assert again.version == 4


def test_a_version_with_the_same_rule_is_refused(bureau, opinion_officer):
    with pytest.raises(InvalidInput, match="与已有的口径 sat-police v1的计算规则相同"):
        defs.add_version(actor=opinion_officer, bureau=bureau.bureau,
                         base=builtin("sat-police", 1), rule=TOP2)
    assert not IndexDefinition.objects.filter(bureau=bureau.bureau).exists()


def test_a_new_definition_of_the_bureau(bureau, opinion_officer):
    made = defs.add_definition(actor=opinion_officer, bureau=bureau.bureau, code="Rating-8 ",
                               name="民警服务好评率（8 分及以上）", question_code="police_rating",
                               rule={"kind": "cutoff", "cutoff": 8})
    assert (made.code, made.version) == ("rating-8", 1)
    assert "评分≥8的人数" in defs.describe(made)
    assert defs.describe(made).endswith("口径 rating-8 第1版。")
    assert Event.objects.filter(action="survey.definition_create", object_id=str(made.pk)).exists()


@pytest.mark.parametrize(("fields", "message"), [
    (dict(code="security"), "口径代码“security”已存在，请在该口径下新增版本"),
    (dict(code="安全"), "口径代码只能用小写字母"),
    (dict(name=" "), "请填写指标名称"),
    (dict(question_code="nope"), "没有题目代码“nope”"),
    (dict(rule={"kind": "top_share", "top": ["非常满意"]}), "题目“sat_police”没有选项：非常满意"),
    (dict(rule={"kind": "top_share"}), "计算规则有误：口径类型 top_share 必须填写字段 top"),
    (dict(rule={"kind": "cutoff", "cutoff": 7}), "分数线只适用于 0–10 打分题"),
    (dict(question_code="problems"), "不是单选或等级量表题"),
    (dict(rule={"kind": "category_scores", "scores": {"满意": 100, "基本满意": 60}}),
     "这些选项还没有分数：不满意"),
])
def test_bad_definitions_are_refused_and_nothing_is_written(bureau, opinion_officer, fields,
                                                            message):
    args = dict(code="sat-own", name="满意度（本局）", question_code="sat_police", rule=TOP2)
    args.update(fields)
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        defs.add_definition(actor=opinion_officer, bureau=bureau.bureau, **args)
    assert not IndexDefinition.objects.filter(bureau=bureau.bureau).exists()
    assert not Event.objects.filter(action__startswith="survey.definition").exists()


def test_only_managers_of_the_bureau_add_definitions(bureau, leader, handler, administrator):
    for user in (leader, handler):
        with pytest.raises(NotAllowed, match="民意专员或系统管理员"):
            defs.add_version(actor=user, bureau=bureau.bureau, base=builtin("security", 1),
                             rule={"kind": "top_share", "top": ["很安全"]})
    made = defs.add_version(actor=administrator, bureau=bureau.bureau,
                            base=builtin("security", 1),
                            rule={"kind": "top_share", "top": ["很安全"]})
    assert made.version == 3
    other = UnitFactory(kind="bureau", name="邻县公安局")
    stranger = UserFactory()
    MembershipFactory(user=stranger, unit=other, role=Role.OPINION_OFFICER)
    with pytest.raises(NotAllowed, match="不能为其他公安局的口径新增版本"):
        defs.add_version(actor=stranger, bureau=other, base=made,
                         rule={"kind": "top_share", "top": ["很安全", "安全"]})


def test_each_bureau_numbers_its_own_versions(bureau, opinion_officer):
    other = UnitFactory(kind="bureau", name="邻县公安局")
    officer = UserFactory()
    MembershipFactory(user=officer, unit=other, role=Role.OPINION_OFFICER)
    rule = {"kind": "top_share", "top": ["很安全"]}
    mine = defs.add_version(actor=opinion_officer, bureau=bureau.bureau,
                            base=builtin("security", 1), rule=rule)
    theirs = defs.add_version(actor=officer, bureau=other, base=builtin("security", 1),
                              rule=rule)
    assert mine.version == theirs.version == 3
    assert list(defs.definitions_for(other).filter(code="security")
                .values_list("version", flat=True)) == [1, 2, 3]
    assert theirs not in defs.definitions_for(bureau.bureau)


def test_defaults_are_the_bureaus_latest_or_the_first_builtin(bureau, opinion_officer):
    defaults = {d.code: d for d in defs.default_definitions(defs.definitions_for(bureau.bureau))}
    assert defaults["security"] == builtin("security", 1)
    assert list(defaults)[:3] == ["security", "security-score", "sat-police"]
    own = defs.add_version(actor=opinion_officer, bureau=bureau.bureau,
                           base=builtin("security", 2),
                           rule={"kind": "top_share", "top": ["很安全", "安全"]})
    defaults = {d.code: d for d in defs.default_definitions(defs.definitions_for(bureau.bureau))}
    assert defaults["security"] == own
    defs.set_active(actor=opinion_officer, definition=own, active=False)
    defaults = {d.code: d for d in defs.default_definitions(defs.definitions_for(bureau.bureau))}
    assert defaults["security"] == builtin("security", 1)
    assert Event.objects.filter(action="survey.definition_active").count() == 1


def test_builtin_definitions_cannot_be_switched_off(opinion_officer):
    with pytest.raises(NotAllowed, match="内置口径不能停用"):
        defs.set_active(actor=opinion_officer, definition=builtin("security", 1), active=False)


def test_rule_from_the_form_fields():
    assert defs.rule_from_fields(kind="top_share", top="满意，基本满意、 满意") == {
        "kind": "top_share", "top": ["满意", "基本满意"]}
    assert defs.rule_from_fields(kind="category_scores",
                                 scores="很安全=100、安全：80 基本安全:60") == {
        "kind": "category_scores", "scores": {"很安全": 100.0, "安全": 80.0, "基本安全": 60.0}}
    assert defs.rule_from_fields(kind="cutoff", cutoff="7.5", excluded="不清楚", scale="100") == {
        "kind": "cutoff", "cutoff": 7.5, "excluded": ["不清楚"], "scale": 100.0}
    with pytest.raises(InvalidInput, match="“安全”的分数“高”不是数字"):
        defs.rule_from_fields(kind="category_scores", scores="安全=高")
    with pytest.raises(InvalidInput, match="应写成“选项=分数”"):
        defs.rule_from_fields(kind="category_scores", scores="很安全")
    with pytest.raises(InvalidInput, match="请填写分数线"):
        defs.rule_from_fields(kind="cutoff")
    with pytest.raises(InvalidInput, match="请选择计算方法"):
        defs.rule_from_fields(kind="whatever")
