"""The floors of the red and black lists, set per bureau in the admin (each change an event),
and used by the next bulletin."""

import pytest
from django.urls import reverse

from minyi.assessment import bulletins
from minyi.assessment.models import BulletinSettings
from minyi.core.models import Event
from minyi.orgs.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_administrator_sets_the_floors(client, bureau):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:assessment_bulletinsettings_add"), {
        "bureau": bureau.bureau.pk, "satisfaction_floor": "90", "on_time_floor": "92.5",
        "contact_floor": "95", "min_orders": "3", "basic_weight": "0.5"})
    assert response.status_code == 302, response.content.decode()[:2000]
    row = BulletinSettings.objects.get(bureau=bureau.bureau)
    assert Event.objects.filter(action="admin.add", object_id=str(row.pk)).exists()
    floors = bulletins.floors_for(bureau.bureau)
    assert (str(floors.satisfaction), str(floors.on_time), floors.min_orders,
            str(floors.basic_weight)) == ("90.0", "92.5", 3, "0.50")
    assert "满意率低于90%、按时办结率低于92.5%" in bulletins.definitions(floors)["black_list"]

    bad = client.post(reverse("admin:assessment_bulletinsettings_change", args=[row.pk]), {
        "bureau": bureau.bureau.pk, "satisfaction_floor": "120", "on_time_floor": "90",
        "contact_floor": "95", "min_orders": "5", "basic_weight": "1.5"})
    assert bad.status_code == 200  # the form again, with what is wrong
    row.refresh_from_db()
    assert row.satisfaction_floor == 90


def test_the_bulletins_are_read_only_in_the_admin(client, bureau):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    bulletin, _ = bulletins.generate(actor=None, bureau=bureau.bureau,
                                     week=bulletins.IsoWeek(2024, 19))
    assert client.get(reverse("admin:assessment_weeklybulletin_changelist")).status_code == 200
    assert client.post(reverse("admin:assessment_weeklybulletin_delete",
                               args=[bulletin.pk]), {"post": "yes"}).status_code == 403
