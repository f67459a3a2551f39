"""The results of a wave (民调结果): the indices under their definitions (口径), overall and per
township and police station with confidence intervals, the change against the previous wave,
the comparison with benchmarks, rankings with rank ranges, the problems people named and (for
those allowed to read answers) their suggestions.

The responses of a wave are read once, as plain values (`values_list`, no model instances, the
answers taken out of the JSON by the database), into arrays; every figure is then computed on
the arrays by `minyi.surveys.stats` (design-based estimates, intervals, comparisons). The arrays
are cached until the wave's responses change (`wave_arrays`): responses are only ever added,
so a wave in the field reads just the new ones. The queries of a page do not grow with the
responses.

The design, stated on every page and report (`method_paragraphs`):
- weights: `Response.weight` when every response of the wave has one (the wave is weighted),
  else 1 for everyone, and the page says 未加权;
- strata: the township (乡镇/街道), as the quotas are set per township; no clusters (each
  respondent is their own unit), no finite-population correction (the population is large);
- per township and per station: domain estimates on the whole design;
- indices on 0–1 (shares, half credit) get logit intervals; score indices normal ones.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef
from django.db.models.fields.json import KT
from django.db.models.functions import Trim

from minyi.orgs import access
from minyi.orgs.models import Area, Unit
from minyi.surveys import definitions as defs
from minyi.surveys.models import (
    AgeGroup,
    Benchmark,
    IndexDefinition,
    Mode,
    Question,
    QuestionKind,
    Quota,
    Response,
    Sex,
    Wave,
    Weighting,
)
from minyi.surveys.stats import compare, intervals
from minyi.surveys.stats.design import Calibration, Design, Estimate, estimate, estimate_by
from minyi.surveys.stats.indices import IndexRule, score

LEVEL = 0.95
DEFAULT_MIN_N = 30
SUGGESTIONS_SHOWN = 100
ARRAYS_TIMEOUT = 24 * 3600
INSUFFICIENT = "样本不足"
CI_METHOD = "logit"
CI_METHOD_TEXT = (
    "比例类指数（百分比）的95%置信区间用 logit 法：在对数几率尺度上用设计标准误构造区间再换算回来，"
    "区间总在0–100%之内，在98%这类接近上限的比例附近也不越界，与 R survey 包 svyciprop 的默认方法"
    "相同，本平台的估计正是按 R 的结果核对的；比例恰为0或100%时 logit 区间无定义，改用以基数人数"
    "计算的 Wilson 区间。得分类指数用正态近似区间（估计值±1.96倍标准误）。")
DESIGN_TEXT = (
    "按配额抽样的设计，以乡镇（街道）为层，每位受访者为一个抽样单位，不计有限总体校正；"
    "标准误用泰勒线性化法计算；已加权的调查按事后分层（乡镇×性别×年龄段）或迭代加权（三个边际）的"
    "校准残差计算标准误，与 R survey 包 postStratify、calibrate 的做法相同（权重经截尾时为近似）；"
    "只有一位受访者的乡镇按 R survey 包 lonely.psu=\"adjust\" "
    "的办法处理；各乡镇、派出所的数字是全样本设计下的域估计。设计效应（deff）是本设计下的方差与同样本量的简单随机抽样"
    "（放回）方差之比，大于1表示加权和分层使估计的精度低于同样本量的简单随机样本。")


def min_n() -> int:
    """Townships and stations with fewer respondents in an index's base are shown with their
    count, marked 样本不足, and not ranked (setting MINYI_SURVEY_MIN_N)."""
    return int(getattr(settings, "MINYI_SURVEY_MIN_N", DEFAULT_MIN_N))


# --- the wave's answers as arrays ------------------------------------------------------------


@dataclass
class Column:
    """One question's answers, factorised: `codes[i]` is respondent i's position in `values`
    (the distinct answers, None for no answer). Rules are applied to the few distinct values
    and spread to the respondents by indexing, so a wave of 100,000 costs one pass."""

    codes: np.ndarray
    values: list[Any]

    @classmethod
    def of(cls, raw: Sequence[Any]) -> Column:
        # dict.fromkeys and map run in C: a few milliseconds for 100,000 answers.
        values = list(dict.fromkeys(raw))
        position = {v: i for i, v in enumerate(values)}
        codes = np.fromiter(map(position.__getitem__, raw), dtype=np.int64, count=len(raw))
        return cls(codes=codes, values=values)

    def then(self, more: Column) -> Column:
        """This column followed by `more`, the new distinct answers after the old ones."""
        values = list(self.values)
        position = {v: i for i, v in enumerate(values)}
        for v in more.values:
            if v not in position:
                position[v] = len(values)
                values.append(v)
        remap = np.array([position[v] for v in more.values], dtype=np.int64)
        codes = remap[more.codes] if len(more.codes) else more.codes
        return Column(codes=np.concatenate([self.codes, codes]), values=values)

    def spread(self, per_value: np.ndarray) -> np.ndarray:
        return per_value[self.codes] if len(self.codes) else np.zeros(0)


@dataclass
class WaveData:
    """The responses of one wave as arrays: township and station ids, weights, and the answers
    to the questions asked for (`columns`), read in one query."""

    wave: Wave
    area: np.ndarray
    station: np.ndarray
    phone: int
    weights: np.ndarray | None
    missing_weights: int
    columns: dict[str, Column]
    sex: np.ndarray | None = None
    age_group: np.ndarray | None = None
    # How the current weights were made (Weighting.Method), so that the standard errors take
    # the calibration into account as R's postStratify/calibrate designs do.
    weighting_method: str | None = None
    _design: Design | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.area)

    @property
    def weighted(self) -> bool:
        return self.weights is not None

    def column(self, code: str) -> Column:
        return self.columns[code]

    def design(self) -> Design:
        if self._design is None:
            # A township with a single respondent has no within-stratum variance; as R's
            # survey.lonely.psu="adjust" it is centred at the overall mean (conservative).
            self._design = Design(weights=self.weights, strata=self.area, lonely_psu="adjust",
                                  calibration=self.calibration())
        return self._design

    def calibration(self) -> Calibration | None:
        """Weights post-stratified to township × sex × age group, or raked to the three
        margins, are calibrated: a figure's variance is that of its residuals within the cells
        (or from the margins' regression), which is smaller than the plain Taylor variance of
        the adjusted weights. An unknown sex or age group is a category of its own here (the
        raking left those respondents unadjusted on that margin). Trimmed weights are close to
        calibrated, not exactly: their SEs are the calibration's, an approximation."""
        if self.weights is None or self.sex is None or self.age_group is None:
            return None
        if self.weighting_method == Weighting.Method.POSTSTRATIFY:
            return Calibration(cells=(self.area, self.sex, self.age_group))
        if self.weighting_method == Weighting.Method.RAKE:
            return Calibration(margins=[self.area, self.sex, self.age_group],
                               base_weights=np.ones(len(self.area)))
        return None


def _decode(value: Any) -> Any:
    """A multiple-choice answer as the database hands it out of the JSON: the list itself, or
    its JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True)
class Stamp:
    """What a wave's arrays depend on. Responses are only ever added (at the desk, on the web
    link) and their weights rewritten by a weighting, which leaves a Weighting row: so the
    number of responses, the highest id and the latest weighting change whenever the answers
    or the weights do. Read from the index on (wave, township), without touching the answers."""

    wave: int
    made: str
    n: int
    top: int
    weighting: int | None

    @property
    def text(self) -> str:
        return f"{self.wave}|{self.made}|{self.n}|{self.top}|{self.weighting}"


def fingerprint(wave: Wave) -> Stamp | None:
    """The wave's `Stamp`; None when it has no responses."""
    found = Response.objects.filter(wave_id=wave.pk).aggregate(n=Count("id"), top=Max("id"))
    if not found["n"]:
        return None
    weighting = (Weighting.objects.filter(wave_id=wave.pk).order_by("-pk")
                 .values_list("pk", flat=True).first())
    made = wave.created_at.isoformat() if wave.created_at else ""
    return Stamp(wave.pk, made, found["n"], found["top"], weighting)


