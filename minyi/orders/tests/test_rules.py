from datetime import UTC, datetime, timedelta

from minyi.orders.rules import TRANSITIONS, State, can_start, countdown, is_on_time

NOW = datetime(2026, 10, 8, 8, 0, tzinfo=UTC)


def test_every_transition_starts_from_known_states():
    for states in TRANSITIONS.values():
        assert states <= set(State.values)


def test_closed_and_invalid_orders_allow_only_redo():
    assert [t for t in TRANSITIONS if can_start(t, State.CLOSED)] == ["redo"]
    assert [t for t in TRANSITIONS if can_start(t, State.INVALID)] == []


def test_on_time_verdict():
    assert is_on_time(NOW, NOW) is True
    assert is_on_time(NOW + timedelta(seconds=1), NOW) is False
    assert is_on_time(None, NOW) is None
    assert is_on_time(NOW, None) is True  # no deadline: nothing to be late for
    assert is_on_time(None, None) is None


def test_countdown_levels_and_text():
    warn = timedelta(hours=1)
    assert countdown(NOW + timedelta(hours=3, minutes=5), NOW, warn).text == "剩余 3小时5分"
    assert countdown(NOW + timedelta(hours=3), NOW, warn).level == "ok"
    close = countdown(NOW + timedelta(minutes=40), NOW, warn)
    assert (close.level, close.text) == ("warn", "剩余 40分钟")
    late = countdown(NOW - timedelta(days=1, hours=2), NOW, warn)
    assert (late.level, late.text) == ("late", "已超时 1天2小时")
    assert countdown(None, NOW, warn) is None
