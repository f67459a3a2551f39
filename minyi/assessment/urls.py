"""The assessment pages: each views module lists its own routes, joined here."""

from importlib import import_module

app_name = "assessment"
urlpatterns: list = []
for _part in ("bulletins", "months", "programme", "dashboard"):
    try:
        _module = import_module(f"minyi.assessment.views.{_part}")
    except ModuleNotFoundError as error:
        # Only a part not written yet may be missing, never a module it imports.
        if error.name != f"minyi.assessment.views.{_part}":
            raise
        continue
    urlpatterns += _module.urlpatterns
