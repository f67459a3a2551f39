"""The holiday pages (administrators only) and the deadline calculator (everyone logged in)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minyi.core.models import Event
from minyi.orgs.models import Membership, Role, Unit, User
from minyi.workcal import selectors
from minyi.workcal.models import Calendar, HolidayDay, HolidayYear

pytestmark = pytest.mark.django_db

GOOD_LINES = "2027-01-01 元旦 休\n2027-02-06~2027-02-13 春节 休\n2027-02-14 春节 班\n"


@pytest.fixture
def bureau():
    return Unit.objects.create(code="B01", name="某某县公安局", kind="bureau")


def member(bureau, username: str, role: str) -> User:
    user = User.objects.create_user(username, password="pw-123456", full_name=username)
    Membership.objects.create(user=user, unit=bureau, role=role)
    return user


@pytest.fixture
def administrator(bureau):
    return member(bureau, "admin1", Role.ADMINISTRATOR)


@pytest.fixture
def handler(bureau):
    return member(bureau, "handler1", Role.UNIT_HANDLER)


@pytest.fixture
def superuser():
    return User.objects.create_superuser("root", password="pw-123456")


def counts():
    return Event.objects.count(), HolidayYear.objects.count(), HolidayDay.objects.count()


@pytest.mark.parametrize(
    "url",
    [
        reverse("workcal:years"),
        reverse("workcal:year_new"),
        reverse("workcal:year_detail", args=[2026]),
    ],
)
def test_holiday_pages_are_forbidden_to_non_administrators(client, handler, url):
    client.force_login(handler)
    assert client.get(url).status_code == 403


def test_posting_a_notice_is_forbidden_to_non_administrators(client, handler):
    client.force_login(handler)
    before = counts()
    response = client.post(
        reverse("workcal:year_new"), {"year": 2027, "notice": "X", "lines": GOOD_LINES}
    )
    assert response.status_code == 403
    assert counts() == before


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("workcal:calculator"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_years_list(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("workcal:years"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "chinese-calendar 软件包" in content
    assert reverse("workcal:year_detail", args=[2026]) in content
    for year in selectors.years_to_flag():
        assert f"{year} 年的节假日尚未录入" in content


def test_year_detail(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("workcal:year_detail", args=[2026]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "2026-02-14" in content and "调休上班" in content
    assert client.get(reverse("workcal:year_detail", args=[2099])).status_code == 404


def test_enter_a_notice(client, administrator):
    client.force_login(administrator)
    assert client.get(reverse("workcal:year_new") + "?year=2027").status_code == 200
    before = counts()
    response = client.post(
        reverse("workcal:year_new"),
        {"year": 2027, "notice": "国办发明电〔2026〕X号", "lines": GOOD_LINES},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("workcal:year_detail", args=[2027])
    year = HolidayYear.objects.get(year=2027)
    assert (year.source, year.notice, year.entered_by) == (
        "notice", "国办发明电〔2026〕X号", administrator
    )
    assert year.days.count() == 10
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 10)
    event = Event.objects.order_by("-id").first()
    assert (event.action, event.actor) == ("workcal.enter_holiday_year", administrator)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("2027-01-01 元旦 休\n2027-02-30 春节 休", "第2行「2027-02-30 春节 休」：日期无效"),
        ("2027-01-01 元旦 休\n2027-02-06 春节", "第2行「2027-02-06 春节」：末尾应为「休」或「班」"),
        ("2027-01-01 元旦 休\n2028-01-01 元旦 休", "第2行：日期 2028-01-01 不在 2027 年内"),
        ("2027-01-01 元旦 休\n2027-02-10 春节 班", "第2行：调休上班日 2027-02-10 是工作日"),
        ("2027-01-01 元旦 休\n\n2027-01-01 元旦 班", "第3行：日期 2027-01-01 自相矛盾"),
    ],
)
def test_a_bad_line_is_shown_next_to_the_field(client, administrator, lines, message):
    client.force_login(administrator)
    before = counts()
    response = client.post(
        reverse("workcal:year_new"), {"year": 2027, "notice": "X", "lines": lines}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors["lines"]
    assert counts() == before


def test_every_bad_line_is_shown_at_once(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("workcal:year_new"),
        {"year": 2027, "notice": "X", "lines": "2027-02-30 春节 休\n2027-02-10 春节 班"},
    )
    assert response.context["form"].errors["lines"] == [
        "第1行「2027-02-30 春节 休」：日期无效",
        "第2行：调休上班日 2027-02-10 是工作日，应为周六或周日",
    ]


def test_replacing_an_entered_year_needs_confirmation(client, administrator):
    client.force_login(administrator)
    data = {"year": 2026, "notice": "国办发明电〔2025〕7号", "lines": "2026-10-01 国庆节 休"}
    response = client.post(reverse("workcal:year_new"), data)
    assert response.status_code == 200
    assert "确认替换请勾选此项" in response.content.decode()
    assert HolidayYear.objects.get(year=2026).days.count() == 39
    response = client.post(reverse("workcal:year_new"), {**data, "replace": "on"})
    assert response.status_code == 302
    assert HolidayYear.objects.get(year=2026).days.count() == 1


def test_edit_form_is_prefilled_with_the_stored_days(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("workcal:year_new") + "?year=2026")
    assert "2026-02-15~2026-02-23 春节 休" in response.content.decode()


def test_calculator(client, handler):
    client.force_login(handler)
    assert client.get(reverse("workcal:calculator")).status_code == 200
    response = client.get(
        reverse("workcal:calculator"),
        {"start": "2026-09-30T16:00", "duration": "1d", "calendar": "office"},
    )
    assert response.status_code == 200
    assert response.context["result"].due.isoformat() == "2026-10-08T16:00:00+08:00"
    assert "2026-10-08T16:00:00+08:00" in response.content.decode()


def test_calculator_flags_a_missing_year(client, handler):
    client.force_login(handler)
    response = client.get(
        reverse("workcal:calculator"),
        {"start": "2026-12-31T16:00", "duration": "2d", "calendar": "office"},
    )
    assert "2027 年的节假日尚未录入" in response.content.decode()


def test_calculator_bad_duration(client, handler):
    client.force_login(handler)
    response = client.get(
        reverse("workcal:calculator"),
        {"start": "2026-09-30T16:00", "duration": "one day", "calendar": "office"},
    )
    assert response.status_code == 200
    assert response.context["result"] is None
    assert "无法识别的时长：&#x27;one day&#x27;" in response.content.decode()


def test_admin_pages(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:workcal_holidayyear_changelist")).status_code == 200
    year = HolidayYear.objects.get(year=2026)
    response = client.get(reverse("admin:workcal_holidayyear_change", args=[year.pk]))
    assert response.status_code == 200
    office = Calendar.objects.get(code="office")
    response = client.get(reverse("admin:workcal_calendar_change", args=[office.pk]))
    assert response.status_code == 200
