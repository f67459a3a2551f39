from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "minyi.orgs"
    label = "orgs"
    verbose_name = "单位与人员"
