"""What a preset is: a named mapping, and what to do about names the database lacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from minyi.intake.importing.mapping import Mapping, parse_mapping

if TYPE_CHECKING:
    from minyi.intake.importing.lookups import Lookups
    from minyi.intake.models import Channel
    from minyi.orders.models import OrderType
    from minyi.orgs.models import Unit


@dataclass
class Preset:
    name: str
    label: str
    description: str
    spec: dict[str, Any] = field(default_factory=dict)
    # A preset whose orders always go to one bureau of its own (a demo city) names it here;
    # the importing user's bureau is not asked.
    bureau_code: str = ""
    # Only superusers may use it from the import page (it creates a bureau).
    superuser_only: bool = False

    def mapping(self) -> Mapping:
        return parse_mapping(self.spec)

    def bureau(self, code: str | None) -> Unit | None:
        """The preset's own bureau, made if missing; None when the caller chooses."""
        return None

    # The hooks below are asked when a row names a unit, channel or order type the database
    # does not have. None makes the row bad ("未知的…"); a preset that feeds a demo city makes
    # the missing thing instead. They run inside the import's transaction, so what they make
    # is rolled back with the orders when the import fails.
    def missing_unit(self, lookups: Lookups, value: str) -> Unit | None:
        return None

    def missing_channel(self, lookups: Lookups, value: str) -> Channel | None:
        return None

    def missing_order_type(self, lookups: Lookups, value: str) -> OrderType | None:
        return None
