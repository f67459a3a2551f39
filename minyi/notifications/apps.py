from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "minyi.notifications"
    label = "notifications"
    verbose_name = "通知"
