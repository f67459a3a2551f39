from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "minyi.reports"
    label = "reports"
    verbose_name = "报表"
