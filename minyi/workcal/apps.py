from django.apps import AppConfig


class WorkcalConfig(AppConfig):
    name = "minyi.workcal"
    label = "workcal"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from minyi.core.audit import register_action_labels

        register_action_labels({"workcal.enter_holiday_year": "录入节假日"})
