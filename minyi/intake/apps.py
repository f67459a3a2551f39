from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "minyi.intake"
    label = "intake"
    verbose_name = "受理渠道与对接"
