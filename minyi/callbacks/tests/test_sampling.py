"""The draw's pure logic: sizes, a seed's known draw, cooling-off. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from minyi.callbacks import sampling


@pytest.mark.parametrize(("n", "share", "minimum", "maximum", "expected"), [
    (20, "0.3", 0, None, 6),
    (5, "0.1", 0, None, 1),       # 0.5 rounds half up, not to even
    (25, "0.1", 0, None, 3),      # 2.5 → 3
    (24, "0.1", 0, None, 2),      # 2.4 → 2
    (10, "0.1", 3, None, 3),      # at least the minimum
    (100, "0.5", 0, 20, 20),      # at most the maximum
    (2, "0.1", 5, 10, 2),         # never more than there are
    (0, "1", 3, None, 0),
    (7, "1", 0, None, 7),
    (7, 0, 0, None, 0),
])
def test_sample_size(n, share, minimum, maximum, expected):
    assert sampling.sample_size(n, share=share, minimum=minimum, maximum=maximum) == expected


def test_sample_size_refuses_nonsense():
    with pytest.raises(ValueError, match="0 到 1"):
        sampling.sample_size(10, share="1.5")
    with pytest.raises(ValueError, match="最少数不能大于最多数"):
        sampling.sample_size(10, share="0.5", minimum=5, maximum=3)


def test_a_seed_gives_a_known_draw_whatever_the_order_read():
    assert sampling.draw(range(1, 21), share="0.3", seed=42) == [1, 3, 4, 8, 9, 17]
    assert sampling.draw(list(range(20, 0, -1)), share="0.3", seed=42) == [1, 3, 4, 8, 9, 17]
    assert sampling.draw(range(1, 21), share="0.3", seed=43) == [2, 5, 10, 11, 12, 15]


def test_draw_clamps_and_takes_all_at_share_one():
    assert sampling.draw([5, 3, 9], share=1, seed=1) == [3, 5, 9]
    assert len(sampling.draw(range(100), share="0.5", maximum=4, seed=7)) == 4
    assert sampling.draw([], share="0.5", minimum=2, seed=7) == []


def test_seed_for_is_stable_and_fits_a_signed_bigint():
    assert sampling.seed_for(7, date(2026, 11, 20)) == 7637231451009054496
    assert sampling.seed_for(7, date(2026, 11, 21)) != sampling.seed_for(7, date(2026, 11, 20))
    assert 0 <= sampling.seed_for(8, date(2026, 11, 20)) < 2 ** 63


def test_cooling_off_skips_recent_phones_and_second_contacts_of_one_phone():
    as_of = datetime(2026, 11, 21, tzinfo=UTC)
    last = {"h-recent": as_of - timedelta(days=29, hours=23),
            "h-old": as_of - timedelta(days=30, hours=1)}
    candidates = [(4, "h-new"), (1, "h-recent"), (2, "h-old"), (3, ""), (5, "h-new")]
    kept, skipped = sampling.cooling_off(candidates, last, as_of=as_of, days=30)
    assert kept == [2, 3, 4]
    assert skipped == [1, 5]


def test_no_cooling_off_period_still_calls_a_phone_once_per_draw():
    as_of = datetime(2026, 11, 21, tzinfo=UTC)
    kept, skipped = sampling.cooling_off([(1, "h"), (2, "h")], {"h": as_of}, as_of=as_of,
                                         days=0)
    assert (kept, skipped) == ([1], [2])
