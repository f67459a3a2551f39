"""The built-in indicators (`indicators.BUILTIN`); idempotent, run by migration 0003, by
load_demo and after a transactional test's flush. An existing (code, version) is left as it
is: a used definition is never edited, a change is a new version."""

from django.apps import apps as global_apps

from minyi.assessment.indicators import builtin_rows


def seed(apps=global_apps, schema_editor=None) -> None:
    Indicator = apps.get_model("assessment", "Indicator")
    for entry in builtin_rows():
        fields = {k: v for k, v in entry.items() if k not in ("code", "version")}
        Indicator.objects.get_or_create(bureau=None, code=entry["code"],
                                        version=entry["version"], defaults=fields)
