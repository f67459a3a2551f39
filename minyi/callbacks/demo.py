"""The demo bureau's callbacks: default sampling plans, contacts from the demo's closed orders,
and the last week's draws, so that the demo desk has tasks.

The plans follow seed 000: every unit calls back the people of its own 12345 orders (all of
them: share 1, due a day after the closing), while the opinion office samples the other groups
(110 calls, case parties, window services: 20% per unit and day, at least 1, at most 10) once
their records are imported. The office's re-calls of the units' callbacks are spot checks,
drawn separately. Idempotent: plans are found by name, contacts by order, draws by plan and
day, so a second load makes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from minyi.callbacks import actions
from minyi.callbacks.models import Caller, SamplingPlan, Source
from minyi.orgs.models import Unit

DRAW_DAYS = 7
PLANS = [
    dict(name="12345 工单回访（各单位自行回访）", source=Source.ORDER, caller=Caller.UNIT,
         share=Decimal("1"), minimum=0, maximum=None, cooling_off_days=30, due_after_hours=24),
    dict(name="110 报警求助抽样回访", source=Source.CALL_110, caller=Caller.OPINION_OFFICE,
         share=Decimal("0.2"), minimum=1, maximum=10, cooling_off_days=30, due_after_hours=24),
    dict(name="案件当事人抽样回访", source=Source.CASE, caller=Caller.OPINION_OFFICE,
         share=Decimal("0.2"), minimum=1, maximum=10, cooling_off_days=30, due_after_hours=48),
    dict(name="窗口办事群众抽样回访", source=Source.WINDOW, caller=Caller.OPINION_OFFICE,
         share=Decimal("0.2"), minimum=1, maximum=10, cooling_off_days=30, due_after_hours=24),
]


def load_demo_callbacks(bureau: Unit) -> int:
    """Plans, contacts and the last DRAW_DAYS days' draws; returns how many tasks were made."""
    for fields in PLANS:
        SamplingPlan.objects.get_or_create(bureau=bureau, name=fields["name"],
                                           defaults={k: v for k, v in fields.items()
                                                     if k != "name"})
    while actions.contacts_from_orders() >= actions.CONTACT_BATCH:
        pass
    today = timezone.localdate()
    made = 0
    for back in range(DRAW_DAYS - 1, -1, -1):
        for draw in actions.draw_day(actor=None, day=today - timedelta(days=back),
                                     bureau=bureau):
            made += draw.drawn if draw.created else 0
    return made
