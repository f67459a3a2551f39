"""The desk's actions against the database: contacts from closed orders, the daily draw, claims,
calls and answers, each with its event; races between two callers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from minyi.callbacks import actions, rules, sampling
from minyi.callbacks.models import (
    Answer,
    Attempt,
    CallbackTask,
    Caller,
    Contact,
    Draw,
    Rectification,
    SamplingPlan,
    Source,
)
from minyi.core.audit import events_for, verify_chain
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.orgs.models import Role
from minyi.testing import race

SH = rules.TIME_ZONE
DAY = date(2026, 11, 20)
pytestmark = pytest.mark.django_db


def sh(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SH)


@contextmanager
def clock(moment: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


_n = {"n": 0}


def contact(bureau: Any, unit: Any = None, *, at: datetime, phone: str | None = None,
            source: str = Source.CALL_110) -> Contact:
    _n["n"] += 1
    c = Contact(bureau=bureau.bureau, unit=unit or bureau.station, source=source,
                record_type="求助", external_id=f"X{_n['n']:05d}", occurred_at=at,
                summary="夜间求助，民警到场处置")
    c.set_person(name="刘女士", phone=phone or f"139{_n['n']:08d}")
    c.save()
    return c


def plan(bureau: Any, **fields: Any) -> SamplingPlan:
    values = dict(bureau=bureau.bureau, name="110 回访", source=Source.CALL_110,
                  caller=Caller.UNIT, share=Decimal("1"), minimum=0, maximum=None,
                  cooling_off_days=30, due_after_hours=24)
    values.update(fields)
    return SamplingPlan.objects.create(**values)


def task(bureau: Any, *, unit: Any = None, caller: str = Caller.UNIT, due: datetime,
         phone: str | None = None) -> CallbackTask:
    c = contact(bureau, unit, at=due - timedelta(days=1), phone=phone)
    return CallbackTask.objects.create(bureau=bureau.bureau, unit=c.unit, caller=caller,
                                       contact=c, due_at=due, next_attempt_at=due)


# --- contacts from closed orders -----------------------------------------------------------


def test_closed_orders_with_a_phone_become_contacts_once(make_order, bureau):
    closed = make_order("closed")
    make_order("fed_back")  # not closed yet
    make_order("closed", citizen_phone="")  # nobody to call
    assert actions.contacts_from_orders() == 1
    c = Contact.objects.get()
    assert (c.order, c.source, c.unit, c.bureau) == (closed, Source.ORDER, bureau.station,
                                                     bureau.bureau)
    assert c.occurred_at == closed.closed_at
    assert c.phone == "13812345678" and c.phone_mask == closed.citizen_phone_mask
    assert c.phone_hash == closed.citizen_phone_hash and c.summary == closed.title
    [event] = events_for(c)
    assert event.action == "callback.contact" and event.payload["order"] == closed.pk
    assert actions.contacts_from_orders() == 0
    assert Contact.objects.count() == 1


# --- the daily draw --------------------------------------------------------------------------


def test_draw_takes_the_days_window_per_unit_with_its_seed(bureau, opinion_officer):
    p = plan(bureau, share=Decimal("0.5"), due_after_hours=24)
    # Due on DAY: occurred on DAY - 1 (Shanghai), whatever the hour.
    inside = [contact(bureau, at=sh(DAY - timedelta(days=1), h)) for h in (0, 9, 13, 23)]
    other = [contact(bureau, bureau.other_station, at=sh(DAY - timedelta(days=1), 10))]
    contact(bureau, at=sh(DAY, 0))  # due tomorrow
    contact(bureau, at=sh(DAY - timedelta(days=2), 23, 59))  # due yesterday
    contact(bureau, at=sh(DAY - timedelta(days=1), 10), source=Source.WINDOW)  # other group
    [draw] = actions.draw_day(actor=opinion_officer, day=DAY)
    assert draw.created and draw.plan == p and draw.day == DAY
    assert draw.seed == sampling.seed_for(p.pk, DAY)
    assert (draw.population, draw.drawn) == (5, 3)  # station: round(2.0)=2, other: round(0.5)=1
    tasks = list(draw.tasks.order_by("contact_id"))
    expected = sampling.draw([c.pk for c in inside], share="0.5",
                             seed=(draw.seed + bureau.station.pk) % (1 << 63))
    assert [t.contact_id for t in tasks if t.unit == bureau.station] == expected
    assert [t.contact_id for t in tasks if t.unit == bureau.other_station] == [other[0].pk]
    for t in tasks:
        assert t.caller == Caller.UNIT and t.kind == "callback" and t.state == "pending"
        wanted = rules.next_call_time(t.contact.occurred_at + timedelta(hours=24))
        assert t.due_at == wanted == t.next_attempt_at
    # A contact of 00:00 is due at 00:00, outside the hours: moved to 08:00.
    assert rules.next_call_time(inside[0].occurred_at + timedelta(hours=24)) == sh(DAY, 8)
    [event] = events_for(draw)
    assert event.action == "callback.draw" and event.actor_id == opinion_officer.pk
    assert event.payload["seed"] == draw.seed and event.payload["drawn"] == 3
    assert event.payload["candidates"] == 5 and event.payload["cooling_off"] == 0
    assert event.payload["units"][str(bureau.station.pk)] == {
        "candidates": 4, "cooling_off": 0, "population": 4, "drawn": 2}


def test_a_second_draw_of_the_day_makes_nothing(bureau):
    plan(bureau)
    contact(bureau, at=sh(DAY - timedelta(days=1), 10))
    [first] = actions.draw_day(actor=None, day=DAY)
    contact(bureau, at=sh(DAY - timedelta(days=1), 11))  # arrives after the draw
    [again] = actions.draw_day(actor=None, day=DAY)
    assert again.pk == first.pk and not again.created
    assert CallbackTask.objects.count() == 1 and Draw.objects.count() == 1
    assert Event.objects.filter(action="callback.draw").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_draws_racing_make_one_draw(bureau):
    p = plan(bureau)
    for h in (9, 10, 11):
        contact(bureau, at=sh(DAY - timedelta(days=1), h))
    results = race(lambda: actions.draw_day(actor=None, day=DAY, plan=p),
                   lambda: actions.draw_day(actor=None, day=DAY, plan=p))
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert sorted(r[1][0].created for r in results) == [False, True]
    assert Draw.objects.count() == 1 and CallbackTask.objects.count() == 3
    assert verify_chain().ok


def test_cooling_off_counts_every_kind_of_task_across_groups(bureau):
    plan(bureau, cooling_off_days=30)
    recent = task(bureau, due=sh(DAY - timedelta(days=10), 10), phone="13900000001")
    recent.kind = CallbackTask.Kind.SPOT_CHECK
    recent.parent = task(bureau, due=sh(DAY - timedelta(days=40), 10), phone="13900000009")
    recent.save()
    CallbackTask.objects.filter(pk=recent.pk).update(created_at=sh(DAY - timedelta(days=10), 9))
    CallbackTask.objects.filter(pk=recent.parent_id).update(
        created_at=sh(DAY - timedelta(days=40), 9))
    old = task(bureau, due=sh(DAY - timedelta(days=40), 10), phone="13900000002")
    CallbackTask.objects.filter(pk=old.pk).update(created_at=sh(DAY - timedelta(days=40), 9))
    skipped = contact(bureau, at=sh(DAY - timedelta(days=1), 9), phone="13900000001")
    kept = contact(bureau, at=sh(DAY - timedelta(days=1), 10), phone="13900000002")
    twice = contact(bureau, at=sh(DAY - timedelta(days=1), 11), phone="13900000002")
    [draw] = actions.draw_day(actor=None, day=DAY)
    assert list(draw.tasks.values_list("contact_id", flat=True)) == [kept.pk]
    payload = events_for(draw).get().payload
    assert payload["cooling_off"] == 2 and payload["population"] == 1
    assert not CallbackTask.objects.filter(contact__in=[skipped, twice]).exists()


def test_plan_limits_and_permissions(bureau, handler, opinion_officer):
    p = plan(bureau, share=Decimal("0.1"), minimum=2, maximum=3, unit=bureau.station)
    for h in range(8, 18):
        contact(bureau, at=sh(DAY - timedelta(days=1), h))
    contact(bureau, bureau.other_station, at=sh(DAY - timedelta(days=1), 9))
    with pytest.raises(NotAllowed):
        actions.draw_day(actor=handler, day=DAY)
    [draw] = actions.draw_day(actor=opinion_officer, day=DAY, plan=p)
    assert draw.drawn == 2  # round(1.0) = 1, raised to the minimum; the other station not in
    assert set(draw.tasks.values_list("unit", flat=True)) == {bureau.station.pk}


def test_inactive_and_expired_plans_do_not_draw(bureau):
    plan(bureau, is_active=False)
    plan(bureau, name="过期", valid_to=DAY - timedelta(days=1))
    contact(bureau, at=sh(DAY - timedelta(days=1), 9))
    assert actions.draw_day(actor=None, day=DAY) == []


# --- claiming --------------------------------------------------------------------------------


def test_claim_oldest_due_first_within_the_desk(bureau, handler, outsider, opinion_officer):
    now = sh(DAY, 10)
    later = task(bureau, due=sh(DAY, 9))
    first = task(bureau, due=sh(DAY, 8))
    task(bureau, due=sh(DAY, 11))  # not due yet
    office = task(bureau, caller=Caller.OPINION_OFFICE, due=sh(DAY, 7))
    got = actions.claim_next_task(actor=handler, now=now)
    assert got == first and got.assigned_to == handler and got.assigned_at == now
    # Asking again gives the task already held, not a second one.
    assert actions.claim_next_task(actor=handler, now=now) == first
    assert actions.claim_next_task(actor=outsider, now=now) is None
    assert actions.claim_next_task(actor=opinion_officer, now=now) == office
    colleague = bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="王同事")
    assert actions.claim_next_task(actor=colleague, now=now) == later
    # A claim expires after 15 minutes.
    third = bureau.member(Role.UNIT_HEAD, bureau.station, full_name="所长")
    assert actions.claim_next_task(actor=third, now=now + timedelta(minutes=16)) == first


def test_nothing_is_claimed_outside_calling_hours(bureau, handler):
    t = task(bureau, due=sh(DAY - timedelta(days=1), 10))
    with pytest.raises(InvalidInput, match="不在回访时段"):
        actions.claim_next_task(actor=handler, now=sh(DAY, 21, 30))
    with pytest.raises(InvalidInput, match="08:00"):
        actions.claim_next_task(actor=handler, now=sh(DAY, 7, 59))
    t.refresh_from_db()
    assert t.assigned_to is None


def test_claim_refuses_people_without_a_desk(bureau, leader):
    with pytest.raises(NotAllowed):
        actions.claim_next_task(actor=leader, now=sh(DAY, 10))


@pytest.mark.django_db(transaction=True)
def test_two_callers_claiming_at_once_get_different_tasks(bureau, handler):
    colleague = bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="王同事")
    a = task(bureau, due=sh(DAY, 8))
    b = task(bureau, due=sh(DAY, 8, 5))
    now = sh(DAY, 10)
    results = race(lambda: actions.claim_next_task(actor=handler, now=now),
                   lambda: actions.claim_next_task(actor=colleague, now=now))
    assert [r[0] for r in results] == ["ok", "ok"], results
    got = {r[1].pk for r in results}
    assert got == {a.pk, b.pk}
    holders = dict(CallbackTask.objects.values_list("pk", "assigned_to"))
    assert {holders[a.pk], holders[b.pk]} == {handler.pk, colleague.pk}


# --- calls and answers -----------------------------------------------------------------------


def test_reveal_is_logged(bureau, handler, outsider):
    t = task(bureau, due=sh(DAY, 8), phone="13955556666")
    assert actions.reveal_phone(actor=handler, task=t) == "13955556666"
    [event] = events_for(t)
    assert event.action == "callback.reveal" and event.actor_id == handler.pk
    assert event.payload["field"] == "phone" and "13955556666" not in str(event.payload)
    with pytest.raises(NotAllowed):
        actions.reveal_phone(actor=outsider, task=t)


def test_retries_are_scheduled_then_capped(bureau, handler):
    t = task(bureau, due=sh(DAY, 8))
    now = sh(DAY, 10)
    t = actions.record_attempt(actor=handler, task=t, disposition="no_answer", now=now)
    assert (t.state, t.attempts, t.outcome) == ("retry", 1, "UH")
    assert t.next_attempt_at == sh(DAY, 12) and t.assigned_to is None
    t = actions.record_attempt(actor=handler, task=t, disposition="busy", now=sh(DAY, 19, 30))
    assert t.next_attempt_at == sh(DAY + timedelta(days=1), 8)  # after hours: next morning
    t = actions.record_attempt(actor=handler, task=t, disposition="switched_off",
                               now=sh(DAY + timedelta(days=1), 8, 5))
    assert (t.state, t.attempts, t.outcome, t.next_attempt_at) == ("closed", 3, "UH", None)
    assert t.closed_at == sh(DAY + timedelta(days=1), 8, 5)
    assert list(t.attempt_set.values_list("number", "disposition", "outcome")) == [
        (1, "no_answer", "UH"), (2, "busy", "UH"), (3, "switched_off", "UH")]
    events = list(events_for(t).filter(action="callback.attempt").order_by("id"))
    assert [(e.from_state, e.to_state) for e in events] == [
        ("pending", "retry"), ("retry", "retry"), ("retry", "closed")]
    assert events[0].payload["label"] == "无人接听" and events[0].payload["aapor_code"] == "3.13"
    with pytest.raises(Conflict, match="第3次拨打「关机」"):
        actions.record_attempt(actor=handler, task=t, disposition="no_answer")


def test_final_dispositions_and_appointments(bureau, handler):
    now = sh(DAY, 10)
    t = actions.record_attempt(actor=handler, task=task(bureau, due=sh(DAY, 8)),
                               disposition="invalid_number", now=now)
    assert (t.state, t.outcome) == ("closed", "NE")
    t2 = task(bureau, due=sh(DAY, 8))
    with pytest.raises(InvalidInput, match="约定的时间"):
        actions.record_attempt(actor=handler, task=t2, disposition="appointment", now=now)
    t2 = actions.record_attempt(actor=handler, task=t2, disposition="appointment", now=now,
                                retry_at=sh(DAY, 16, 30))
    assert (t2.state, t2.outcome, t2.next_attempt_at) == ("retry", "NC", sh(DAY, 16, 30))
    with pytest.raises(InvalidInput, match="接通后"):
        actions.record_attempt(actor=handler, task=t2, disposition="answered", now=now)
    with pytest.raises(InvalidInput, match="未知的拨打结果"):
        actions.record_attempt(actor=handler, task=t2, disposition="nonsense", now=now)


def test_a_task_held_by_another_caller_or_seen_stale_is_a_conflict(bureau, handler):
    colleague = bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="王同事")
    t = task(bureau, due=sh(DAY, 8))
    now = sh(DAY, 10)
    actions.claim_next_task(actor=handler, now=now)
    with pytest.raises(Conflict, match="正由"):
        actions.record_attempt(actor=colleague, task=t, disposition="busy", now=now)
    t.refresh_from_db()
    seen = t.version
    actions.record_attempt(actor=handler, task=t, disposition="busy", now=now,
                           expected_version=seen)
    with pytest.raises(Conflict, match="已被更新"):
        actions.record_attempt(actor=colleague, task=t, disposition="busy",
                               now=now + timedelta(hours=3), expected_version=seen)
    assert Attempt.objects.filter(task=t).count() == 1


def test_outsider_cannot_record(bureau, outsider):
    t = task(bureau, due=sh(DAY, 8))
    with pytest.raises(NotAllowed):
        actions.record_attempt(actor=outsider, task=t, disposition="busy", now=sh(DAY, 10))
    with pytest.raises(NotAllowed):
        actions.record_answer(actor=outsider, task=t, satisfaction="satisfied")


def test_answer_completes_the_task_once(bureau, handler):
    t = task(bureau, due=sh(DAY, 8))
    actions.record_attempt(actor=handler, task=t, disposition="no_answer", now=sh(DAY, 9))
    answer = actions.record_answer(actor=handler, task=t, satisfaction="basically_satisfied",
                                   reasons=["speed"], comment=" 还行 ", now=sh(DAY, 11))
    assert (answer.via, answer.satisfaction, answer.reasons, answer.comment) == (
        "phone", "basically_satisfied", [], "还行")
    t.refresh_from_db()
    assert (t.state, t.outcome, t.attempts, t.closed_at) == ("completed", "I", 2, sh(DAY, 11))
    assert list(t.attempt_set.values_list("disposition", "outcome")) == [
        ("no_answer", "UH"), ("answered", "I")]
    event = events_for(t).get(action="callback.answer")
    assert (event.from_state, event.to_state) == ("retry", "completed")
    assert event.payload["satisfaction"] == "basically_satisfied"
    assert event.payload["via"] == "phone"
    # A second answer, by phone or by a rating link, is a Conflict naming who and when.
    with pytest.raises(Conflict, match="张承办"):
        actions.record_answer(actor=handler, task=t, satisfaction="dissatisfied",
                              reasons=["result"])
    with pytest.raises(Conflict, match="已于"):
        actions.record_answer(actor=None, task=t, satisfaction="satisfied", via="link")
    assert Answer.objects.count() == 1 and not Rectification.objects.exists()


def test_dissatisfied_needs_reasons_and_opens_a_rectification(bureau, handler):
    t = task(bureau, due=sh(DAY, 8))
    with pytest.raises(InvalidInput, match="原因"):
        actions.record_answer(actor=handler, task=t, satisfaction="dissatisfied")
    with pytest.raises(InvalidInput, match="未知的不满意原因"):
        actions.record_answer(actor=handler, task=t, satisfaction="dissatisfied",
                              reasons=["weather"])
    actions.record_answer(actor=handler, task=t, satisfaction="dissatisfied",
                          reasons=["attitude", "result", "attitude"])
    assert Answer.objects.get(task=t).reasons == ["attitude", "result"]
    item = Rectification.objects.get(task=t)
    assert item.unit == bureau.station and item.state == "open"


def test_a_link_answer_after_the_calls_gave_up_is_kept(bureau, handler):
    t = task(bureau, due=sh(DAY, 8))
    actions.record_attempt(actor=handler, task=t, disposition="refused", now=sh(DAY, 9))
    actions.record_answer(actor=None, task=t, satisfaction="satisfied", via="link")
    t.refresh_from_db()
    assert (t.state, t.outcome) == ("completed", "I")
    with pytest.raises(Conflict):  # by phone a closed task is not answered
        t2 = task(bureau, due=sh(DAY, 8))
        actions.record_attempt(actor=handler, task=t2, disposition="refused", now=sh(DAY, 9))
        actions.record_answer(actor=handler, task=t2, satisfaction="satisfied")


@pytest.mark.django_db(transaction=True)
def test_two_callers_answering_one_task_at_once(bureau, handler):
    colleague = bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="王同事")
    t = task(bureau, due=sh(DAY, 8))
    results = race(
        lambda: actions.record_answer(actor=handler, task=t.pk, satisfaction="satisfied"),
        lambda: actions.record_answer(actor=colleague, task=t.pk, satisfaction="dissatisfied",
                                      reasons=["result"]))
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, Conflict) and "不能重复登记" in str(error)
    assert Answer.objects.count() == 1
    assert Event.objects.filter(action="callback.answer").count() == 1
    assert verify_chain().ok


def test_an_orders_callback_is_recorded_from_the_desk_when_still_missing(
        make_order, bureau, opinion_officer):
    order = make_order("fed_back")
    c = Contact(bureau=bureau.bureau, unit=bureau.station, source=Source.ORDER, order=order,
                occurred_at=sh(DAY, 8))
    c.set_person(name="刘女士", phone="13812345678")
    c.save()
    t = CallbackTask.objects.create(bureau=bureau.bureau, unit=bureau.station,
                                    caller=Caller.OPINION_OFFICE, contact=c, due_at=sh(DAY, 8),
                                    next_attempt_at=sh(DAY, 8))
    actions.record_answer(actor=opinion_officer, task=t, satisfaction="dissatisfied",
                          reasons=["result"], comment="噪音依旧")
    order.refresh_from_db()
    assert order.callback_outcome == "dissatisfied" and order.callback_note == "噪音依旧"
    assert Event.objects.filter(action="order.record_callback", object_id=str(order.pk)).exists()
    # The order's own letter and the desk's rectification both follow a dissatisfied answer.
    from minyi.orders.models import ReminderLetter

    assert ReminderLetter.objects.filter(order=order, reason="dissatisfied").count() == 1
    assert Rectification.objects.filter(task=t).exists()


def test_a_closed_orders_callback_is_left_alone(make_order, bureau, handler):
    order = make_order("closed")
    actions.contacts_from_orders()
    c = Contact.objects.get(order=order)
    t = CallbackTask.objects.create(bureau=bureau.bureau, unit=bureau.station,
                                    caller=Caller.UNIT, contact=c, due_at=sh(DAY, 8),
                                    next_attempt_at=sh(DAY, 8))
    actions.record_answer(actor=handler, task=t, satisfaction="basically_satisfied")
    order.refresh_from_db()
    assert order.callback_outcome == "satisfied" and order.state == "closed"


def test_demo_callbacks_are_idempotent_and_give_the_desk_tasks():
    from django.core.management import call_command

    from minyi.callbacks.demo import PLANS, load_demo_callbacks
    from minyi.orgs.demo import BUREAU_CODE
    from minyi.orgs.models import Unit

    # load_demo loads the callbacks itself: the desk has tasks, and loading again adds none.
    call_command("load_demo", "--quiet-logins", "--orders", "60")
    demo = Unit.objects.get(code=BUREAU_CODE)
    made = CallbackTask.objects.filter(state="pending").count()
    assert made > 0 and CallbackTask.objects.count() == made
    assert Contact.objects.filter(source=Source.ORDER).count() >= made
    assert load_demo_callbacks(demo) == 0
    assert CallbackTask.objects.count() == made
    assert SamplingPlan.objects.filter(bureau=demo).count() == len(PLANS)
