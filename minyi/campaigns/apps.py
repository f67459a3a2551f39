from typing import Any

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
        from minyi.notifications.registry import register_notification_rule

        register_notification_rule("campaign.issue", _issued)
        register_notification_rule("campaign.return", _returned)


def _issued(event: Any) -> Any:
    """The heads of the named units must sign for the campaign's task."""
    from django.urls import reverse

    from minyi.notifications.registry import Message
    from minyi.notifications.selectors import members
    from minyi.orgs.models import Role

    p = event.payload
    return Message(user_ids=members(roles=(Role.UNIT_HEAD,), unit_ids=p.get("units", [])),
                   text=f"专项整治 {p.get('number', '')}「{p.get('title', '')}」已下发你单位，"
                        "请签收并按期上报整治情况。",
                   link=reverse("campaigns:detail", args=[int(event.object_id)]))


def _returned(event: Any) -> Any:
    """A unit whose report was sent back must report again."""
    from django.urls import reverse

    from minyi.campaigns.models import CampaignTask
    from minyi.notifications.registry import Message
    from minyi.notifications.selectors import members
    from minyi.orgs.models import Role

    task = CampaignTask.objects.filter(pk=event.object_id).select_related("campaign").first()
    if task is None:
        return None
    return Message(user_ids=members(roles=(Role.UNIT_HEAD, Role.UNIT_HANDLER),
                                    unit_ids=[task.unit_id]),
                   text=f"专项整治 {task.campaign.display_number} 的整治情况被退回："
                        f"{event.payload.get('reason', '')}，请补充后重新上报。",
                   link=reverse("campaigns:detail", args=[task.campaign_id]))
