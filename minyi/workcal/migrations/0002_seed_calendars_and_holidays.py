"""Seeds the office and 24×7 calendars and the package's holidays (see minyi.workcal.seed)."""

from django.db import migrations

from minyi.workcal.seed import seed, unseed


class Migration(migrations.Migration):
    dependencies = [("workcal", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
