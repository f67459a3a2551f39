from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "minyi.callbacks"
    label = "callbacks"
    verbose_name = "回访与整改"
