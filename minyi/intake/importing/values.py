"""Cell values: text and date-times as people write them in spreadsheets (pure, no database)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

# Tried in this order after ISO 8601 (2024-05-01 08:30:00, 2024-05-01T08:30+08:00, 2024-05-01);
# strptime accepts one-digit months, days and hours for %m, %d and %H (2024/5/1 8:30).
COMMON_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d",
)


def text(value: Any) -> str:
    """A cell as text. Numbers Excel stores as floats (13812345678.0) lose the ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


class DateParser:
    """Parses one field's date-times. Naive ones are in `tz`; the format that worked last is
    tried first, as a file writes every date of a column the same way."""

    def __init__(self, tz: ZoneInfo, formats: list[str] | tuple[str, ...] = ()) -> None:
        self.tz = tz
        self.formats = list(dict.fromkeys([*formats, *COMMON_FORMATS]))
        self.first_is_iso = not formats

    def parse(self, value: Any) -> datetime:
        """The aware date-time of a cell; ValueError when it is not one."""
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        elif isinstance(value, str):
            moment = self._parse_text(value.strip())
        else:
            raise ValueError(value)
        if moment.tzinfo is None:
            # replace() picks the first of two readings of a wall time repeated when clocks go
            # back; China has had no daylight saving since 1991, so this only matters abroad.
            moment = moment.replace(tzinfo=self.tz)
        return moment

    def _parse_text(self, value: str) -> datetime:
        if self.first_is_iso:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        for i, fmt in enumerate(self.formats):
            try:
                moment = datetime.strptime(value, fmt)
            except ValueError:
                continue
            if i:
                self.formats.insert(0, self.formats.pop(i))
            return moment
        if not self.first_is_iso:
            return datetime.fromisoformat(value)
        raise ValueError(value)
