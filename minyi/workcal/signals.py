"""Signals of the working calendar.

`holidays_changed` is sent with `years=[2027, ...]` after a transaction that entered or changed
those years' holidays has committed (never for a rolled-back change). Deadlines already computed
in those years are then stale: the work-order app (a later issue) connects a receiver that
recomputes the deadlines of open orders whose timers run through the years named.
"""

from django.dispatch import Signal

holidays_changed = Signal()
