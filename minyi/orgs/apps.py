from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "minyi.orgs"
    label = "orgs"
    verbose_name = "单位与人员"

    def ready(self) -> None:
        from minyi.core.audit import register_action_labels

        register_action_labels({
            "unit.create": "新建单位",
            "area.create": "新建区域",
            "user.create": "新建用户",
            "membership.create": "分配岗位",
        })