def _key(kind: str, *parts: str) -> str:
    text = "|".join(parts)
    return f"minyi:survey-{kind}:v2:{hashlib.sha256(text.encode()).hexdigest()}"


@dataclass
class _Raw:
    """A wave's arrays as they are cached: ids, raw weights (NaN: none) and columns."""

    top: int
    area: np.ndarray
    station: np.ndarray
    phone: int
    weights: np.ndarray
    columns: dict[str, Column]
    sex: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    age_group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def then(self, more: _Raw) -> _Raw:
        """These responses followed by `more` (responses added since)."""
        return _Raw(top=more.top, area=np.concatenate([self.area, more.area]),
                    station=np.concatenate([self.station, more.station]),
                    phone=self.phone + more.phone,
                    weights=np.concatenate([self.weights, more.weights]),
                    columns={c: col.then(more.columns[c]) for c, col in self.columns.items()},
                    sex=np.concatenate([self.sex, more.sex]),
                    age_group=np.concatenate([self.age_group, more.age_group]))

    def data(self, wave: Wave) -> WaveData:
        n = len(self.area)
        missing = int(np.isnan(self.weights).sum())
        # Weighted only when every respondent has a weight: a response added after the
        # weighting has none, and mixing it in with weight 1 would be neither estimate.
        weighted = bool(n and missing == 0 and (self.weights > 0).all())
        return WaveData(wave=wave, area=self.area.astype(np.int64),
                        station=self.station.astype(np.int64), phone=self.phone,
                        weights=self.weights if weighted else None,
                        missing_weights=missing if missing < n else 0, columns=self.columns,
                        sex=self.sex, age_group=self.age_group,
                        weighting_method=_weighting_method(wave) if weighted else None)


def _weighting_method(wave: Wave) -> str | None:
    return (Weighting.objects.filter(wave_id=wave.pk).order_by("-pk")
            .values_list("method", flat=True).first())


