"""The built-in index definitions (口径) of `surveys.template`; idempotent, run by the migration,
by load_demo and after a transactional test's flush."""

from django.apps import apps as global_apps

from minyi.surveys.template import INDEX_DEFINITIONS


def seed(apps=global_apps, schema_editor=None) -> None:
    IndexDefinition = apps.get_model("surveys", "IndexDefinition")
    for entry in INDEX_DEFINITIONS:
        fields = {k: v for k, v in entry.items() if k not in ("code", "version")}
        IndexDefinition.objects.get_or_create(bureau=None, code=entry["code"],
                                              version=entry["version"], defaults=fields)
