from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minyi.core"
    label = "core"
    verbose_name = "审计与系统"
