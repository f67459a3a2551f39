import pytest
from django.urls import reverse

from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.orgs.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, bureau):
    from minyi.orgs.tests.factories import UserFactory

    root = UserFactory(is_staff=True, is_superuser=True, full_name="超级管理员")
    client.force_login(root)
    return client


def test_admin_is_in_chinese(admin_client):
    body = admin_client.get(reverse("admin:index")).content.decode()
    assert "民意平台" in body and "单位" in body and "节假日" in body


def test_a_change_in_the_admin_is_recorded(admin_client, bureau):
    station = bureau.station
    url = reverse("admin:orgs_unit_change", args=[station.pk])
    response = admin_client.post(url, {
        "code": station.code, "name": "东城派出所（新）", "short_name": "", "kind": "station",
        "parent": bureau.bureau.pk, "phone": "0533-1234567", "sort_order": 0, "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(action="admin.change")
    assert event.object_type == "orgs.unit" and event.object_id == str(station.pk)
    assert event.before["name"] == "东城派出所"
    assert event.after["name"] == "东城派出所（新）"
    assert event.actor_label == "超级管理员"
    assert verify_chain().ok


def test_an_addition_and_a_deletion_in_the_admin_are_recorded(admin_client, bureau):
    response = admin_client.post(reverse("admin:orgs_unit_add"), {
        "code": "NEW1", "name": "新建中队", "short_name": "", "kind": "team",
        "parent": bureau.station.pk, "phone": "", "sort_order": 0, "is_active": "on",
    })
    assert response.status_code == 302
    unit = Unit.objects.get(code="NEW1")
    assert unit.path.startswith(bureau.station.path)
    assert Event.objects.filter(action="admin.add", object_id=str(unit.pk)).exists()

    response = admin_client.post(
        reverse("admin:orgs_unit_delete", args=[unit.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Unit.objects.filter(code="NEW1").exists()
    deletion = Event.objects.get(action="admin.delete")
    assert deletion.before["code"] == "NEW1"


def test_password_hashes_stay_out_of_the_trail(admin_client, bureau, handler):
    url = reverse("admin:orgs_user_change", args=[handler.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: (value if value is not None else "") for name, value in form.initial.items()}
    data.update({
        "full_name": "张承办（改）", "groups": [], "last_login_0": "", "last_login_1": "",
        "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00", "is_active": "on",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
    })
    data = {k: v for k, v in data.items() if v is not False and k not in {"password"}}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(action="admin.change", object_type="orgs.user")
    assert "password" not in event.after and event.after["full_name"] == "张承办（改）"


def test_events_cannot_be_changed_in_the_admin(admin_client):
    from minyi.core.audit import record_event

    event = record_event(actor=None, object_type="x.y", object_id="1", action="test")
    response = admin_client.post(reverse("admin:core_event_change", args=[event.pk]), {})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:core_event_add")).status_code == 403
