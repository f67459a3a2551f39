"""Fixtures every app's tests share: a small bureau and one user per role, plus an outsider;
orders at any stage of the closed loop; and the browser of the browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from minyi.orders import actions
from minyi.orders.tests.factories import channel, order_type
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import AreaFactory, MembershipFactory, UnitFactory, UserFactory


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    from minyi.workcal.selectors import forget_schedules

    # A schedule cached from a test's rolled-back rows must not leak into the next test.
    forget_schedules()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The manifest storage needs `collectstatic`; tests render pages without running it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Text messages that tests cause go to the test's own folder, not the project's var/sms.
    settings.MINYI_SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


@pytest.fixture(autouse=True)
def _seeded_after_flush(request):
    """A transactional test's flush takes the migrations' seed rows (calendars, holidays,
    channels, order types) with it; put them back before each such test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or "transactional_db"
                              in request.fixturenames or "live_server" in request.fixturenames):
        return
    request.getfixturevalue("transactional_db")
    from minyi.assessment.seed_indicators import seed as seed_indicators
    from minyi.intake.seed import seed as seed_channels
    from minyi.orders.seed import seed as seed_order_types
    from minyi.surveys.seed import seed as seed_index_definitions
    from minyi.workcal.seed import seed as seed_calendars

    seed_calendars()
    seed_channels()
    seed_order_types()
    seed_index_definitions()
    seed_indicators()


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


# --- orders at every stage ------------------------------------------------------------------

# The transitions that take a new order to each state, in order.
PATH = ["dispatched", "signed", "contacted", "reported", "reviewed", "fed_back",
        "called_back", "closed"]


@pytest.fixture
def dispatcher(bureau):
    return bureau.member(Role.DISPATCHER, bureau.command_centre, full_name="赵调度")


@pytest.fixture
def opinion_officer(bureau):
    return bureau.member(Role.OPINION_OFFICER, bureau.bureau, full_name="孙民意")


@pytest.fixture
def make_order(bureau, dispatcher, handler) -> Callable:
    """make_order(stage="signed", **fields): a new order taken to `stage` through the actions."""

    def make(stage: str = "received", **fields):
        defaults = dict(
            bureau=bureau.bureau, channel=channel(), order_type=order_type("noise"),
            demand_kind="complaint", title="楼上装修噪音扰民", content="每天晚上十点后仍在施工",
            citizen_name="刘女士", citizen_phone="13812345678",
            citizen_address="东城镇东城村3号", area=bureau.village, location="东城村3号楼",
        )
        defaults.update(fields)
        order, _ = actions.receive_order(actor=dispatcher, **defaults)
        steps = PATH[: PATH.index(stage) + 1] if stage != "received" else []
        for step in steps:
            if step == "dispatched":
                actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.station)
            elif step == "signed":
                actions.sign_order(actor=handler, order=order)
            elif step == "contacted":
                actions.contact_citizen(actor=handler, order=order, method="phone")
            elif step == "reported":
                actions.report_order(actor=handler, order=order, result="已责令停工并调解",
                                     measures="上门调解，约定施工时间")
            elif step == "reviewed":
                actions.review_order(actor=dispatcher, order=order, passed=True)
            elif step == "fed_back":
                actions.feed_back_order(actor=dispatcher, order=order)
            elif step == "called_back":
                actions.record_callback(actor=dispatcher, order=order, outcome="satisfied")
            elif step == "closed":
                actions.close_order(actor=dispatcher, order=order)
        order.refresh_from_db()
        return order

    return make


# --- browser tests: Debian's Chromium driven by Playwright ----------------------------------
#
# The browser is never downloaded: it is Debian's /usr/bin/chromium (or CHROMIUM_PATH); without
# it the browser tests are skipped with a message saying so. One Playwright driver and one
# Chromium per test process (Playwright's sync API allows one driver at a time). A failing test
# leaves a screenshot under test-artifacts/.

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in Path(str(item.fspath)).parent.parts[-1:]:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[FAILED] = report.failed


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"没有找到 Chromium（{CHROMIUM}）：apt-get install chromium 后可运行浏览器测试")
    # Playwright's sync API runs an event loop in this thread; the live server and the test's
    # own ORM calls are ordinary synchronous code, which Django would otherwise refuse.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield chromium
        chromium.close()


def screenshot_on_failure(request, page, suffix: str = "") -> None:
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot saved: {path}")


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN",
                                  base_url=live_server.url)
    desktop = context.new_page()
    yield desktop
    screenshot_on_failure(request, desktop)
    context.close()
