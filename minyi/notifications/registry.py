"""Which events notify whom: a registry of rules, one or more per event action.

An app says who must act on its events from its AppConfig.ready:

    register_notification_rule("campaign.issue", campaign_issued)

where the rule takes the event and returns the messages to send (or none). The notifications
app's receiver calls the rules of each event `record_event` writes, inside its transaction, and
makes the notifications (see `actions.notify_for_event`). A rule only reads: it must not write,
send or call out; the SMS it asks for is queued and sent after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from minyi.core.models import Event


@dataclass(frozen=True)
class Message:
    """What to tell which users about an event: the text (Chinese), the page to open, and
    whether those with a mobile number on file also get it as an SMS."""

    user_ids: Collection[int]
    text: str
    link: str = ""
    sms: bool = False


Rule = Callable[[Event], Iterable[Message] | Message | None]

RULES: dict[str, list[Rule]] = {}


def register_notification_rule(action: str, rule: Rule) -> None:
    """Add a rule for an event action. Registering the same function twice (a test that calls
    ready() again) keeps one."""
    rules = RULES.setdefault(action, [])
    if rule not in rules:
        rules.append(rule)


def rules_for(action: str) -> list[Rule]:
    return RULES.get(action, [])


def messages_for(event: Event) -> list[Message]:
    messages: list[Message] = []
    for rule in rules_for(event.action):
        result = rule(event)
        if result is None:
            continue
        if isinstance(result, Message):
            messages.append(result)
        else:
            messages.extend(result)
    return messages
