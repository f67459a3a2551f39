from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "minyi.orders"
    label = "orders"
    verbose_name = "工单"

    def ready(self) -> None:
        from minyi.core.audit import register_action_labels
        from minyi.orders.rules import TRANSITION_LABELS
        from minyi.workcal.signals import holidays_changed

        register_action_labels({f"order.{k}": v for k, v in TRANSITION_LABELS.items()})
        register_action_labels({
            "order.reveal": "查看个人信息",
            "order.repeat": "判定为重复投诉",
            "order.recompute_deadline": "按新日历重算时限",
            "order.feedback_delivered": "反馈已送达来源平台",
            "order.feedback_failed": "反馈推送失败",
            "order.notice": "下发督办单",
            "order.letter": "下发提醒函",
            "notice.issue": "下发督办单",
            "notice.sign": "签收督办单",
            "notice.reply": "答复督办单",
            "notice.escalate": "督办单逾期未答复，移交督察",
            "letter.issue": "下发提醒函",
            "letter.acknowledge": "签收提醒函",
        })
        holidays_changed.connect(_recompute, dispatch_uid="orders.recompute_deadlines")


def _recompute(sender, years=(), **kwargs) -> None:
    from minyi.orders.actions import recompute_deadlines

    recompute_deadlines(years=years)
