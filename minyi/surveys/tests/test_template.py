from minyi.core.audit import Event
from minyi.surveys import template
from minyi.surveys.models import IndexDefinition, Question
from minyi.surveys.tests import factories


def test_the_template_makes_an_editable_first_version(bureau, opinion_officer):
    made = factories.questionnaire(bureau, opinion_officer)
    version = made.latest_version()
    assert version.number == 1 and not version.is_frozen
    codes = list(Question.objects.filter(version=version).values_list("code", flat=True))
    assert codes == [q["code"] for q in template.QUESTIONS]
    security = version.questions.get(code="security")
    assert security.options == ["很安全", "安全", "基本安全", "不太安全", "不安全"]
    assert version.questions.get(code="antigang_sat").show_if == {
        "question": "antigang_aware", "in": ["知道"]}
    event = Event.objects.get(action="survey.questionnaire_create")
    assert event.object_id == str(made.pk)


def test_the_builtin_definitions_are_seeded_and_name_template_questions(db):
    codes = {q["code"] for q in template.QUESTIONS}
    seeded = IndexDefinition.objects.filter(bureau=None)
    assert seeded.count() == len(template.INDEX_DEFINITIONS)
    assert {d.question_code for d in seeded} <= codes
    assert seeded.get(code="security", version=1).label == "口径 security v1"


def test_every_builtin_definition_is_a_valid_rule(db):
    from minyi.surveys.stats.indices import IndexRule

    for definition in IndexDefinition.objects.filter(bureau=None):
        rule = IndexRule.from_json({**definition.rule, "code": definition.code,
                                    "version": definition.version, "name": definition.name})
        assert f"口径 {definition.code} 第{definition.version}版" in rule.describe()
