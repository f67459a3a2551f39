from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "minyi.callbacks"
    label = "callbacks"
    verbose_name = "回访与整改"

    def ready(self) -> None:
        # Rectification, spot checks and rating links: their event labels and notification rules.
        from minyi.callbacks import actions, importing, links, rectification, spotchecks

        actions.register()
        importing.register()
        rectification.register()
        spotchecks.register()
        links.register()
