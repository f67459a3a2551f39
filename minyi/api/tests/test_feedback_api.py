"""GET /feedback: a client sees its own deliveries, the command centre those of its bureau."""

import pytest
from django.urls import reverse

from minyi.api import actions as api_actions
from minyi.intake.models import FeedbackDelivery
from minyi.orders import actions
from minyi.orders.tests.factories import channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliveries(integration, bureau, make_order, dispatcher):
    other, other_token = api_actions.create_client(
        actor=None, name="110系统", channel=channel("110"), bureau=bureau.bureau,
        webhook_url="http://127.0.0.1:9/110")
    other.token = other_token
    made = {}
    for client, external_id in [(integration, "a1"), (integration, "a2"), (other, "b1")]:
        order = make_order("reviewed", source_client=client, external_id=external_id,
                           channel=client.channel)
        actions.feed_back_order(actor=dispatcher, order=order)
        made[external_id] = FeedbackDelivery.objects.get(order=order)
    FeedbackDelivery.objects.filter(pk=made["a2"].pk).update(status="delivered")
    return made, other


def test_a_client_sees_only_its_own(deliveries, integration, api_as):
    _, other = deliveries
    pending = api_as(integration).get("/feedback").json()["results"]
    assert [d["order"]["external_id"] for d in pending] == ["a1"]
    assert pending[0]["payload"]["external_id"] == "a1"
    delivered = api_as(integration).get("/feedback", {"status": "delivered"}).json()["results"]
    assert [d["order"]["external_id"] for d in delivered] == ["a2"]
    theirs = api_as(other).get("/feedback").json()["results"]
    assert [d["order"]["external_id"] for d in theirs] == ["b1"]


def test_the_command_centre_sees_its_bureaus_and_pages_through_them(deliveries, dispatcher,
                                                                    api_as):
    caller = api_as(dispatcher)
    first = caller.get("/feedback", {"limit": 1}).json()
    second = caller.get("/feedback", {"limit": 1, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    assert {first["results"][0]["order"]["external_id"],
            second["results"][0]["order"]["external_id"]} == {"a1", "b1"}


def test_bad_status_is_400_and_other_roles_403(deliveries, dispatcher, handler, api_as):
    response = api_as(dispatcher).get("/feedback", {"status": "lost"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "status"
    assert api_as(handler).get("/feedback").status_code == 403


def test_the_admin_lists_and_revokes_tokens(client, handler):
    from minyi.api.models import ApiToken
    from minyi.orgs.tests.factories import UserFactory

    row, _ = api_actions.create_user_token(actor=None, user=handler, name="手机")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:api_apitoken_changelist")
    assert row.prefix in client.get(url).content.decode()
    client.post(url, {"action": "revoke", "_selected_action": [row.pk]})
    assert ApiToken.objects.get().revoked
