"""Fixtures of the notifications tests: the heads of the two stations (with mobile numbers),
a second handler of the station, and the SMS file of each test in its own temporary folder."""

from __future__ import annotations

import pytest

from minyi.orgs.models import Role


@pytest.fixture(autouse=True)
def _sms_to_tmp(settings, tmp_path):
    settings.MINYI_SMS_BACKEND = "console"
    settings.MINYI_SMS_FILE_PATH = str(tmp_path / "sms" / "sms.jsonl")


@pytest.fixture
def head(bureau):
    """The head of 东城派出所 (bureau.station), with a mobile number on file."""
    return bureau.member(Role.UNIT_HEAD, bureau.station, full_name="钱所长", phone="13900001111")


@pytest.fixture
def other_head(bureau):
    return bureau.member(Role.UNIT_HEAD, bureau.other_station, full_name="孙所长",
                         phone="13900002222")


@pytest.fixture
def second_handler(bureau):
    return bureau.member(Role.UNIT_HANDLER, bureau.station, full_name="吴民警")
