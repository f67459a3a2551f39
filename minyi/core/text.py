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


def _jieba():  # noqa: ANN202 - jieba has no type hints
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


def similarity(a: str, b: str) -> float:
    """How alike two texts are by their content words (cosine of word counts)."""
    return cosine(words(a), words(b))
