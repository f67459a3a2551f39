"""Chinese text as words: segmentation with jieba, for repeat complaints and hot issues.

jieba's dictionary ships inside the package, so nothing is downloaded at run time (police
networks are offline); the first call loads it (about half a second) and later calls reuse it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_lock = threading.Lock()
_tokenizer = None

# Words that say nothing about the matter: the hotline's own phrasing and function words.
STOPWORDS = frozenset("""
的 了 和 与 及 或 在 是 有 我 你 他 她 它 我们 他们 这 那 这个 那个 一个 没有 不 也 就 都 而 被
把 对 将 从 到 于 为 以 因为 所以 但是 如果 还 又 很 非常 已经 现在 目前 要求 希望 请 请求
反映 来电 市民 群众 诉求 称 表示 问题 情况 事情 相关 有关 进行 处理 解决 给予 一下 一直 多次
目前 今天 昨天 近期 最近 时间 地方 附近 位于 现 该 此 其 等 个 人 说 能 会 可以 可能 需要 无
""".split())

_WORD = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z]{2,}|\d{3,}")


def _jieba():  # jieba has no type hints
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
    return _tokenizer


@lru_cache(maxsize=20000)
def words(text: str) -> tuple[str, ...]:
    """The content words of a text, in order: two or more Chinese characters (or letters, or
    three or more digits), without the stop words."""
    if not text:
        return ()
    return tuple(word for word in _jieba().lcut(text)
                 if _WORD.fullmatch(word) and word not in STOPWORDS)


def cosine(a: Iterable[str], b: Iterable[str]) -> float:
    """Cosine similarity of two bags of words, 0.0 to 1.0."""
    ca, cb = Counter(a), Counter(b)
    if not ca or not cb:
        return 0.0
    dot = sum(count * cb[word] for word, count in ca.items())
    return dot / math.sqrt(sum(v * v for v in ca.values()) * sum(v * v for v in cb.values()))


# --- the same matter again (repeat complaints) ----------------------------------------------
#
# Measured on a labelled set of 97 pairs written by the project (orders/tests/data/
# repeat_pairs.csv, bench/repeat_threshold.py): the cosine of content words alone cannot tell
# "the same matter restated" from "the same kind of matter somewhere else" (电动车被盗 in two
# estates reads alike word for word). What tells them apart is the place, so two texts that both
# name places and share none are not the same matter, whatever their words.

# The hotline's framing of a demand: who called and how, not what about.
_FRAMING = re.compile(r"(?:市民|群众|来电人?|来信人?|来访人?)?(?:来电|来信|来访)?"
                      r"(?:反映|反应|称|表示|投诉|举报|咨询|求助)[：:，,]?|市民|群众|来电人?")

# Words that occur in any complaint of any kind: they say nothing about which matter it is.
MATTER_STOPWORDS = STOPWORDS | frozenset("""
有人 每天 每晚 晚上 深夜 经常 存在 长期 一直 至今 仍未 警方 民警 报警 门口 旁边 发生 多名 多次
很多 特别 严重 影响 之前 前期 天天 好多 几次 好几次 居民 周边 住户 查处 满意 不满意 其在 称其
无法 已有 导致 造成 没人 无人 联系 要求 希望 尽快 立即 马上 答复 回复
""".split())

# Words that name the kind of place before them (幸福|小区, 东湖路|路口): the word before one
# of these is a place's own name.
PLACE_HEADS = frozenset("""
小区 花园 家园 公寓 大厦 广场 公园 菜市场 市场 农贸市场 超市 商场 小学 中学 大学 学校 幼儿园
医院 银行 驿站 工业园 园区 公交 公交站 车站 街道 社区 路 街 村 镇 大道 路口 交叉口 网吧 酒吧
宾馆 酒店 单元 栋 号楼 门口
""".split())
# A word ending in one of these is a place's name by itself (东湖路, 长安街, 红星村, 翠苑).
_PLACE_ENDINGS = tuple("路街村镇园苑庄湾府巷弄")
_DIGITS = re.compile(r"\d")


@lru_cache(maxsize=20000)
def _matter_tokens(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(_jieba().lcut(_FRAMING.sub("，", text)))


def _is_word(token: str) -> bool:
    return bool(_WORD.fullmatch(token)) and token not in MATTER_STOPWORDS


def matter_words(text: str) -> tuple[str, ...]:
    """The words that say what a demand is about: content words without the hotline's framing
    (市民来电反映) and without words every complaint uses (有人, 晚上, 民警)."""
    return tuple(token for token in _matter_tokens(text) if _is_word(token))


def place_words(text: str) -> frozenset[str]:
    """The names of the places a text mentions, as jieba cuts them: a word ending like a place
    (东湖路, 红星村), a word before a kind of place (幸福 in 幸福小区), a house number (188)."""
    tokens = _matter_tokens(text)
    found = set()
    for i, token in enumerate(tokens):
        if token in PLACE_HEADS or not _is_word(token):
            continue
        if (_DIGITS.search(token) or token.endswith(_PLACE_ENDINGS)
                or (i + 1 < len(tokens) and tokens[i + 1] in PLACE_HEADS)):
            found.add(token)
    return frozenset(found)


@dataclass(frozen=True)
class Profile:
    """What a repeat check compares of one text: its matter words and its place names."""

    words: tuple[str, ...]
    places: frozenset[str]


def profile(text: str) -> Profile:
    return Profile(matter_words(text), place_words(text))


def profile_similarity(a: Profile, b: Profile) -> float:
    """0.0 when both texts name places and share none; else the cosine of their matter words."""
    if a.places and b.places and not (a.places & b.places):
        return 0.0
    return cosine(a.words, b.words)


def similarity(a: str, b: str) -> float:
    """How likely two demands are the same matter: the cosine of their matter words, and 0.0
    when they name different places (see `profile_similarity`)."""
    return profile_similarity(profile(a), profile(b))
