from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "minyi.notifications"
    label = "notifications"
    verbose_name = "通知"

    def ready(self) -> None:
        from minyi.core.audit import event_recorded, register_action_labels
        from minyi.notifications import order_rules
        from minyi.notifications.actions import on_event_recorded

        register_action_labels({
            "sms.sent": "短信已发送",
            "sms.failed": "短信发送失败（将重试）",
            "sms.given_up": "短信发送失败（已放弃）",
        })
        order_rules.register()
        event_recorded.connect(on_event_recorded, dispatch_uid="notifications.on_event")
