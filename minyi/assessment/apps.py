from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "minyi.assessment"
    label = "assessment"
    verbose_name = "考核与通报"

    def ready(self) -> None:
        from minyi.core.audit import register_action_labels

        register_action_labels({
            "bulletin.generate": "生成每周通报",
            "bulletin.regenerate": "重新生成每周通报",
        })
