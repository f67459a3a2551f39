"""The survey pages, one module per part; each module lists its own routes."""

from importlib import import_module

_PARTS = ("setup", "desk", "weighting", "results")

urlpatterns: list = []
for _part in _PARTS:
    try:
        _module = import_module(f"minyi.surveys.views.{_part}")
    except ModuleNotFoundError as error:
        # Only a part not written yet may be missing, never a module it imports.
        if error.name != f"minyi.surveys.views.{_part}":
            raise
        continue
    urlpatterns += _module.urlpatterns
