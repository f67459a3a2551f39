"""The import's own INSERT writes exactly what the ORM would."""

from __future__ import annotations

import pytest
from django.db import connection

from minyi.intake.importing import import_file
from minyi.intake.importing import run as run_module
from minyi.intake.importing.insert import FastInserter
from minyi.intake.tests.test_import_support import row, write_csv
from minyi.orders.models import Assignment, Order

pytestmark = pytest.mark.django_db

# Differ between two rows of the same order for reasons of their own: the key, the time the
# row was written, and the cipher texts (a fresh nonce each time).
IGNORED = {"id", "external_id", "created_at", "updated_at", "citizen_name_enc",
           "citizen_phone_enc", "citizen_address_enc"}


def _raw(pk: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Order._meta.db_table} WHERE id = %s", [pk])
        names = [c[0] for c in cursor.description]
        return {k: v for k, v in zip(names, cursor.fetchone(), strict=True) if k not in IGNORED}


def test_a_row_inserted_by_the_import_reads_like_one_saved_by_the_orm(bureau, tmp_path):
    path = write_csv(tmp_path / "o.csv", [
        row(来源编号="A-1", 接单时间="2024-05-06 09:00:00.250"),
        row(来源编号="A-2", 办结时间="2024-05-07 10:00", 办理状态="已办结", 办理时限="2024-05-07"),
    ])
    import_file(path, preset="standard", bureau=bureau.bureau)
    for imported in Order.objects.all():
        copy = Order.objects.get(pk=imported.pk)
        copy.pk = None
        copy.external_id = f"copy-{imported.external_id}"
        copy.save()
        assert _raw(imported.pk) == _raw(copy.pk)
        assert imported.citizen_name == copy.citizen_name == "刘女士"
    # The sequence/high-water mark moved past the ids the import took.
    assert Order.objects.order_by("-id").first().external_id == "copy-A-2"


def test_ids_are_never_reused_after_a_delete(bureau, tmp_path):
    import_file(write_csv(tmp_path / "a.csv", [row(来源编号="A-1"), row(来源编号="A-2")]),
                preset="standard", bureau=bureau.bureau)
    last = Order.objects.order_by("-id").first()
    Assignment.objects.filter(order=last).delete()
    Order.objects.filter(pk=last.pk).delete()
    assert FastInserter(Order).allocate_ids(2)[0] > last.pk


def test_the_orm_path_for_other_databases_gives_the_same_orders(bureau, tmp_path, monkeypatch):
    def unsupported(model):
        raise NotImplementedError

    monkeypatch.setattr(run_module, "FastInserter", unsupported)
    path = write_csv(tmp_path / "o.csv", [row(来源编号="A-1"),
                                          row(来源编号="A-2", 办结时间="2024-05-07 10:00")])
    result = import_file(path, preset="standard", bureau=bureau.bureau)
    assert result.created == 2
    held = Order.objects.get(external_id="A-1")
    assert held.state == "dispatched" and held.assignments.get().unit == bureau.station
    assert held.citizen_phone == "13812345678" and held.location_hash
    assert Order.objects.get(external_id="A-2").state == "closed"
