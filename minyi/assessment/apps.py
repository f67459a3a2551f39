from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "minyi.assessment"
    label = "assessment"
    verbose_name = "考核与通报"
