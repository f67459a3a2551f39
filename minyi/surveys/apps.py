from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "minyi.surveys"
    label = "surveys"
    verbose_name = "民意调查"

    def ready(self) -> None:
        # Each module of actions registers the labels of its events (and notification rules).
        from minyi.surveys import (
            actions,
            definitions,
            demo,
            desk,
            population,
            weblinks,
            weights,
        )

        actions.register()
        desk.register()
        weblinks.register()
        population.register()
        weights.register()
        demo.register()
        definitions.register()
