"""Two Monday jobs at the same moment on real connections (a restart, a second web process):
one bulletin per bureau, numbered once, one event."""


import pytest

from minyi.assessment import bulletins
from minyi.assessment.models import WeeklyBulletin
from minyi.assessment.tests.fixtures import at
from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.orders.models import DocumentSequence
from minyi.testing import race_ok

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_monday_jobs_at_once_make_one_bulletin(bureau):
    monday = at("2024-05-13 08:00")
    runs = race_ok(*[lambda: bulletins.generate_last_week(now=monday)] * 2)
    assert sorted(created for made in runs for _, created in made) == [False, True]
    bulletin = WeeklyBulletin.objects.get()
    assert bulletin.display_number == "通报〔2024〕1号"
    # The second run found it made under the lock and took no number: no gap.
    assert DocumentSequence.objects.get(kind="bulletin").last_number == 1
    assert Event.objects.filter(action="bulletin.generate").count() == 1
    assert verify_chain().ok
