"""The notifications page, opening a notification, marking read, and the bell in the top bar.
A user sees their own notifications only: another user's answers 404 like a missing one."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from minyi.core.context_processors import shell
from minyi.notifications.actions import notify
from minyi.notifications.models import Notification

pytestmark = pytest.mark.django_db
LIST = "/notifications/"


def rows(html: str) -> list[str]:
    return re.findall(r'<li class="(notif[^"]*)" id="notif-(\d+)"', html)


@pytest.fixture
def mine(handler, outsider):
    """Three notifications of the handler (the newest read) and one of the outsider."""
    first = notify(user_ids=[handler.pk], text="工单A已转办东城派出所", link="/orders/1/")[0]
    second = notify(user_ids=[handler.pk], text="工单B被审核退回", link="/orders/2/")[0]
    third = notify(user_ids=[handler.pk], text="工单C已转办", link="/orders/3/")[0]
    Notification.objects.filter(pk=third.pk).update(read_at="2026-11-20T08:00:00Z")
    theirs = notify(user_ids=[outsider.pk], text="西城的通知", link="/orders/9/")[0]
    return {"first": first, "second": second, "third": third, "theirs": theirs}


def test_the_list_shows_ones_own_notifications_newest_first_unread_highlighted(
        client, handler, mine):
    client.force_login(handler)
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert rows(html) == [("notif", str(mine["third"].pk)),
                          ("notif notif-unread", str(mine["second"].pk)),
                          ("notif notif-unread", str(mine["first"].pk))]
    assert "西城的通知" not in html
    assert "未读（2）" in html and 'data-testid="read-all"' in html
    assert f'href="/notifications/{mine["first"].pk}/open/"' in html


def test_each_row_says_what_kind_of_event_it_is(client, make_order, handler, dispatcher):
    order = make_order("reported")
    from minyi.orders import actions

    actions.review_order(actor=dispatcher, order=order, passed=False, reason="材料不全")
    client.force_login(handler)
    html = client.get(LIST).content.decode()
    assert re.findall(r'data-testid="kind">([^<]+)<', html) == ["审核退回", "转办"]


def test_the_unread_filter(client, handler, mine):
    client.force_login(handler)
    html = client.get(LIST, {"unread": "1"}).content.decode()
    assert [pk for _, pk in rows(html)] == [str(mine["second"].pk), str(mine["first"].pk)]


def test_an_empty_list_says_so(client, outsider):
    client.force_login(outsider)
    html = client.get(LIST).content.decode()
    assert "暂无通知" in html and 'data-testid="read-all"' not in html


def test_opening_marks_read_and_goes_to_the_link(client, handler, mine):
    client.force_login(handler)
    response = client.get(f"/notifications/{mine['first'].pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/orders/1/"
    mine["first"].refresh_from_db()
    assert mine["first"].read_at is not None
    read_at = mine["first"].read_at
    client.get(f"/notifications/{mine['first'].pk}/open/")
    mine["first"].refresh_from_db()
    assert mine["first"].read_at == read_at  # the first reading is kept


def test_another_users_notification_is_404_everywhere(client, handler, outsider, mine):
    client.force_login(outsider)
    for pk in (mine["first"].pk, 999_999):
        assert client.get(f"/notifications/{pk}/open/").status_code == 404
        assert client.post(f"/notifications/{pk}/read/").status_code == 404
    client.post("/notifications/read-all/")
    mine["first"].refresh_from_db()
    assert mine["first"].read_at is None  # the outsider's "read all" is his own
    mine["theirs"].refresh_from_db()
    assert mine["theirs"].read_at is not None


def test_an_outside_link_is_not_followed(client, handler):
    note = notify(user_ids=[handler.pk], text="钓鱼", link="https://evil.example/x")[0]
    client.force_login(handler)
    response = client.get(f"/notifications/{note.pk}/open/")
    assert response["Location"] == reverse("notifications:list")


def test_mark_one_read_plain_and_with_htmx(client, handler, mine):
    client.force_login(handler)
    assert client.get(f"/notifications/{mine['first'].pk}/read/").status_code == 405
    response = client.post(f"/notifications/{mine['first'].pk}/read/", {"next": LIST + "?x=1"})
    assert response.status_code == 302 and response["Location"] == LIST + "?x=1"
    mine["first"].refresh_from_db()
    assert mine["first"].read_at is not None

    response = client.post(f"/notifications/{mine['second'].pk}/read/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert rows(html) == [("notif", str(mine["second"].pk))]
    assert 'id="topbar-bell"' in html and 'hx-swap-oob="true"' in html
    assert 'data-testid="bell-count"' not in html  # nothing unread any more
    assert "<html" not in html


def test_mark_all_read(client, handler, mine):
    client.force_login(handler)
    response = client.post("/notifications/read-all/", {"next": LIST})
    assert response.status_code == 302
    assert not Notification.objects.filter(user=handler, read_at__isnull=True).exists()
    assert "已将 2 条通知标为已读" in client.get(LIST).content.decode()


def test_mark_all_read_with_htmx_answers_the_list_and_the_bell(client, handler, mine):
    client.force_login(handler)
    html = client.post("/notifications/read-all/", HTTP_HX_REQUEST="true").content.decode()
    assert [cls for cls, _ in rows(html)] == ["notif", "notif", "notif"]
    assert 'id="notification-list"' in html and 'id="notif-toolbar"' in html
    assert 'data-testid="bell-count"' not in html


def test_the_bell_counts_unread_notifications(client, handler, mine):
    client.force_login(handler)
    html = client.get("/").content.decode()
    bell = re.search(r'<a id="topbar-bell".*?</a>', html, re.S).group(0)
    assert 'data-testid="bell-count">2<' in bell
    assert 'title="2 条未读通知"' in bell
    notify(user_ids=[handler.pk], text="更多", link="/")
    for _ in range(100):
        Notification.objects.create(user=handler, text="x")
    html = client.get("/").content.decode()
    assert 'data-testid="bell-count">99+<' in html


def test_the_bell_has_no_count_when_all_is_read(client, outsider):
    client.force_login(outsider)
    html = client.get("/").content.decode()
    assert 'id="topbar-bell"' in html and 'data-testid="bell-count"' not in html


def test_the_count_is_asked_once_per_request(rf: RequestFactory, handler, mine,
                                             django_assert_num_queries):
    request = rf.get("/")
    request.user = handler
    count = shell(request)["unread_notifications"]
    with django_assert_num_queries(1):
        assert count() == 2
        assert count() == 2


def test_pages_of_thirty(client, handler):
    for i in range(35):
        Notification.objects.create(user=handler, text=f"通知{i:02d}")
    client.force_login(handler)
    html = client.get(LIST).content.decode()
    assert len(rows(html)) == 30 and "通知34" in html and "通知05" in html
    next_url = re.search(r'href="([^"]+)" data-testid="next-page"', html).group(1)
    html = client.get(next_url.replace("&amp;", "&")).content.decode()
    assert len(rows(html)) == 5 and "通知04" in html and "通知05" not in html
    assert "第一页" in html and 'data-testid="next-page"' not in html


def test_anonymous_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login" in response["Location"]
