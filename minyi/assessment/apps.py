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
            "assessment.scheme_create": "建立年度考核方案",
            "assessment.scheme_item_update": "修改考核项目",
            "assessment.manual_value": "填报考核指标值",
            "assessment.month_run": "计算月度考核成绩",
            "assessment.month_close": "月度考核关账",
            "assessment.month_reopen": "重新打开月度考核",
        })