# Sex and age group as small codes (0: unknown) for the calibration's cells and margins.
_SEX_CODES = {value: i for i, value in enumerate(["", *Sex.values])}
_AGE_CODES = {value: i for i, value in enumerate(["", *AgeGroup.values])}


def _codes(values: Sequence[str], table: dict[str, int]) -> np.ndarray:
    return np.fromiter((table.get(v or "", 0) for v in values), dtype=np.int8,
                       count=len(values))


def wave_arrays(wave: Wave, codes: Iterable[str], stamp: Stamp | None = None) -> WaveData:
    """The wave's arrays (`load_wave`), kept in the cache: read again when a weighting rewrote
    the weights; while a wave is in the field only the responses added since are read and
    appended. Reading and decoding 100,000 responses is what takes the time of a page."""
    codes = tuple(sorted(set(codes)))
    stamp = stamp or fingerprint(wave)
    if stamp is None:
        return _read(wave, codes).data(wave)
    key = _key("arrays", str(stamp.wave), stamp.made, str(stamp.weighting), *codes)
    raw: _Raw | None = cache.get(key)
    if raw is not None and raw.top == stamp.top and len(raw.area) == stamp.n:
        return raw.data(wave)
    if raw is not None and raw.top < stamp.top:
        raw = raw.then(_read(wave, codes, after=raw.top))
        if len(raw.area) != stamp.n or raw.top != stamp.top:
            raw = None  # responses went away or came in meanwhile: read them all
    else:
        raw = None
    if raw is None:
        raw = _read(wave, codes)
    cache.set(key, raw, ARRAYS_TIMEOUT)
    return raw.data(wave)


def load_wave(wave: Wave, codes: Iterable[str]) -> WaveData:
    """The wave's responses as arrays, read now (one query); see `wave_arrays`."""
    return _read(wave, tuple(sorted(set(codes)))).data(wave)


def _read(wave: Wave, codes: Sequence[str], *, after: int | None = None) -> _Raw:
    """One query: township, station, mode, weight and the answers to `codes` of the responses
    (those after the id `after`). Only those answers are taken out of the JSON, by the
    database: decoding 100,000 answer documents in Python would cost seconds."""
    qs = Response.objects.filter(wave_id=wave.pk)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk").values_list(
        "pk", "area_id", "station_id", "mode", "weight", "sex", "age_group",
        *(KT(f"answers__{code}") for code in codes)))
    n = len(rows)
    if not n:
        empty = np.zeros(0, dtype=np.int32)
        return _Raw(top=after or 0, area=empty, station=empty, phone=0, weights=np.zeros(0),
                    columns={code: Column.of(()) for code in codes})
    # Columns by zip (in C), not row by row in Python.
    pk, area, station, mode, weight, sex, age_group, *answers = zip(*rows, strict=True)

    def ids(column: Sequence[int]) -> np.ndarray:
        found = np.fromiter(column, dtype=np.int64, count=n)
        return found.astype(np.int32) if found.max() < 2**31 else found

    return _Raw(
        top=pk[-1], area=ids(area), station=ids(station), phone=mode.count(Mode.PHONE),
        weights=np.array([math.nan if w is None else w for w in weight], dtype=float),
        columns={code: Column.of(answers[k]) for k, code in enumerate(codes)},
        sex=_codes(sex, _SEX_CODES), age_group=_codes(age_group, _AGE_CODES))


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Comparison:
    """A figure compared with another: the previous wave's or a benchmark. `text` respects the
    test ("提高0.49个百分点，差异不显著")."""

    against: str
    other: float | None
    diff: float
    p: float
    significant: bool
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"against": self.against, "other": _round(self.other), "diff": _round(self.diff),
                "p": _round(self.p, 4), "significant": self.significant, "text": self.text}


@dataclass
class Figure:
    """One estimate in the units shown (percent or points): of the whole wave (key None), a
    township or a station. `n` is the number of respondents in the index's base (unweighted);
    a suppressed figure (n below the minimum) keeps its numbers but is marked and not ranked."""

    key: int | None
    name: str
    n: int
    estimate: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    deff: float | None = None
    suppressed: bool = False
    rank: tuple[int, int] | None = None
    change: Comparison | None = None
    station: str = ""
    raw: Any = field(default=None, repr=False)   # (estimate, se) on 0–1, for comparisons

    @property
    def has_value(self) -> bool:
        return self.estimate is not None

    @property
    def rank_text(self) -> str:
        if self.suppressed or not self.has_value:
            return "不排名"
        return compare.rank_range_text(self.rank)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "station": self.station or None, "n": self.n,
            "estimate": _round(self.estimate), "se": _round(self.se, 4),
            "ci_low": _round(self.ci_low), "ci_high": _round(self.ci_high),
            "deff": _round(self.deff, 3), "suppressed": self.suppressed,
            "rank": list(self.rank) if self.rank else None,
            "change": self.change.as_dict() if self.change else None,
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def interval(p: float, se: float, n: int, df: float | None, *,
             bounded: bool) -> tuple[float, float]:
    """The 95% interval of an estimate on 0–1. A bounded index (a share, half credit): logit on
    `df` degrees of freedom (R's svyciprop), or Wilson with the base count `n` where the logit
    is undefined (exactly 0 or 100%); a score: normal. NaN when a domain has no degrees of
    freedom (all its respondents in one stratum of one), as R gives."""
    if not bounded:
        return intervals.wald(p, se, LEVEL)
    if df is not None and df < 1:
        return math.nan, math.nan
    if p <= 0.0 or p >= 1.0:
        return intervals.wilson(min(max(p, 0.0), 1.0), max(n, 1), LEVEL, df)
    if se == 0:
        return p, p
    return intervals.logit(p, se, LEVEL, df)


