from django.db import migrations

from minyi.assessment.seed_indicators import seed


class Migration(migrations.Migration):

    dependencies = [
        ("assessment", "0002_monthly_assessment_and_programme"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
