from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "minyi.api"
    label = "api"
    verbose_name = "接口"