def _figure(est: Estimate | None, *, key: int | None, name: str, n: int, df: float | None,
            scale: float, bounded: bool, floor: int, station: str = "") -> Figure:
    if est is None or n == 0 or est.estimate is None or not math.isfinite(est.estimate):
        return Figure(key=key, name=name, n=n, suppressed=n < floor, station=station)
    se = float(est.se) if est.se is not None and math.isfinite(est.se) else 0.0
    low, high = interval(float(est.estimate), se, n, df, bounded=bounded)
    deff = est.deff if est.deff is not None and math.isfinite(est.deff) else None
    return Figure(key=key, name=name, n=n, estimate=est.estimate * scale, se=se * scale,
                  ci_low=low * scale, ci_high=high * scale, deff=deff,
                  suppressed=n < floor, station=station, raw=(float(est.estimate), se))


@dataclass
class IndexResult:
    """An index of the wave under one definition: overall, per township and station."""

    definition: IndexDefinition
    rule: IndexRule | None
    description: str
    overall: Figure | None = None
    previous: Figure | None = None
    change: Comparison | None = None
    benchmarks: list[Comparison] = field(default_factory=list)
    townships: list[Figure] = field(default_factory=list)
    stations: list[Figure] = field(default_factory=list)
    error: str = ""

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def points(self) -> bool:
        """Percentages change by percentage points; scores by points (分)."""
        return self.rule is None or self.rule.kind != "category_scores"

    @property
    def unit(self) -> str:
        return "%" if self.points else "分"

    @property
    def bounded(self) -> bool:
        return self.points

    def ranked_townships(self) -> list[Figure]:
        return sorted((f for f in self.townships if f.has_value and not f.suppressed),
                      key=lambda f: -f.estimate)

    def as_dict(self) -> dict[str, Any]:
        d = self.definition
        return {
            "definition": {"id": d.pk, "code": d.code, "version": d.version, "name": d.name,
                           "label": d.label, "question_code": d.question_code,
                           "builtin": d.bureau_id is None, "description": self.description},
            "unit": self.unit, "error": self.error or None,
            "overall": self.overall.as_dict() if self.overall else None,
            "previous": self.previous.as_dict() if self.previous else None,
            "change": self.change.as_dict() if self.change else None,
            "benchmarks": [b.as_dict() for b in self.benchmarks],
            "townships": [f.as_dict() for f in self.townships],
            "stations": [f.as_dict() for f in self.stations],
        }


@dataclass
class ChoiceResult:
    """A multiple-choice question (the problems people see most): the share of those who
    answered it naming each option, most named first."""

    code: str
    text: str
    n: int
    shares: list[Figure]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "n": self.n,
                "shares": [s.as_dict() for s in self.shares]}


@dataclass
class Suggestion:
    township: str
    text: str


@dataclass
class WaveResults:
    wave: Wave
    previous_wave: Wave | None
    n: int
    phone: int
    weighted: bool
    missing_weights: int
    weighting: Weighting | None
    min_n: int
    definitions: list[IndexDefinition]
    focus: IndexResult | None
    headline: list[IndexResult]
    choices: list[ChoiceResult]
    suggestions: list[Suggestion] | None
    suggestion_total: int
    benchmark_year: int
    method: list[str]

    @property
    def empty(self) -> bool:
        return self.n == 0

    @property
    def web(self) -> int:
        return self.n - self.phone

    def as_dict(self) -> dict[str, Any]:
        w = self.wave
        return {
            "wave": {"id": w.pk, "name": w.name, "starts_on": str(w.starts_on),
                     "ends_on": str(w.ends_on), "bureau": w.bureau.name},
            "previous_wave": ({"id": self.previous_wave.pk, "name": self.previous_wave.name}
                              if self.previous_wave else None),
            "responses": self.n, "weighted": self.weighted, "min_n": self.min_n,
            "level": LEVEL, "ci_method": CI_METHOD,
            "focus": self.focus.definition.label if self.focus else None,
            "indices": [r.as_dict() for r in self.headline],
            "choices": [c.as_dict() for c in self.choices],
            "method": self.method,
        }


# --- computation -----------------------------------------------------------------------------


