"""Index definitions (口径): how answers on a scale become the figure that is published.

An `IndexRule` is one versioned definition, stored by the app as JSON. `score` turns each
respondent's answer into a number between 0 and 1 (NaN when the answer is outside the base, e.g.
不清楚), so that any design-based estimator of a mean gives the index, and ``scale`` (100) turns
it into the percent or points that are shown. The same answers can be scored under several rules;
`IndexRule.describe` states the definition in one Chinese sentence for every figure.

Kinds:

* ``top_share``: share of the top categories (安全感指数 = 很安全+安全+基本安全 占比);
* ``half_middle``: top categories count 1, the middle one 0.5 (半数计分);
* ``category_scores``: a score per category (很安全100 / 安全80 / …), averaged;
* ``cutoff``: share of 0–10 ratings at or above a cut-off.

`BUILTIN_RULES` holds the definitions the app seeds (version 1 of each code); the scores in them
are this project's documented choice, and every one can be changed by saving a new version.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BUILTIN_RULES",
    "EXCLUDED_ANSWERS",
    "KINDS",
    "RATING_MAX",
    "RATING_MIN",
    "SATISFACTION3",
    "SATISFACTION5",
    "SECURITY5",
    "IndexRule",
    "builtin_rule",
    "score",
]

KINDS = {
    "top_share": "顶端类别占比",
    "half_middle": "半数计分",
    "category_scores": "分类计分",
    "cutoff": "评分达线占比",
}
RATING_MIN = 0.0
RATING_MAX = 10.0

# The questionnaire's scales, best first.
SECURITY5 = ("很安全", "安全", "基本安全", "不太安全", "不安全")
SATISFACTION3 = ("满意", "基本满意", "不满意")
SATISFACTION5 = ("很满意", "比较满意", "一般", "不太满意", "很不满意")
# Answers that say nothing about the matter and are left out of the base by default.
EXCLUDED_ANSWERS = ("不清楚", "不了解", "说不清")

_FIELDS = (
    "kind", "top", "middle", "bottom", "scores", "cutoff", "excluded", "scale",
    "code", "name", "version",
)


def _num(x: float) -> str:
    """A number as written in a definition: 0.5, 80, 7.5 (no trailing zeros)."""
    return f"{x:g}"


def _labels(value: Any, field_name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"字段 {field_name} 必须是类别名称的列表。")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"字段 {field_name} 中的类别名称必须是非空文字，现有「{item}」。")
        out.append(item.strip())
    if len(set(out)) != len(out):
        dup = next(x for x in out if out.count(x) > 1)
        raise ValueError(f"字段 {field_name} 中的类别「{dup}」重复。")
    return tuple(out)


@dataclass(frozen=True)
class IndexRule:
    """One versioned definition (口径) of an index.

    ``top``: categories counted 1 (top_share, half_middle); ``middle``: counted 0.5
    (half_middle); ``bottom``: the remaining categories of the scale, counted 0 — when given,
    any answer outside top/middle/bottom/excluded is an error instead of a silent 0;
    ``scores``: points per category (category_scores), between 0 and ``scale``;
    ``cutoff``: a 0–10 rating at or above it counts 1; ``excluded``: answers outside the base;
    ``scale``: the figure shown is the mean score × scale (100: percent or points).
    ``code``, ``name`` and ``version`` identify the definition in every published figure.
    """

    kind: str
    top: tuple[str, ...] = ()
    middle: tuple[str, ...] = ()
    bottom: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    cutoff: float | None = None
    excluded: tuple[str, ...] = EXCLUDED_ANSWERS
    scale: float = 100.0
    code: str = ""
    name: str = ""
    version: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"字段 kind 必须是 {'、'.join(KINDS)} 之一，现为「{self.kind}」。"
            )
        for name in ("top", "middle", "bottom", "excluded"):
            object.__setattr__(self, name, _labels(getattr(self, name), name))
        if not isinstance(self.scores, Mapping):
            raise ValueError("字段 scores 必须是“类别: 分值”的对照表。")
        scores: dict[str, float] = {}
        for key, value in self.scores.items():
            if not isinstance(key, str) or not key.strip():
                raise ValueError(f"字段 scores 中的类别名称必须是非空文字，现有「{key}」。")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"字段 scores 中「{key}」的分值「{value}」不是数字。")
            scores[key.strip()] = float(value)
        object.__setattr__(self, "scores", scores)
        scale = self.scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not (
            math.isfinite(scale) and scale > 0
        ):
            raise ValueError(f"字段 scale 必须是大于0的数，现为「{scale}」。")
        object.__setattr__(self, "scale", float(scale))
        if self.cutoff is not None:
            c = self.cutoff
            if isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c):
                raise ValueError(f"字段 cutoff 必须是数字，现为「{c}」。")
            object.__setattr__(self, "cutoff", float(c))
        if not isinstance(self.code, str) or not isinstance(self.name, str):
            raise ValueError("字段 code 和 name 必须是文字。")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"字段 version 必须是不小于1的整数，现为「{self.version}」。")
        self._check_kind()

    def _check_kind(self) -> None:
        kind = self.kind
        used = {"top": self.top, "middle": self.middle, "scores": self.scores,
                "cutoff": self.cutoff}
        needs = {
            "top_share": ("top",),
            "half_middle": ("top", "middle"),
            "category_scores": ("scores",),
            "cutoff": ("cutoff",),
        }[kind]
        for name in needs:
            value = used[name]
            if value is None or (not isinstance(value, float) and len(value) == 0):
                raise ValueError(f"口径类型 {kind} 必须填写字段 {name}。")
        for name, value in used.items():
            if name in needs:
                continue
            if value is not None and (isinstance(value, float) or len(value) > 0):
                raise ValueError(f"字段 {name} 不适用于口径类型 {kind}，请删去。")
        if self.bottom and kind not in ("top_share", "half_middle"):
            raise ValueError(f"字段 bottom 不适用于口径类型 {kind}，请删去。")
        groups = {"top": self.top, "middle": self.middle, "bottom": self.bottom,
                  "excluded": self.excluded, "scores": tuple(self.scores)}
        seen: dict[str, str] = {}
        for name, labels in groups.items():
            for label in labels:
                if label in seen:
                    raise ValueError(f"类别「{label}」同时出现在字段 {seen[label]} 和 {name} 中。")
                seen[label] = name
        for label, value in self.scores.items():
            if not (math.isfinite(value) and 0 <= value <= self.scale):
                raise ValueError(
                    f"字段 scores 中「{label}」的分值 {_num(value)} "
                    f"必须在0到{_num(self.scale)}之间。"
                )
        if kind == "cutoff" and not (RATING_MIN < self.cutoff <= RATING_MAX):
            raise ValueError(
                f"字段 cutoff 必须在{_num(RATING_MIN)}（不含）到{_num(RATING_MAX)}之间，"
                f"现为 {_num(self.cutoff)}。"
            )

    def __hash__(self) -> int:
        return hash(tuple(
            tuple(sorted(self.scores.items())) if name == "scores" else getattr(self, name)
            for name in _FIELDS
        ))

    # -- JSON --------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IndexRule:
        """A rule from its stored JSON object; a wrong or unknown field raises `ValueError`."""
        if not isinstance(data, Mapping):
            raise ValueError("口径定义必须是 JSON 对象。")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ValueError(f"口径定义中有未知字段：{'、'.join(unknown)}。")
        if "kind" not in data:
            raise ValueError("口径定义缺少字段 kind。")
        kwargs = dict(data)
        for name in ("top", "middle", "bottom", "excluded"):
            if name in kwargs and not isinstance(kwargs[name], list | tuple):
                raise ValueError(f"字段 {name} 必须是类别名称的列表。")
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        """The JSON object `from_json` reads back to an equal rule (only fields that apply)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.top:
            out["top"] = list(self.top)
        if self.middle:
            out["middle"] = list(self.middle)
        if self.bottom:
            out["bottom"] = list(self.bottom)
        if self.scores:
            out["scores"] = dict(self.scores)
        if self.cutoff is not None:
            out["cutoff"] = self.cutoff
        out["excluded"] = list(self.excluded)
        out["scale"] = self.scale
        for name in ("code", "name"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        out["version"] = self.version
        return out

    # -- wording -----------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """How a figure names its definition: 口径 code 第n版."""
        return f"口径 {self.code or self.kind} 第{self.version}版"

    def describe(self) -> str:
        """The definition in one Chinese sentence, e.g.
        满意度＝（满意＋基本满意×0.5）÷（回答总数－不清楚）×100%，口径 satisfaction_half 第1版。"""
        name = self.name or KINDS[self.kind]
        if self.excluded:
            base = f"（回答总数－{'－'.join(self.excluded)}）"
        else:
            base = "回答总数"
        if self.kind == "top_share":
            numerator = "＋".join(self.top)
        elif self.kind == "half_middle":
            numerator = "＋".join((*self.top, *(f"{m}×0.5" for m in self.middle)))
        elif self.kind == "category_scores":
            numerator = "＋".join(f"{k}×{_num(v)}" for k, v in self.scores.items())
        else:
            numerator = f"评分≥{_num(self.cutoff)}的人数"
        if len(self.top) + len(self.middle) > 1 or self.kind == "category_scores":
            numerator = f"（{numerator}）"
        if self.kind == "category_scores":
            # The scores are in points already; only a 0–1 scale would need the ratio scaled.
            unit = "，单位为分"
        elif self.scale == 100:
            unit = "×100%"
        elif self.scale == 1:
            unit = ""
        else:
            unit = f"×{_num(self.scale)}"
        return f"{name}＝{numerator}÷{base}{unit}，{self.label}。"


def score(rule: IndexRule, answers: Sequence[Any]) -> np.ndarray:
    """Each answer's score under ``rule``, between 0 and 1 (a category score is divided by
    ``scale``); NaN for a missing answer (None, NaN, empty) or one in ``rule.excluded``.

    An answer the rule cannot score — a category without a score, one outside a given
    ``bottom`` list, a rating that is not a number in 0–10 — raises `ValueError` naming it.
    """
    values = answers.tolist() if isinstance(answers, np.ndarray) else list(answers)
    out = np.full(len(values), np.nan)
    excluded = set(rule.excluded)
    if rule.kind == "cutoff":
        for i, raw in enumerate(values):
            value = _rating(raw, excluded, i)
            if value is not None:
                out[i] = 1.0 if value >= rule.cutoff else 0.0
        return out
    if rule.kind == "category_scores":
        table = {k: v / rule.scale for k, v in rule.scores.items()}
        strict = True
    else:
        table = dict.fromkeys(rule.top, 1.0)
        table.update(dict.fromkeys(rule.middle, 0.5))
        table.update(dict.fromkeys(rule.bottom, 0.0))
        strict = bool(rule.bottom)
    # Distinct answers are few; look each up once and broadcast.
    codes: dict[Any, list[int]] = {}
    for i, raw in enumerate(values):
        key = raw.strip() if isinstance(raw, str) else raw
        codes.setdefault(key, []).append(i)
    for key, rows in codes.items():
        if key is None or key == "" or (isinstance(key, float) and math.isnan(key)):
            continue
        if key in excluded:
            continue
        if key in table:
            out[rows] = table[key]
        elif strict:
            raise ValueError(
                f"第{rows[0] + 1}个回答「{key}」不在口径「{rule.name or rule.code or rule.kind}」"
                f"的类别中（共{len(rows)}个）。"
            )
        else:
            out[rows] = 0.0
    return out


def _rating(raw: Any, excluded: set[str], i: int) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if text == "" or text in excluded:
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"第{i + 1}个回答「{raw}」不是0到10的评分。") from None
    elif isinstance(raw, bool):
        raise ValueError(f"第{i + 1}个回答「{raw}」不是0到10的评分。")
    else:
        value = float(raw)
    if math.isnan(value):
        return None
    if not (RATING_MIN <= value <= RATING_MAX):
        raise ValueError(f"第{i + 1}个回答「{raw}」不在0到10之间。")
    return value


