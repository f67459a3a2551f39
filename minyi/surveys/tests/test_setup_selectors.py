"""What the wave pages read: completes per township against quotas, the frame by state, the
AAPOR rates from the members' outcomes, the list of waves, and links to routes that may not
exist yet."""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.urls import NoReverseMatch

from minyi.orgs import access
from minyi.orgs.tests.factories import AreaFactory
from minyi.surveys import actions, selectors
from minyi.surveys.models import FrameMember, Wave
from minyi.surveys.selectors import final_class
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db
State = FrameMember.State


@pytest.fixture
def wave(bureau, opinion_officer) -> Wave:
    return factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)


def fill(wave: Wave, bureau) -> None:
    """3 completes (2 in 东城镇, 1 in 西城镇), closed R, NC, 2×UH (one without a class), 2×NE,
    and one number still pending."""
    factories.response(wave, bureau.township, {"security": "安全"})
    factories.response(wave, bureau.township, {"security": "很安全"})
    factories.response(wave, bureau.other_township, {"security": "不安全"})
    factories.member(wave, area=bureau.township, state=State.CLOSED, attempts=1, outcome="R")
    factories.member(wave, state=State.CLOSED, attempts=2, outcome="NC")
    factories.member(wave, state=State.CLOSED, attempts=3, outcome="UH")
    factories.member(wave, state=State.CLOSED)
    factories.member(wave, state=State.CLOSED, attempts=1, outcome="NE")
    factories.member(wave, state=State.CLOSED, attempts=1, outcome="NE")
    factories.member(wave, area=bureau.other_township)


def test_completes_per_township_against_quota(bureau, opinion_officer, wave):
    actions.set_quotas(actor=opinion_officer, wave=wave, targets={bureau.township.pk: 4})
    fill(wave, bureau)
    progress = selectors.quota_progress(wave)
    assert [(r.area.name, r.target, r.completes, r.frame, r.percent, r.remaining)
            for r in progress.rows] == [("东城镇", 4, 2, 3, 50, 2), ("西城镇", 0, 1, 2, None, 0)]
    assert (progress.target, progress.completes, progress.percent) == (4, 3, 75)
    assert progress.unknown_frame == 5


def test_townships_are_the_bureaus_top_level_areas_only(bureau):
    AreaFactory(name="别县镇")  # another station, outside the bureau
    assert [a.name for a in selectors.bureau_townships(bureau.bureau)] == ["东城镇", "西城镇"]


def test_frame_counts_by_state_and_origin(bureau, opinion_officer, wave):
    fill(wave, bureau)
    actions.generate_frame(actor=opinion_officer, wave=wave, prefixes="139", count=2, seed=3)
    counts = selectors.frame_counts(wave)
    assert (counts.total, counts.imported, counts.generated, counts.with_area) == (12, 10, 2, 5)
    assert counts.state_rows() == [("pending", "待拨打", 3), ("retry", "待重拨", 0),
                                   ("done", "已完成", 3), ("closed", "已结案", 6)]


def test_aapor_rates_from_the_members_outcomes(bureau, wave):
    fill(wave, bureau)
    rates = selectors.wave_rates(wave)
    assert rates.outcomes.as_dict() == {"I": 3, "P": 0, "R": 1, "NC": 1, "O": 0, "UH": 2,
                                        "UO": 0, "NE": 2}
    assert rates.open == 1
    # e = E / (E + NE) = 5 / 7.
    assert rates.e == Fraction(5, 7)
    values = {r.name: r.value for r in rates.rates}
    assert values == {"RR1": float(Fraction(3, 7)), "RR3": float(Fraction(7, 15)),
                      "COOP1": 0.75, "REF1": float(Fraction(1, 7)),
                      "CON1": float(Fraction(4, 7))}
    rr1 = rates.rates[0]
    assert (rr1.label, rr1.percent) == ("应答率1", "42.86%")
    assert rr1.working == "RR1 = I/((I+P)+(R+NC+O)+(UH+UO)) = 3/7"


def test_no_final_number_has_no_rates(wave):
    factories.member(wave)
    rates = selectors.wave_rates(wave)
    assert rates.open == 1 and rates.e is None
    assert [r.percent for r in rates.rates] == ["—"] * 5


def test_final_class():
    assert final_class("pending", "UH") is None
    assert final_class("retry", "NC") is None
    assert final_class("done", "") == "I"
    assert final_class("done", "P") == "P"
    assert final_class("closed", "") == "UH"
    assert final_class("closed", "NE") == "NE"


def test_wave_rows_count_in_a_fixed_number_of_queries(bureau, opinion_officer, wave,
                                                      django_assert_num_queries):
    actions.set_quotas(actor=opinion_officer, wave=wave, targets={bureau.township.pk: 10,
                                                                   bureau.other_township.pk: 5})
    fill(wave, bureau)
    factories.wave(bureau, opinion_officer, name="第二期")
    access.forget(opinion_officer)
    # Memberships (access), waves, quotas, responses, frame.
    with django_assert_num_queries(5):
        rows = selectors.wave_rows(opinion_officer)
    # Newest first: same start, the later one made first.
    assert [(r.wave.name, r.target, r.completes, r.frame, r.percent) for r in rows] == [
        ("第二期", 0, 0, 0, None), ("2026年第四季度群众安全感满意度调查", 15, 3, 10, 20)]


def test_links_to_routes_not_written_yet_are_none(wave, monkeypatch):
    def reverse(name, args=()):
        if name == "surveys:desk":
            return "/surveys/desk/"
        raise NoReverseMatch(name)

    monkeypatch.setattr(selectors, "reverse", reverse)
    assert selectors.wave_links(wave) == {"desk": "/surveys/desk/", "weighting": None,
                                          "results": None}