@dataclass
class _Names:
    areas: dict[int, tuple[str, str, int | None]]   # id → (name, code, station id)
    stations: dict[int, tuple[str, str]]            # id → (name, path)
    quota_areas: list[int]

    def township_ids(self, *datas: WaveData | None) -> list[int]:
        ids = set(self.quota_areas)
        for d in datas:
            if d is not None:
                ids.update(int(a) for a in np.unique(d.area))
        return sorted(ids, key=lambda a: (self.areas.get(a, ("", "", None))[1], a))

    def station_ids(self, *datas: WaveData | None) -> list[int]:
        ids = {self.areas[a][2] for a in self.quota_areas if a in self.areas
               and self.areas[a][2] is not None}
        for d in datas:
            if d is not None:
                ids.update(int(s) for s in np.unique(d.station))
        return sorted(ids, key=lambda s: (self.stations.get(s, ("", ""))[1], s))


def _names(wave: Wave, *datas: WaveData | None) -> _Names:
    quota_areas = list(Quota.objects.filter(wave_id=wave.pk).values_list("area_id", flat=True))
    area_ids = set(quota_areas)
    station_ids: set[int] = set()
    for d in datas:
        if d is not None:
            area_ids.update(int(a) for a in np.unique(d.area))
            station_ids.update(int(s) for s in np.unique(d.station))
    areas = {pk: (name, code, station) for pk, name, code, station in
             Area.objects.filter(pk__in=area_ids).values_list("pk", "name", "code",
                                                               "station_id")}
    station_ids.update(s for _n, _c, s in areas.values() if s is not None)
    stations = {pk: (name, path) for pk, name, path in
                Unit.objects.filter(pk__in=station_ids).values_list("pk", "name", "path")}
    return _Names(areas=areas, stations=stations, quota_areas=quota_areas)


