"""Fixtures every app's tests share: a small bureau and one user per role, plus an outsider."""

from __future__ import annotations

import pytest

from minyi.orgs.models import Role
from minyi.orgs.tests.factories import AreaFactory, MembershipFactory, UnitFactory, UserFactory


@pytest.fixture(autouse=True)
def _test_settings(settings):
    from minyi.workcal.selectors import forget_schedules

    # A schedule cached from a test's rolled-back rows must not leak into the next test.
    forget_schedules()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The manifest storage needs `collectstatic`; tests render pages without running it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _seeded_after_flush(request):
    """A transactional test's flush takes the migrations' seed rows (calendars, holidays,
    channels, order types) with it; put them back before each such test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or "transactional_db"
                              in request.fixturenames or "live_server" in request.fixturenames):
        return
    request.getfixturevalue("transactional_db")
    from minyi.intake.seed import seed as seed_channels
    from minyi.orders.seed import seed as seed_order_types
    from minyi.workcal.seed import seed as seed_calendars

    seed_calendars()
    seed_channels()
    seed_order_types()


class Bureau:
    """A bureau with a command centre, a squad and two stations, each station with an area."""

    def __init__(self) -> None:
        self.bureau = UnitFactory(kind="bureau", name="测试县公安局")
        self.command_centre = UnitFactory(kind="command_centre", name="指挥中心",
                                          parent=self.bureau)
        self.squad = UnitFactory(kind="squad", name="督察大队", parent=self.bureau)
        self.station = UnitFactory(kind="station", name="东城派出所", parent=self.bureau)
        self.other_station = UnitFactory(kind="station", name="西城派出所", parent=self.bureau)
        self.team = UnitFactory(kind="team", name="东城社区中队", parent=self.station)
        self.township = AreaFactory(kind="township", name="东城镇", station=self.station)
        self.village = AreaFactory(kind="village", name="东城村", station=self.station,
                                   parent=self.township)
        self.other_township = AreaFactory(kind="township", name="西城镇",
                                          station=self.other_station)

    def member(self, role: str, unit=None, **user_fields):
        user = UserFactory(**user_fields)
        MembershipFactory(user=user, unit=unit or self.station, role=role)
        return user


@pytest.fixture
def bureau(db) -> Bureau:
    return Bureau()


@pytest.fixture
def handler(bureau):
    return bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="张承办")


@pytest.fixture
def outsider(bureau):
    """A handler of the other station: must see nothing of `bureau.station`."""
    return bureau.member(Role.UNIT_HANDLER, bureau.other_station, full_name="李外所")


@pytest.fixture
def leader(bureau):
    return bureau.member(Role.BUREAU_LEADER, bureau.bureau, full_name="王局长")


@pytest.fixture
def inspector(bureau):
    return bureau.member(Role.INSPECTOR, bureau.squad, full_name="周督察")


@pytest.fixture
def administrator(bureau):
    return bureau.member(Role.ADMINISTRATOR, bureau.bureau, full_name="陈管理", is_staff=True)
