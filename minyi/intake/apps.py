from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "minyi.intake"
    label = "intake"
    verbose_name = "受理渠道与对接"

    def ready(self) -> None:
        from minyi.core.audit import register_action_labels

        register_action_labels({"order.import": "批量导入"})
