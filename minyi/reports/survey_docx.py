"""The analysis report of a survey wave (民调分析报告) for the leadership, as a Word document in
the layout of an official document (GB/T 9704, `minyi.reports.docx`).

It takes the figures `minyi.surveys.results.wave_results` computed (with the tables of every
headline index, `all_domains=True`) and writes them out: the headline indices with their
intervals and definitions, the changes against the previous wave in words that respect the
significance test, the comparison with the benchmarks, the weakest items and areas, the problems
named most, and the method. It reads no database: the access check and the figures are the
caller's.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from minyi.reports import docx as official

if TYPE_CHECKING:
    from minyi.surveys.results import Figure, IndexResult, WaveResults

CHINESE_ORDINALS = "一二三四五六七八九十"
WEAKEST_AREAS = 3
PROBLEMS_LISTED = 5
WIDTHS = [3.2, 2.6, 2.0, 3.0, 2.0, 2.8]


def _value(figure: Figure | None, unit: str) -> str:
    if figure is None or figure.estimate is None:
        return "—"
    return f"{figure.estimate:.2f}{unit}"


def _interval(figure: Figure | None, unit: str) -> str:
    if figure is None or figure.ci_low is None or figure.ci_high is None:
        return "—"
    return f"{figure.ci_low:.2f}{unit}–{figure.ci_high:.2f}{unit}"


def _usable(results: WaveResults) -> list[IndexResult]:
    return [r for r in results.headline
            if not r.error and r.overall is not None and r.overall.has_value]


def _sentence(r: IndexResult) -> str:
    o = r.overall
    text = (f"{r.definition.name}为{_value(o, r.unit)}（95%置信区间{_interval(o, r.unit)}，"
            f"基数{o.n}人，{r.label}）")
    if r.change is not None:
        # "与上期持平" stands alone; a rise or fall reads "较上期提高…".
        joined = r.change.text if r.change.text.startswith("与") else f"较上期{r.change.text}"
        text += f"，{joined}"
    if r.benchmarks:
        text += "，" + "，".join(b.text for b in r.benchmarks)
    return text + "。"


def _weakest_items(indices: list[IndexResult]) -> list[str]:
    lines = []
    shares = sorted((r for r in indices if r.points), key=lambda r: r.overall.estimate)
    if shares:
        lowest = shares[:3]
        lines.append("按本期数值，最低的几项是" + "、".join(
            f"{r.definition.name}（{_value(r.overall, r.unit)}）" for r in lowest) + "。")
    fell = [r for r in indices if r.change is not None and r.change.significant
            and r.change.diff < 0]
    if fell:
        lines.append("较上期显著下降的有" + "、".join(
            f"{r.definition.name}（{r.change.text}）" for r in fell) + "。")
    below = [(r, b) for r in indices for b in r.benchmarks if b.significant and b.diff < 0]
    if below:
        lines.append("显著低于比较基准的有" + "、".join(
            f"{r.definition.name}（{b.text}）" for r, b in below) + "。")
    if not fell and not below and indices:
        lines.append("没有指标较上期显著下降或显著低于比较基准。")
    return lines


def _weakest_areas(r: IndexResult, min_n: int) -> str:
    """The lowest townships of an index (its bottom third, one to three of them), with their
    intervals and rank ranges, and whether they can be told apart from the others at all."""
    ranked = r.ranked_townships()
    suppressed = [f for f in r.townships if f.suppressed]
    if not ranked:
        return f"{r.definition.name}：各乡镇（街道）样本均不足{min_n}人，不作排名。"
    count = max(1, min(WEAKEST_AREAS, len(ranked) // 3))
    weakest = list(reversed(ranked[-count:]))
    text = (f"{r.definition.name}（{r.label}）较低的乡镇（街道）是" + "、".join(
        f"{f.name}{_value(f, r.unit)}（{_interval(f, r.unit)}，{f.rank_text}）" for f in weakest)
        + "。")
    if len(ranked) > 1 and all(f.rank == (1, len(ranked)) for f in ranked):
        text += "各乡镇（街道）之间的差异均不显著，名次仅供参考。"
    if suppressed:
        text += (f"另有{len(suppressed)}个乡镇（街道）样本不足{min_n}人，"
                 "未列入排名：" + "、".join(f"{f.name}（{f.n}人）" for f in suppressed) + "。")
    return text


def survey_report_docx(results: WaveResults, *, on: date) -> bytes:
    """The Word file of a wave's analysis report, as bytes."""
    wave = results.wave
    issuer = wave.bureau.name
    title = f"{wave.name}分析报告"
    document = official.official_document(issuer=issuer, title=title)
    indices = _usable(results)

    intro = (f"{official.official_date(wave.starts_on)}至{official.official_date(wave.ends_on)}，"
             f"{issuer}开展了{wave.name}，共获得有效答卷{results.n}份（电话访问{results.phone}份，"
             f"网上自填{results.web}份）。")
    intro += ("各项结果按答卷权重计算。" if results.weighted
              else "本期答卷未加权，各项结果为未加权估计。")
    official.add_body(document, intro + "现将调查结果报告如下。")

    number = iter(CHINESE_ORDINALS)
    official.add_heading(document, f"{next(number)}、总体情况")
    if indices:
        for r in indices:
            official.add_body(document, _sentence(r))
        official.add_table(
            document, ["指标", "口径", "本期", "95%置信区间", "上期", "较上期"],
            [[r.definition.name, f"{r.definition.code} v{r.definition.version}",
              _value(r.overall, r.unit), _interval(r.overall, r.unit),
              _value(r.previous, r.unit), r.change.text if r.change else "—"]
             for r in indices], WIDTHS)
    else:
        official.add_body(document, "本期没有可计算的指数。")

    official.add_heading(document, f"{next(number)}、与上期比较")
    if results.previous_wave is None:
        official.add_body(document, "本期之前没有同一问卷的调查，暂无上期数据可比。")
    else:
        rose = [r for r in indices if r.change and r.change.significant and r.change.diff > 0]
        fell = [r for r in indices if r.change and r.change.significant and r.change.diff < 0]
        same = [r for r in indices if r.change and not r.change.significant]
        parts = [f"与上期（{results.previous_wave.name}）相比"]
        if rose:
            parts.append("显著提高的有" + "、".join(
                f"{r.definition.name}（{r.change.text}）" for r in rose))
        if fell:
            parts.append("显著下降的有" + "、".join(
                f"{r.definition.name}（{r.change.text}）" for r in fell))
        if same:
            parts.append("、".join(r.definition.name for r in same)
                         + "的变化在抽样误差范围内，差异不显著，不宜作升降判断")
        official.add_body(document, "，".join(parts) + "。")

    official.add_heading(document, f"{next(number)}、与全省、全市平均比较")
    compared = [(r, b) for r in indices for b in r.benchmarks]
    if compared:
        for r, b in compared:
            official.add_body(document, f"{r.definition.name}{_value(r.overall, r.unit)}，"
                                        f"{b.against}为{b.other:.2f}{r.unit}，{b.text}。")
    else:
        official.add_body(document, f"{results.benchmark_year}年尚未录入全省、全市等比较基准。")

    official.add_heading(document, f"{next(number)}、薄弱环节")
    official.add_heading(document, "（一）薄弱指标", level=2)
    for line in _weakest_items(indices) or ["本期没有可计算的指数。"]:
        official.add_body(document, line)
    official.add_heading(document, "（二）薄弱区域", level=2)
    for r in indices:
        if r.townships:
            official.add_body(document, _weakest_areas(r, results.min_n))
    main = next((r for r in indices if r.townships), None)
    if main is not None:
        official.add_body(document, f"{main.definition.name}（{main.label}）各乡镇（街道）"
                                    f"情况见下表（样本不足{results.min_n}人的不排名）。")
        official.add_table(
            document, ["乡镇（街道）", "派出所", "基数", "本期", "95%置信区间", "排名区间"],
            [[f.name + ("（样本不足）" if f.suppressed else ""), f.station or "—", f.n,
              _value(f, main.unit), _interval(f, main.unit), f.rank_text]
             for f in main.townships], WIDTHS)

    official.add_heading(document, f"{next(number)}、群众反映突出的问题")
    choices = [c for c in results.choices if c.shares]
    if choices:
        for c in choices:
            top = c.shares[:PROBLEMS_LISTED]
            named = "、".join(f"{f.name}（{_value(f, '%')}，95%置信区间{_interval(f, '%')}）"
                              for f in top)
            official.add_body(document, f"在回答“{c.text}”的{c.n}人中，提及最多的依次是{named}。")
    else:
        official.add_body(document, "本期没有人回答突出问题一题。")

    official.add_heading(document, f"{next(number)}、下一步工作建议")
    official.add_body(document, "建议针对上述薄弱指标和薄弱区域，由相关派出所和业务部门分析原因、"
                                "制定整改措施，并在下一期调查中跟踪变化；群众反映集中的治安问题，"
                                "纳入专项整治和警情研判。")

    official.add_heading(document, f"{next(number)}、计算方法与口径")
    for line in results.method:
        official.add_body(document, line)

    official.add_signature(document, issuer=issuer, on=on)
    return official.to_bytes(document)
