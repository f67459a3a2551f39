"""The desk's pure rules: dispositions and their AAPOR classes, retries, calling hours,
satisfaction definitions. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minyi.callbacks import rules

SH = rules.TIME_ZONE
HOURS = ("08:00", "21:00")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_every_disposition_the_callers_know_is_there_with_its_label_and_class():
    labels = {d.label: (d.outcome, d.final) for d in rules.DISPOSITIONS.values()}
    assert labels == {
        "接通": ("I", True), "无人接听": ("UH", False), "占线": ("UH", False),
        "关机": ("UH", False), "停机": ("NE", True), "空号": ("NE", True),
        "号码错误": ("NE", True), "非本人": ("NE", True), "拒访": ("R", True),
        "中途挂断": ("R", True), "预约再拨": ("NC", False), "语言不通": ("O", True),
    }
    assert {d.outcome for d in rules.DISPOSITIONS.values()} <= set(rules.AAPOR)
    keys = [d.key for d in rules.DISPOSITIONS.values()]
    assert len(keys) == len(set(keys))  # one key, one button


def test_unknown_disposition():
    with pytest.raises(ValueError, match="未知的拨打结果"):
        rules.disposition("hello")


@pytest.mark.parametrize(("after", "expected"), [
    (sh(2026, 11, 20, 10, 0), sh(2026, 11, 20, 10, 0)),      # within: itself
    (sh(2026, 11, 20, 8, 0), sh(2026, 11, 20, 8, 0)),        # the start is allowed
    (sh(2026, 11, 20, 7, 59), sh(2026, 11, 20, 8, 0)),       # before: the same morning
    (sh(2026, 11, 20, 21, 0), sh(2026, 11, 21, 8, 0)),       # the end is not
    (sh(2026, 11, 20, 23, 30), sh(2026, 11, 21, 8, 0)),      # after: the next morning
    (sh(2026, 11, 21, 0, 10), sh(2026, 11, 21, 8, 0)),       # after midnight
])
def test_next_call_time(after, expected):
    got = rules.next_call_time(after, HOURS)
    assert got == expected
    assert got.tzinfo == UTC


def test_next_call_time_reads_the_local_clock_of_a_utc_moment():
    # 13:30 UTC is 21:30 in Shanghai: outside, so the next morning 08:00 (00:00 UTC).
    assert rules.next_call_time(datetime(2026, 11, 20, 13, 30, tzinfo=UTC), HOURS) == \
        datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_call_hours_from_settings(settings):
    settings.MINYI_CALL_HOURS = ("09:00", "18:00")
    assert rules.next_call_time(sh(2026, 11, 20, 8, 30)) == sh(2026, 11, 20, 9, 0)
    assert not rules.in_call_hours(sh(2026, 11, 20, 18, 0))
    assert rules.in_call_hours(sh(2026, 11, 20, 17, 59))
    with pytest.raises(ValueError):
        rules.call_hours(("21:00", "08:00"))


def test_no_answer_is_retried_after_two_hours_then_closed_on_the_third():
    now = sh(2026, 11, 20, 10, 0)
    first = rules.after_attempt("no_answer", attempts_made=1, now=now, hours=HOURS)
    assert first == rules.AttemptResult("UH", False, sh(2026, 11, 20, 12, 0))
    second = rules.after_attempt("busy", attempts_made=2, now=now, hours=HOURS)
    assert second.next_attempt_at == sh(2026, 11, 20, 12, 0)
    third = rules.after_attempt("switched_off", attempts_made=3, now=now, hours=HOURS)
    assert third == rules.AttemptResult("UH", True, None)


def test_a_retry_falling_after_hours_moves_to_the_next_morning():
    got = rules.after_attempt("no_answer", attempts_made=1, now=sh(2026, 11, 20, 19, 30),
                              hours=HOURS)
    assert got.next_attempt_at == sh(2026, 11, 21, 8, 0)


def test_final_dispositions_close_at_once():
    now = sh(2026, 11, 20, 10, 0)
    for code, outcome in [("invalid_number", "NE"), ("refused", "R"), ("language", "O"),
                          ("not_person", "NE"), ("hung_up", "R"), ("suspended", "NE")]:
        assert rules.after_attempt(code, attempts_made=1, now=now, hours=HOURS) == \
            rules.AttemptResult(outcome, True, None)


def test_an_appointment_at_the_time_given_moved_into_hours_and_capped():
    now = sh(2026, 11, 20, 10, 0)
    at = rules.after_attempt("appointment", attempts_made=3, now=now,
                             retry_at=sh(2026, 11, 20, 15, 30), hours=HOURS)
    # Kept beyond the usual three attempts: the person asked for it.
    assert at == rules.AttemptResult("NC", False, sh(2026, 11, 20, 15, 30))
    late = rules.after_attempt("appointment", attempts_made=1, now=now,
                               retry_at=sh(2026, 11, 20, 22, 0), hours=HOURS)
    assert late.next_attempt_at == sh(2026, 11, 21, 8, 0)
    assert rules.after_attempt("appointment", attempts_made=5, now=now,
                               retry_at=sh(2026, 11, 20, 15, 0), hours=HOURS).closes
    with pytest.raises(ValueError, match="约定的时间"):
        rules.after_attempt("appointment", attempts_made=1, now=now, hours=HOURS)
    with pytest.raises(ValueError, match="晚于现在"):
        rules.after_attempt("appointment", attempts_made=1, now=now,
                            retry_at=now - timedelta(minutes=1), hours=HOURS)


def test_satisfaction_rate_under_each_definition():
    # 6 satisfied, 2 basically, 2 dissatisfied.
    assert rules.satisfaction_rate(6, 2, 2, "callbacks.satisfaction/1.0") == 0.8
    assert rules.satisfaction_rate(6, 2, 2, "callbacks.satisfaction/0.9") == pytest.approx(0.78)
    assert rules.satisfaction_rate(6, 2, 2, "callbacks.satisfaction/0.5") == 0.7
    assert rules.satisfaction_rate(0, 0, 0, "callbacks.satisfaction/1.0") is None
    assert rules.satisfaction_rate(3, 0, 0) == 1.0
    assert set(rules.DEFINITION_LABELS) == set(rules.DEFINITIONS)
    with pytest.raises(ValueError, match="口径"):
        rules.satisfaction_rate(1, 1, 1, "callbacks.satisfaction/0.7")
    with pytest.raises(ValueError):
        rules.satisfaction_rate(-1, 1, 1)
