"""The channels of seed 001 and DESIGN.md; idempotent, run by the migration and load_demo."""

from django.apps import apps as global_apps

CHANNELS = [
    ("12345", "12345政务服务热线"),
    ("110", "110非紧急警情"),
    ("window", "窗口服务评价"),
    ("platform", "公安服务平台"),
    ("letters", "信访"),
    ("opinion_call", "民意回访电话"),
    ("door_visit", "入户走访"),
]


def seed(apps=global_apps, schema_editor=None) -> None:
    Channel = apps.get_model("intake", "Channel")
    for order, (code, name) in enumerate(CHANNELS, start=1):
        Channel.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
