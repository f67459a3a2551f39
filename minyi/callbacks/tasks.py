"""Background entry points of the callbacks app; each calls one action."""

from django.utils import timezone

from minyi.callbacks import actions


def contacts_from_orders() -> int:
    """Closed work orders become contacts; a few minutes after the closing is soon enough."""
    return actions.contacts_from_orders(now=timezone.now())


def draw_today() -> int:
    """Today's draw of every active plan (once per plan and day: a second run makes nothing).
    Contacts are taken first, so that orders closed since the last sweep are in the draw."""
    actions.contacts_from_orders(now=timezone.now())
    return sum(d.drawn for d in actions.draw_day(actor=None, day=timezone.localdate())
               if d.created)
