"""Presets: the column mappings of the files people actually import, by name.

`standard` reads Minyi's own template (Chinese headers, the common aliases of 12345 exports);
`boston311` reads the City of Boston's 311 service requests into a separate demo city.
"""

from __future__ import annotations

from minyi.intake.importing.errors import BadInput
from minyi.intake.presets.base import Preset
from minyi.intake.presets.boston311 import BOSTON311
from minyi.intake.presets.standard import STANDARD

PRESETS: dict[str, Preset] = {p.name: p for p in (STANDARD, BOSTON311)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        known = "、".join(PRESETS)
        raise BadInput(f"没有名为「{name}」的预设格式（可用的有：{known}）") from None


__all__ = ["PRESETS", "Preset", "get_preset"]
