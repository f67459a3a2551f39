import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from minyi.core.audit import GENESIS_HASH, record_event, verify_chain
from minyi.core.models import AppendOnlyError, AuditCheck, Event
from minyi.orgs.tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def _three_events():
    user = UserFactory(full_name="赵敏")
    unit = UnitFactory(name="东城派出所")
    first = record_event(actor=user, obj=unit, action="unit.create", after={"name": "东城派出所"})
    second = record_event(actor=user, obj=unit, action="unit.rename",
                          before={"name": "东城派出所"}, after={"name": "东城所"})
    third = record_event(actor=None, obj=unit, action="order.dispatch", from_state="received",
                         to_state="dispatched", payload={"due": "2026-10-08T16:00:00+08:00"})
    return first, second, third


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_events_chain_to_each_other():
    first, second, third = _three_events()
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert third.actor_label == "系统"
    assert second.actor_label == "赵敏"
    report = verify_chain()
    assert report.ok and report.rows == 3 and report.last_event_id == third.pk


def test_changed_content_is_found():
    _first, second, _third = _three_events()
    _tamper("UPDATE core_event SET actor_label = %s WHERE id = %s", ["别人", second.pk])
    report = verify_chain()
    assert not report.ok
    assert report.broken_event_id == second.pk
    assert report.rows == 1


def test_changed_payload_is_found():
    _first, _second, third = _three_events()
    _tamper("UPDATE core_event SET payload = %s WHERE id = %s",
            ['{"due": "2026-10-09T16:00:00+08:00"}', third.pk])
    assert verify_chain().broken_event_id == third.pk


def test_a_deleted_row_breaks_the_next_one():
    _first, second, third = _three_events()
    _tamper("DELETE FROM core_event WHERE id = %s", [second.pk])
    report = verify_chain()
    assert not report.ok and report.broken_event_id == third.pk


def test_a_rehashed_row_still_breaks_its_successor():
    _first, second, third = _three_events()
    # A forger who recomputes the changed row's own hash must also fix every later row.
    from minyi.core.audit import event_hash

    second.actor_label = "别人"
    new_hash = event_hash(
        prev_hash=second.prev_hash, created_at=second.created_at, actor_id=second.actor_id,
        actor_label="别人", object_type=second.object_type, object_id=second.object_id,
        object_repr=second.object_repr, action=second.action, from_state="", to_state="",
        before=second.before, after=second.after, payload=second.payload,
    )
    _tamper("UPDATE core_event SET actor_label = %s, hash = %s WHERE id = %s",
            ["别人", new_hash, second.pk])
    assert verify_chain().broken_event_id == third.pk


def test_a_cut_tail_is_found_by_the_next_walk():
    _first, _second, third = _three_events()
    call_command("audit", "verify")
    _tamper("DELETE FROM core_event WHERE id >= %s", [third.pk])
    report = verify_chain()
    assert not report.ok
    assert report.broken_event_id == third.pk


def test_the_orm_refuses_to_change_or_delete_events():
    first, _second, _third = _three_events()
    first.action = "other"
    with pytest.raises(AppendOnlyError):
        first.save()
    with pytest.raises(AppendOnlyError):
        first.delete()


def test_verify_command_prints_ok_and_count(capsys):
    _three_events()
    call_command("audit", "verify")
    # The walk saw three events; its own record is the fourth.
    assert capsys.readouterr().out.strip() == "ok 3"
    assert Event.objects.last().action == "audit.verify"
    assert AuditCheck.objects.get().ok


def test_verify_command_prints_the_broken_id_and_fails(capsys):
    _first, second, _third = _three_events()
    _tamper("UPDATE core_event SET action = %s WHERE id = %s", ["forged", second.pk])
    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.returncode == 1
    assert capsys.readouterr().out.strip() == str(second.pk)
    assert not AuditCheck.objects.get().ok


def test_an_empty_chain_verifies(capsys):
    call_command("audit", "verify")
    assert capsys.readouterr().out.strip() == "ok 0"


def test_dates_and_decimals_in_payload_hash_as_stored():
    import datetime
    import decimal

    record_event(actor=None, object_type="x.y", object_id="1", action="test",
                 payload={"when": datetime.date(2026, 10, 1), "rate": decimal.Decimal("85.36")})
    assert Event.objects.get().payload == {"when": "2026-10-01", "rate": "85.36"}
    assert verify_chain().ok


def test_bulk_events_continue_the_chain():
    from minyi.core.audit import record_events_bulk

    _three_events()
    units = [UnitFactory(name=f"批量{i}") for i in range(5)]
    assert record_events_bulk([{"obj": u, "action": "unit.import"} for u in units]) == 5
    record_event(actor=None, obj=units[0], action="after")
    report = verify_chain()
    assert report.ok and report.rows == 9
