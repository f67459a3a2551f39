from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "minyi.campaigns"
    label = "campaigns"
    verbose_name = "热点与专项整治"

    def ready(self) -> None:
        from minyi.core.audit import register_action_labels

        register_action_labels({
            "campaign.issue": "发起专项整治",
            "campaign.sign": "签收专项整治任务",
            "campaign.report": "上报整治情况",
            "campaign.accept": "验收通过",
            "campaign.return": "退回整治情况",
            "campaign.close": "结束专项整治",
        })
