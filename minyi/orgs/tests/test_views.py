import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_unit_page_for_own_station(client, bureau, handler):
    client.force_login(handler)
    response = client.get(reverse("orgs:unit_detail", args=[bureau.station.pk]))
    assert response.status_code == 200
    assert "东城派出所" in response.content.decode()
    assert "张承办" in response.content.decode()


def test_unit_page_of_another_station_is_404(client, bureau, outsider):
    client.force_login(outsider)
    assert client.get(reverse("orgs:unit_detail", args=[bureau.station.pk])).status_code == 404
    assert client.get(reverse("orgs:unit_detail", args=[987654])).status_code == 404


def test_area_page_of_another_jurisdiction_is_404(client, bureau, handler, outsider):
    client.force_login(outsider)
    assert client.get(reverse("orgs:area_detail", args=[bureau.village.pk])).status_code == 404
    client.force_login(handler)
    response = client.get(reverse("orgs:area_detail", args=[bureau.village.pk]))
    assert response.status_code == 200
    assert "东城派出所" in response.content.decode()


def test_unit_list_shows_only_visible_units(client, bureau, outsider):
    client.force_login(outsider)
    body = client.get(reverse("orgs:units")).content.decode()
    assert "西城派出所" in body and "西城镇" in body
    assert "东城派出所" not in body and "东城镇" not in body


def test_people_filtered_by_a_unit_outside_is_404(client, bureau, handler, outsider):
    client.force_login(outsider)
    assert client.get(reverse("orgs:people"), {"unit": bureau.station.pk}).status_code == 404
    body = client.get(reverse("orgs:people")).content.decode()
    assert "李外所" in body and "张承办" not in body


def test_leader_sees_every_unit(client, bureau, leader):
    client.force_login(leader)
    body = client.get(reverse("orgs:units")).content.decode()
    assert "东城派出所" in body and "西城派出所" in body and "督察大队" in body


def test_pages_need_login(client, bureau):
    response = client.get(reverse("orgs:unit_detail", args=[bureau.station.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
