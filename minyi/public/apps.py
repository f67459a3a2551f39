from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "minyi.public"
    label = "public"
    verbose_name = "群众端页面"
