"""Inserting many rows of one model fast: COPY on PostgreSQL, `executemany` on SQLite.

`bulk_create` spends most of its time preparing each value of each field through the ORM
(~3 µs per value: 20,000 orders of ~50 columns take 5.5 s on SQLite, of which the database
needs 1.1 s). An import knows its values' types already, so here each column gets one converter
chosen once per import: most values go to the driver as they are; date-times, JSON and any
field type not listed take the field's own `get_db_prep_save`, which is what `bulk_create`
calls. `tests/test_import_insert.py` checks that a row written here reads back exactly like
one written by the ORM.

On PostgreSQL the rows go in with COPY: Django's psycopg cursors bind parameters on the client,
so `executemany` would send one statement per row (a round trip each, ~0.7 ms). SQLite runs in
the process, and `executemany` of one prepared statement is its fastest way in.

Primary keys are taken before the insert, so the caller has them for the events and
assignments without reading the rows back: from the sequence on PostgreSQL (safe with other
writers), and on SQLite from the table's high-water mark under the write lock the import's
transaction holds (SQLite's AUTOINCREMENT keeps that mark in sqlite_sequence, so the ids of
deleted rows are never handed out again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models

# Field types whose Python values the drivers take as they are.
_AS_IS = frozenset({
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "EmailField",
    "ForeignKey", "IntegerField", "OneToOneField", "PositiveBigIntegerField",
    "PositiveIntegerField", "PositiveSmallIntegerField", "SlugField", "SmallIntegerField",
    "TextField", "URLField",
})
SUPPORTED_VENDORS = frozenset({"sqlite", "postgresql"})


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind in _AS_IS:
        return None
    if kind == "DateTimeField":
        adapt = connection.ops.adapt_datetimefield_value
        return lambda value: None if value is None else adapt(value)

    def prepare(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return prepare


class FastInserter:
    """INSERTs rows of `model` given as dicts of attname -> value (every concrete field)."""

    def __init__(self, model: type[models.Model]) -> None:
        if connection.vendor not in SUPPORTED_VENDORS:
            raise NotImplementedError(connection.vendor)
        self.model = model
        self.table = model._meta.db_table
        self.pk_column = model._meta.pk.column
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.converters = [(f.attname, _converter(f)) for f in self.fields]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({marks})"
        self.copy_sql = f"COPY {quote(self.table)} ({columns}) FROM STDIN"

    def defaults(self) -> dict[str, Any]:
        """Every field's default, for the rows to start from (callables called once)."""
        return {f.attname: f.get_default() for f in self.fields}

    def allocate_ids(self, count: int) -> list[int]:
        """`count` new primary keys, in increasing order."""
        if count <= 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                    "FROM generate_series(1, %s)", [self.table, self.pk_column, count])
                return sorted(row[0] for row in cursor.fetchall())
            cursor.execute(f"SELECT MAX({connection.ops.quote_name(self.pk_column)}) "
                           f"FROM {connection.ops.quote_name(self.table)}")
            high = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            found = cursor.fetchone()
            start = max(high, found[0] if found else 0) + 1
        return list(range(start, start + count))

    def insert(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert rows (each with its primary key already set)."""
        converters = self.converters
        params = [
            tuple(row[name] if convert is None else convert(row[name])
                  for name, convert in converters)
            for row in rows
        ]
        if not params:
            return 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The driver's own cursor; Django's wrapper turns its errors into Django's
                # (IntegrityError …) as it does for execute().
                with connection.wrap_database_errors, \
                        cursor.cursor.copy(self.copy_sql) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(self.sql, params)
        return len(params)

    def analyze(self) -> None:
        """PostgreSQL: statistics that count the rows this transaction has written so far.

        The planner knows a table by its last ANALYZE, and nothing an open transaction writes is
        counted until it commits: a table that held ten thousand orders when a million-row import
        began still looks small halfway through, and the look-up of existing external ids then
        scans all of a channel's orders through the channel index, once per chunk (quadratic:
        an hour instead of minutes). ANALYZE inside the transaction samples its own rows too.
        """
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(self.table)}")
