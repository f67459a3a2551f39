"""Order types with the timers of seed 001; idempotent, run by the migration and load_demo."""

from django.apps import apps as global_apps

# (code, name, business class); consultations are due in half a working day, the others in one.
ORDER_TYPES = [
    ("consult", "公安业务咨询", "consultation"),
    ("hukou", "户籍业务", "management_service"),
    ("exit_entry", "出入境业务", "management_service"),
    ("traffic", "交通管理", "management_service"),
    ("help", "群众求助", "management_service"),
    ("noise", "噪音扰民", "law_enforcement"),
    ("public_order", "治安问题", "law_enforcement"),
    ("case_progress", "案件进展", "law_enforcement"),
    ("fraud", "电信网络诈骗", "law_enforcement"),
    ("conduct", "民警执法作风", "law_enforcement"),
    ("dispute", "矛盾纠纷", "management_service"),
]
HANDLING = {"consultation": "0.5d", "management_service": "1d", "law_enforcement": "1d"}


def seed(apps=global_apps, schema_editor=None) -> None:
    OrderType = apps.get_model("orders", "OrderType")
    for order, (code, name, business_class) in enumerate(ORDER_TYPES, start=1):
        OrderType.objects.get_or_create(code=code, defaults={
            "name": name, "business_class": business_class, "contact_limit": "1h",
            "contact_calendar": "24x7", "handling_limit": HANDLING[business_class],
            "handling_calendar": "office", "sort_order": order,
        })
