"""The command centre's page of undelivered feedback, with "retry now"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minyi.api import actions as api_actions
from minyi.intake.models import FeedbackDelivery
from minyi.intake.tests.test_feedback import Platform
from minyi.orders import actions
from minyi.orders.tests.factories import channel
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import UnitFactory

pytestmark = pytest.mark.django_db



@pytest.fixture
def platform():
    server = Platform(statuses=[500]).start()
    yield server
    server.stop()


@pytest.fixture
def failed(platform, bureau, make_order, dispatcher):
    """A delivery whose first attempt failed."""
    from minyi.intake import feedback

    client, _ = api_actions.create_client(actor=None, name="12345平台", channel=channel("12345"),
                                          bureau=bureau.bureau, webhook_url=platform.url)
    order = make_order("reviewed", source_client=client, external_id="12345-0042")
    actions.feed_back_order(actor=dispatcher, order=order)
    delivery = FeedbackDelivery.objects.get(order=order)
    assert feedback.deliver(delivery.pk) is False
    delivery.refresh_from_db()
    return delivery


def test_the_command_centre_sees_what_is_undelivered(client, dispatcher, failed):
    client.force_login(dispatcher)
    response = client.get(reverse("intake:feedback"))
    assert response.status_code == 200
    html = response.content.decode()
    assert failed.order.number in html and "12345平台" in html
    assert "HTTP 500：平台暂时不可用" in html
    from django.utils import timezone

    assert f"{timezone.localtime(failed.next_attempt_at):%Y-%m-%d %H:%M}" in html
    assert "立即重试" in html
    assert html.count('data-testid="feedback-row"') == 1


def test_retry_now_delivers_and_the_row_goes(client, dispatcher, failed, platform):
    client.force_login(dispatcher)
    response = client.post(reverse("intake:feedback_retry", args=[failed.pk]), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "已送达「12345平台」" in html
    assert "所有反馈均已送达" in html
    failed.refresh_from_db()
    assert failed.status == FeedbackDelivery.Status.DELIVERED
    assert len(platform.received) == 2


def test_retry_now_that_fails_again_says_why(client, dispatcher, failed, platform):
    platform.statuses = [502]
    client.force_login(dispatcher)
    response = client.post(reverse("intake:feedback_retry", args=[failed.pk]), follow=True)
    assert "仍未送达：HTTP 502" in response.content.decode()
    failed.refresh_from_db()
    assert failed.attempts == 2


def test_other_roles_get_403(client, handler, leader, failed):
    for user in (handler, leader):
        client.force_login(user)
        assert client.get(reverse("intake:feedback")).status_code == 403
        assert client.post(reverse("intake:feedback_retry", args=[failed.pk])).status_code == 403


def test_a_dispatcher_of_another_bureau_sees_none_of_it(client, bureau, failed):
    elsewhere = UnitFactory(kind="bureau", name="外县公安局")
    centre = UnitFactory(kind="command_centre", name="外县指挥中心", parent=elsewhere)
    stranger = bureau.member(Role.DISPATCHER, centre, full_name="外县调度")
    client.force_login(stranger)
    response = client.get(reverse("intake:feedback"))
    assert response.status_code == 200 and failed.order.number not in response.content.decode()
    response = client.post(reverse("intake:feedback_retry", args=[failed.pk]))
    assert response.status_code == 404
    failed.refresh_from_db()
    assert failed.attempts == 1


def test_anonymous_is_sent_to_log_in(client, failed):
    response = client.get(reverse("intake:feedback"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_retry_needs_post(client, dispatcher, failed):
    client.force_login(dispatcher)
    assert client.get(reverse("intake:feedback_retry", args=[failed.pk])).status_code == 405