# The definitions the app seeds. Category scores for the sense of security follow the common
# 100/80/60/30/0 practice (the two negative answers well below the middle); satisfaction on the
# three-point scale scores 100/60/0 and on the five-point scale is spaced evenly 100/75/50/25/0.
# All are version 1 and configurable: a changed rule is saved as the next version of its code.
BUILTIN_RULES: dict[str, IndexRule] = {
    rule.code: rule
    for rule in (
        IndexRule(
            kind="top_share", code="security_top3", name="安全感指数",
            top=SECURITY5[:3], bottom=SECURITY5[3:],
        ),
        IndexRule(
            kind="half_middle", code="security_half", name="安全感指数（半数计分）",
            top=SECURITY5[:2], middle=SECURITY5[2:3], bottom=SECURITY5[3:],
        ),
        IndexRule(
            kind="category_scores", code="security_score", name="安全感得分",
            scores=dict(zip(SECURITY5, (100, 80, 60, 30, 0), strict=True)),
        ),
        IndexRule(
            kind="top_share", code="satisfaction_top2", name="满意度",
            top=SATISFACTION3[:2], bottom=SATISFACTION3[2:],
        ),
        IndexRule(
            kind="half_middle", code="satisfaction_half", name="满意度（半数计分）",
            top=SATISFACTION3[:1], middle=SATISFACTION3[1:2], bottom=SATISFACTION3[2:],
        ),
        IndexRule(
            kind="category_scores", code="satisfaction_score", name="满意度得分",
            scores=dict(zip(SATISFACTION3, (100, 60, 0), strict=True)),
        ),
        IndexRule(
            kind="top_share", code="satisfaction5_top2", name="满意度（五级）",
            top=SATISFACTION5[:2], bottom=SATISFACTION5[2:],
        ),
        IndexRule(
            kind="category_scores", code="satisfaction5_score", name="满意度得分（五级）",
            scores=dict(zip(SATISFACTION5, (100, 75, 50, 25, 0), strict=True)),
        ),
        IndexRule(kind="cutoff", code="rating_cutoff7", name="评分7分及以上占比", cutoff=7),
    )
}


def builtin_rule(code: str) -> IndexRule:
    """A built-in definition by code; an unknown code raises `ValueError` listing the codes."""
    try:
        return BUILTIN_RULES[code]
    except KeyError:
        raise ValueError(
            f"没有内置口径「{code}」，可用：{'、'.join(BUILTIN_RULES)}。"
        ) from None
