import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from minyi.orders.escalation import sweep


class Command(BaseCommand):
    help = "运行一次督办扫描：超期、退回的工单下发督办单，不满意、领导交办的工单下发提醒函。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--now", help="以此时刻为“现在”（ISO 8601，须带时区，如 "
                                          "2026-11-23T09:00+08:00）")

    def handle(self, *args, now: str | None = None, **options) -> None:
        moment = None
        if now:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"无法识别的时刻：{now!r}", returncode=2) from None
            if moment.tzinfo is None:
                raise CommandError(f"时刻须带时区：{now!r}", returncode=2)
        self.stdout.write(json.dumps(sweep(now=moment).as_dict()))
