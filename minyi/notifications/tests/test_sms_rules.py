"""The pure rules of text messages: which numbers are mobiles, how many messages a text costs,
which texts are refused, how long a failed message waits. No database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from minyi.core.errors import InvalidInput
from minyi.notifications.sms import MAX_CHARS, check_text, normalize_mobile, segments
from minyi.notifications.sms.outbox import backoff


@pytest.mark.parametrize(("raw", "expected"), [
    ("13812345678", "13812345678"),
    ("+86 138-1234-5678", "13812345678"),
    ("008619912345678", "19912345678"),
    (" 139 0000 1111 ", "13900001111"),
    ("12812345678", None),   # no mobile network starts 12
    ("1381234567", None),    # ten digits
    ("138123456789", None),  # twelve
    ("053712345678", None),  # a landline cannot receive a text
    ("", None),
])
def test_only_mainland_mobiles_are_numbers_for_sms(raw, expected):
    assert normalize_mobile(raw) == expected


@pytest.mark.parametrize(("text", "parts"), [
    ("", 0),
    ("督" * 70, 1),
    ("督" * 71, 2),    # over one message: parts of 67
    ("督" * 134, 2),
    ("督" * 135, 3),
    ("督" * 500, 8),   # ceil(500 / 67)
    ("a" * 160, 1),    # plain ASCII: 160 in one, 153 per part
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("a" * 159 + "督", 3),  # one Chinese character makes the whole text UCS-2: ceil(160/67)
])
def test_segments_count_what_the_gateway_bills(text, parts):
    assert segments(text) == parts


def test_texts_are_trimmed_and_refused_when_empty_or_too_long():
    assert check_text("  请签收督办单  ") == "请签收督办单"
    assert check_text("督" * MAX_CHARS) == "督" * 500
    with pytest.raises(InvalidInput, match="不能为空"):
        check_text("   ")
    with pytest.raises(InvalidInput, match="501 字，最多 500 字"):
        check_text("督" * 501)


def test_backoff_doubles_from_a_minute_up_to_an_hour():
    assert [backoff(n) for n in range(1, 9)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    assert backoff(0) == timedelta(minutes=1)
    assert backoff(10_000) == timedelta(hours=1)  # no overflow after weeks of failures
