from django.apps import AppConfig


class WorkcalConfig(AppConfig):
    name = "minyi.workcal"
    label = "workcal"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from minyi.core.audit import register_action_labels

        register_action_labels({"workcal.enter_holiday_year": "录入节假日"})

        from django.db.models.signals import post_delete, post_save

        from minyi.workcal import models, selectors, signals

        signals.holidays_changed.connect(selectors.forget_schedules)
        for model in (models.Calendar, models.WorkingSlot, models.HolidayYear, models.HolidayDay):
            post_save.connect(selectors.forget_schedules, sender=model)
            post_delete.connect(selectors.forget_schedules, sender=model)
