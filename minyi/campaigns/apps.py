from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "minyi.campaigns"
    label = "campaigns"
    verbose_name = "热点与专项整治"