def _counts(base: np.ndarray, groups: np.ndarray, strata: np.ndarray,
            ) -> tuple[dict[int, int], dict[int, float]]:
    """Per group: the respondents in the base, and the degrees of freedom of the domain (its
    respondents less the strata they are in: each respondent is a PSU), as R's degf."""
    g, s = groups[base], strata[base]
    labels, counts = np.unique(g, return_counts=True)
    span = int(s.max()) + 1 if len(s) else 1
    pairs = np.unique(g.astype(np.int64) * span + s)
    strata_per_group = np.unique(pairs // span, return_counts=True)
    layers = dict(zip(strata_per_group[0].tolist(), strata_per_group[1].tolist(), strict=True))
    n = {int(k): int(c) for k, c in zip(labels, counts, strict=True)}
    return n, {k: float(c - layers.get(k, 0)) for k, c in n.items()}


def _by(y: np.ndarray, design: Design, groups: np.ndarray) -> dict[int, Estimate]:
    found = estimate_by(y, design, groups, stat="mean", level=LEVEL, ci="normal",
                        deff="replace")
    return {int(k): v for k, v in found.items()}


@dataclass
class _Scored:
    overall: Estimate | None
    n: int
    df: float
    areas: dict[int, Estimate] = field(default_factory=dict)
    area_n: dict[int, int] = field(default_factory=dict)
    area_df: dict[int, float] = field(default_factory=dict)
    stations: dict[int, Estimate] = field(default_factory=dict)
    station_n: dict[int, int] = field(default_factory=dict)
    station_df: dict[int, float] = field(default_factory=dict)


def _score(rule: IndexRule, data: WaveData, question_code: str, *,
           domains: bool) -> _Scored:
    column = data.column(question_code)
    y = column.spread(score(rule, column.values))
    base = ~np.isnan(y)
    n = int(base.sum())
    if n == 0:
        return _Scored(None, 0, 0.0)
    design = data.design()
    overall = estimate(y, design, stat="mean", level=LEVEL, ci="normal", deff="replace")
    df = float(n - len(np.unique(data.area[base])))
    if not domains:
        return _Scored(overall, n, df)
    area_n, area_df = _counts(base, data.area, data.area)
    station_n, station_df = _counts(base, data.station, data.area)
    return _Scored(overall, n, df, _by(y, design, data.area), area_n, area_df,
                   _by(y, design, data.station), station_n, station_df)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def versus_benchmark(raw: tuple[float, float], benchmark: float, *,
                     bounded: bool) -> compare.Change:
    """An estimate (on 0–1, with its SE) against a published figure without error.

    For a share the test is made on the log-odds scale, where the logit interval shown beside
    the figure is built, so that the words agree with the interval (near 98% the normal test
    and the logit interval can disagree); the difference reported stays in percentage points.
    Where the log-odds are undefined (0 or 100%, or no variance seen) no test is claimed."""
    natural = compare.versus_benchmark(raw, benchmark, level=LEVEL)
    if not bounded:
        return natural
    p, se = raw
    if not (0 < p < 1 and 0 < benchmark < 1 and se > 0):
        return replace(natural, z=math.nan, p=math.nan, significant=False)
    on_logit = compare.versus_benchmark((_logit(p), se / (p * (1 - p))), _logit(benchmark),
                                        level=LEVEL)
    return replace(natural, z=on_logit.z, p=on_logit.p, significant=on_logit.significant)


def _change(current: Figure, previous: Figure, rule: IndexRule, *, points: bool) -> Comparison:
    found = compare.difference(current.raw, previous.raw, level=LEVEL)
    return Comparison(against="上期", other=previous.estimate, diff=found.diff * rule.scale,
                      p=found.p, significant=found.significant,
                      text=compare.wording(found, points=points, scale=rule.scale))


def _index(definition: IndexDefinition, data: WaveData, previous: WaveData | None,
           names: _Names, benchmarks: Sequence[Benchmark], *, domains: bool,
           floor: int, question_codes: set[str]) -> IndexResult:
    try:
        rule = defs.parse_rule(definition)
    except (ValueError, TypeError, KeyError) as exc:
        return IndexResult(definition, None, "", error=f"计算规则无法读取：{exc}")
    result = IndexResult(definition, rule, rule.describe())
    if definition.question_code not in question_codes:
        result.error = f"本期问卷没有题目“{definition.question_code}”"
        return result
    if definition.question_code not in data.columns:
        result.error = f"题目“{definition.question_code}”是文字题，不能计算指数"
        return result
    scale, bounded, points = rule.scale, result.bounded, result.points
    try:
        now = _score(rule, data, definition.question_code, domains=domains)
        before = (_score(rule, previous, definition.question_code, domains=domains)
                  if previous is not None and previous.n else None)
    except ValueError as exc:
        result.error = f"按该口径无法计算：{exc}"
        return result

    result.overall = _figure(now.overall, key=None, name="全局", n=now.n, df=now.df,
                             scale=scale, bounded=bounded, floor=1)
    if before is not None and before.n:
        result.previous = _figure(before.overall, key=None, name="上期", n=before.n,
                                  df=before.df, scale=scale, bounded=bounded, floor=1)
        if result.overall.has_value and result.previous.has_value:
            result.change = _change(result.overall, result.previous, rule, points=points)
    if result.overall.has_value:
        for b in benchmarks:
            if b.index_code != definition.code:
                continue
            found = versus_benchmark(result.overall.raw, float(b.value) / scale,
                                     bounded=bounded)
            result.benchmarks.append(Comparison(
                against=b.label, other=float(b.value), diff=found.diff * scale, p=found.p,
                significant=found.significant,
                text=compare.benchmark_wording(found, b.label, points=points, scale=scale)))
    if not domains:
        return result

    for key in names.township_ids(data):
        name, _code, station_id = names.areas.get(key, (f"区域{key}", "", None))
        station = names.stations.get(station_id, ("", ""))[0] if station_id else ""
        fig = _figure(now.areas.get(key), key=key, name=name, n=now.area_n.get(key, 0),
                      df=now.area_df.get(key), scale=scale, bounded=bounded, floor=floor,
                      station=station)
        if before is not None and fig.has_value and not fig.suppressed:
            prev = _figure(before.areas.get(key), key=key, name=name,
                           n=before.area_n.get(key, 0), df=before.area_df.get(key),
                           scale=scale, bounded=bounded, floor=floor)
            if prev.has_value and not prev.suppressed:
                fig.change = _change(fig, prev, rule, points=points)
        result.townships.append(fig)
    for key in names.station_ids(data):
        name = names.stations.get(key, (f"单位{key}", ""))[0]
        fig = _figure(now.stations.get(key), key=key, name=name, n=now.station_n.get(key, 0),
                      df=now.station_df.get(key), scale=scale, bounded=bounded, floor=floor)
        if before is not None and fig.has_value and not fig.suppressed:
            prev = _figure(before.stations.get(key), key=key, name=name,
                           n=before.station_n.get(key, 0), df=before.station_df.get(key),
                           scale=scale, bounded=bounded, floor=floor)
            if prev.has_value and not prev.suppressed:
                fig.change = _change(fig, prev, rule, points=points)
        result.stations.append(fig)
    _rank(result.townships)
    _rank(result.stations)
    return result


def _rank(figures: list[Figure]) -> None:
    eligible = [f for f in figures if f.has_value and not f.suppressed]
    if not eligible:
        return
    ranges = compare.rank_ranges([f.raw[0] for f in eligible], [f.raw[1] for f in eligible],
                                 level=LEVEL)
    for f, r in zip(eligible, ranges, strict=True):
        f.rank = r


def _choices(questions: Iterable[tuple[str, str, str, list[str]]], data: WaveData,
             ) -> list[ChoiceResult]:
    found = []
    for code, kind, text, options in questions:
        if kind != QuestionKind.MULTIPLE or not options:
            continue
        index = {o: j for j, o in enumerate(options)}
        column = data.column(code)
        # Per distinct answer: NaN outside the base (not answered), else 0/1 per option.
        per_value = np.full((len(column.values), len(options)), np.nan)
        for v, value in enumerate(column.values):
            value = _decode(value)
            if isinstance(value, list):
                per_value[v, :] = 0.0
                for option in value:
                    j = index.get(option)
                    if j is not None:
                        per_value[v, j] = 1.0
        named = per_value[column.codes] if data.n else np.zeros((0, len(options)))
        in_base = ~np.isnan(named[:, 0]) if data.n else np.zeros(0, dtype=bool)
        base = int(in_base.sum())
        shares = []
        if base:
            design = data.design()
            df = float(base - len(np.unique(data.area[in_base])))
            for option, j in index.items():
                est = estimate(named[:, j], design, stat="mean", level=LEVEL, ci="normal",
                               deff="replace")
                shares.append(_figure(est, key=j, name=option, n=base, df=df, scale=100.0,
                                      bounded=True, floor=1))
            shares.sort(key=lambda f: (-(f.estimate or 0.0), f.key))
        found.append(ChoiceResult(code=code, text=text, n=base, shares=shares))
    return found


@dataclass
class _Written:
    """The suggestions of a wave as cached: up to the response id `top`, `n` responses."""

    top: int
    n: int
    total: int
    shown: list[Suggestion]


def _suggestions(wave: Wave, codes: Sequence[str], *, upto: int,
                 after: int = 0) -> tuple[int, list]:
    """What people wrote in the text questions `codes` (of the responses with ids after
    `after`, up to `upto`), newest first: the count and the first ones (two queries per text
    question)."""
    shown: list[Suggestion] = []
    total = 0
    for code in codes:
        written = (Response.objects.filter(wave_id=wave.pk, pk__gt=after, pk__lte=upto)
                   .annotate(_said=Trim(KT(f"answers__{code}")))
                   .exclude(_said__isnull=True).exclude(_said=""))
        total += written.count()
        room = SUGGESTIONS_SHOWN - len(shown)
        if room > 0:
            shown += [Suggestion(township=name, text=said) for name, said in
                      written.order_by("-pk").values_list("area__name", "_said")[:room]]
    return total, shown


def suggestions_of(wave: Wave, codes: Sequence[str], stamp: Stamp | None,
                   ) -> tuple[list[Suggestion], int]:
    """The newest suggestions and their count, cached as the arrays are: counting them reads
    every answer document, so only the responses added since are read again."""
    if stamp is None or not codes:
        return [], 0
    key = _key("text", str(stamp.wave), stamp.made, *codes)
    cached: _Written | None = cache.get(key)
    if cached is not None and (cached.top, cached.n) == (stamp.top, stamp.n):
        return cached.shown, cached.total
    if cached is not None and cached.top < stamp.top and cached.n < stamp.n:
        # Bounded by the stamp: a response added meanwhile is the next page's to count.
        total, shown = _suggestions(wave, codes, after=cached.top, upto=stamp.top)
        cached = _Written(stamp.top, stamp.n, cached.total + total,
                          (shown + cached.shown)[:SUGGESTIONS_SHOWN])
    else:
        total, shown = _suggestions(wave, codes, upto=stamp.top)
        cached = _Written(stamp.top, stamp.n, total, shown)
    cache.set(key, cached, ARRAYS_TIMEOUT)
    return cached.shown, cached.total


def method_paragraphs(results: WaveResults) -> list[str]:
    """The method as the page and the report state it: sample, weighting, design, intervals,
    small numbers, comparisons, and the definitions used."""
    lines = [f"本期共获得有效答卷{results.n}份（电话访问{results.phone}份，"
             f"网上自填{results.web}份）。"]
    if results.weighted:
        w = results.weighting
        diag = (w.diagnostics or {}) if w is not None else {}
        deff_w = diag.get("deff_w")
        text = "各项估计按答卷的当前权重计算"
        if w is not None:
            text += f"（{w.get_method_display()}，人口总体：{w.table}）"
        if isinstance(deff_w, int | float):
            text += f"，权重引起的设计效应为{deff_w:.2f}"
        efficiency = diag.get("efficiency")
        if isinstance(efficiency, int | float):
            text += f"，加权效率为{efficiency * 100:.1f}%"
        lines.append(text + "。")
    else:
        text = "本期答卷未加权，各项估计为未加权估计（每位受访者权重为1）"
        if results.missing_weights:
            text += (f"：有{results.missing_weights}份答卷是加权后新增的、没有权重，"
                     "请重新加权后再看加权结果")
        lines.append(text + "。")
    lines.append(DESIGN_TEXT)
    lines.append(CI_METHOD_TEXT)
    lines.append(f"某一乡镇或派出所在该指数基数中的受访者不足{results.min_n}人时，"
                 f"仍列出人数，标“{INSUFFICIENT}”，不列入排名。排名区间：一个单位可能的名次范围，"
                 "下限为1加上显著高于它的单位数，上限为参加排名的单位数减去显著低于它的单位数"
                 "（两两z检验，5%水平）。")
    if results.previous_wave is not None:
        lines.append(f"与上期（{results.previous_wave.name}）比较：两期为独立样本，差值的标准误为"
                     "两期标准误平方和的平方根，双侧z检验，p<0.05称差异显著，否则称差异不显著。")
    lines.append(f"比较基准：取{results.benchmark_year}年录入的同一口径代码的全省、全市等平均值，"
                 "把基准当作没有误差的固定值检验；比例类指数在对数几率尺度上检验，与所示的 logit "
                 "置信区间的判断一致；本期比例为0或100%时不作检验。")
    for r in results.headline:
        if r.description:
            lines.append(f"{r.definition.name}：{r.description}")
    return lines


def wave_results(wave: Wave, *, user: Any = None, definition: IndexDefinition | None = None,
                 all_domains: bool = False) -> WaveResults:
    """Every figure of the results page (and the report) of `wave`.

    The headline shows one definition per index code (`definitions.default_definitions`);
    `definition`, when given, is the focus — it replaces its code's default and its township
    and station tables are computed. `all_domains` computes the tables for every headline
    index (the report). Suggestions are listed only when `user` may read answers."""
    floor = min_n()
    available = list(defs.definitions_for(wave.bureau))
    headline_defs = defs.default_definitions(available)
    if definition is not None:
        headline_defs = [definition if d.code == definition.code else d for d in headline_defs]
        if definition not in headline_defs:
            headline_defs.append(definition)
    focus_def = definition or (headline_defs[0] if headline_defs else None)
    benchmark_year = wave.starts_on.year
    benchmarks = list(Benchmark.objects.filter(
        bureau_id=wave.bureau_id, year=benchmark_year,
        index_code__in={d.code for d in headline_defs}).order_by("label"))
    questions = [(c, k, t, list(o or [])) for c, k, t, o in
                 Question.objects.filter(version_id=wave.version_id).order_by("position")
                 .values_list("code", "kind", "text", "options")]
    question_codes = {q[0] for q in questions}
    # Every answer but the free text, whatever definition is asked for: one cache entry per
    # wave serves every choice of definition.
    codes = {q[0] for q in questions if q[1] != QuestionKind.TEXT}
    stamp = fingerprint(wave)
    data = wave_arrays(wave, codes, stamp)
    previous_wave = wave.previous()
    previous = wave_arrays(previous_wave, codes) if previous_wave is not None else None
    names = _names(wave, data, previous)

    headline = []
    focus = None
    for d in headline_defs:
        is_focus = focus_def is not None and d.pk == focus_def.pk
        found = _index(d, data, previous, names, benchmarks, floor=floor,
                       domains=data.n > 0 and (is_focus or all_domains),
                       question_codes=question_codes)
        headline.append(found)
        if is_focus:
            focus = found

    readers = user is not None and access.may_read_survey_answers(user, wave.bureau)
    suggestions: list[Suggestion] | None = None
    total = 0
    if readers:
        suggestions, total = suggestions_of(
            wave, [q[0] for q in questions if q[1] == QuestionKind.TEXT], stamp)
    weighting = (Weighting.objects.filter(wave_id=wave.pk).select_related("table")
                 .order_by("-created_at", "-pk").first() if data.weighted else None)
    results = WaveResults(
        wave=wave, previous_wave=previous_wave if previous is not None and previous.n else None,
        n=data.n, phone=data.phone, weighted=data.weighted,
        missing_weights=data.missing_weights, weighting=weighting, min_n=floor,
        definitions=available, focus=focus, headline=headline,
        choices=_choices(questions, data) if data.n else [],
        suggestions=suggestions, suggestion_total=total, benchmark_year=benchmark_year,
        method=[])
    results.method = method_paragraphs(results)
    return results


def warm(wave: Wave) -> None:
    """Read a wave's arrays into the cache (after it closes or is weighted), so that the first
    page of its results does not pay for reading the responses."""
    wave_results(wave)


# --- which wave, for the overview ------------------------------------------------------------


def _answered(user: Any) -> Any:
    return access.visible_waves(user).filter(
        Exists(Response.objects.filter(wave_id=OuterRef("pk"))))


def latest_wave_with_responses(user: Any) -> Wave | None:
    """The user's bureaus' latest wave (by its end date) that has responses."""
    return _answered(user).order_by("-ends_on", "-pk").first()


def waves_with_responses(user: Any, *, limit: int = 20) -> list[Wave]:
    return list(_answered(user).select_related("bureau").order_by("-ends_on", "-pk")[:limit])


def chart_data(results: WaveResults) -> dict[str, Any]:
    """What results.js draws: the focus index per township and station, with intervals, and the
    problems named most."""

    def bars(figures: Iterable[Figure]) -> list[dict[str, Any]]:
        return [{"name": f.name, "value": _round(f.estimate), "low": _round(f.ci_low),
                 "high": _round(f.ci_high), "n": f.n, "suppressed": f.suppressed,
                 "rank": f.rank_text}
                for f in figures if f.has_value]

    focus = results.focus
    out: dict[str, Any] = {"min_n": results.min_n, "insufficient": INSUFFICIENT}
    if focus is not None and focus.overall is not None:
        out["focus"] = {"label": focus.label, "name": focus.definition.name,
                        "unit": focus.unit, "overall": _round(focus.overall.estimate),
                        "townships": bars(focus.townships), "stations": bars(focus.stations)}
    out["choices"] = [{"code": c.code, "text": c.text, "bars": bars(c.shares)}
                      for c in results.choices]
    return out
