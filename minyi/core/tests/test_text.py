"""Words and similarity of complaint texts: pure, no database."""

from minyi.core import text


def test_matter_words_drop_the_hotlines_framing_and_words_every_complaint_uses():
    assert text.matter_words("市民来电反映：翠苑小区车棚电动车被盗，民警一直没有回复。") == (
        "翠苑", "小区", "车棚", "电动车", "被盗")
    # words() (hot issues' keywords) keeps its own, shorter stop list
    assert "民警" in text.words("民警一直没有回复")


def test_place_words_are_names_before_a_kind_of_place_roads_villages_and_numbers():
    assert text.place_words("幸福小区3栋楼下烧烤店噪音扰民") == frozenset({"幸福"})
    assert text.place_words("东湖路与解放路交叉口乱停车") == frozenset({"东湖路", "解放路"})
    assert text.place_words("长安街188号KTV打架") == frozenset({"长安街", "188"})
    assert text.place_words("身份证补办一个多月还没拿到") == frozenset()


def test_cosine_of_word_counts():
    assert text.cosine(["a", "b"], ["a", "b"]) == 1.0
    assert text.cosine(["a", "b"], ["c"]) == 0.0
    assert text.cosine([], ["a"]) == 0.0
    # (1*1) / sqrt(2 * 1)
    assert round(text.cosine(["a", "b"], ["a"]), 6) == round(1 / 2 ** 0.5, 6)


def test_two_places_that_share_nothing_are_two_matters_however_alike_the_words():
    a = "市民反映其停放在翠苑小区车棚的电动车被盗，报案一周没有进展。"
    b = "市民反映其停放在幸福小区车棚的电动车被盗，报案一周没有进展。"
    assert round(text.cosine(text.matter_words(a), text.matter_words(b)), 3) == 0.889
    assert text.similarity(a, b) == 0.0


def test_the_same_matter_restated_scores_above_the_threshold():
    a = "反映城南菜市场旁边一家棋牌室长期聚众赌博，每天进出人员很多。"
    b = "城南菜市场边上的棋牌室有人赌博，天天很多人进出到深夜，举报要求查处。"
    assert round(text.similarity(a, b), 3) == 0.617
    assert text.similarity(a, a) == 1.0
    assert text.similarity("", a) == 0.0
