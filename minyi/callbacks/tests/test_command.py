"""`minyi callbacks draw|contacts`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from minyi.callbacks.models import CallbackTask, Contact, Draw
from minyi.callbacks.tests.test_actions import DAY, contact, plan, sh

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command("callbacks", *args, stdout=out)
    return json.loads(out.getvalue())


def test_draw_prints_counts_per_plan_and_a_second_run_makes_nothing(bureau):
    p = plan(bureau)
    contact(bureau, at=sh(DAY - timedelta(days=1), 10))
    contact(bureau, at=sh(DAY - timedelta(days=1), 11))
    first = run("draw", "--date", "2026-11-20", "--bureau", bureau.bureau.code)
    draw = Draw.objects.get()
    assert first == {"date": "2026-11-20", "plans": [{
        "plan": p.pk, "name": p.name, "bureau": bureau.bureau.code, "draw": draw.pk,
        "seed": draw.seed, "population": 2, "drawn": 2, "created": True}]}
    second = run("draw", "--date", "2026-11-20")
    assert second["plans"][0]["created"] is False and second["plans"][0]["drawn"] == 2
    assert CallbackTask.objects.count() == 2 and Draw.objects.count() == 1


def test_bad_date_and_bureau_exit_2(bureau):
    with pytest.raises(CommandError, match="日期应写作") as caught:
        call_command("callbacks", "draw", "--date", "2026-13-40")
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="没有单位代码") as caught:
        call_command("callbacks", "draw", "--date", "2026-11-20", "--bureau", "NOPE")
    assert caught.value.returncode == 2
    assert not Draw.objects.exists()


def test_bad_date_from_the_console_is_one_line_and_status_2():
    done = subprocess.run([sys.executable, "-m", "minyi", "callbacks", "draw", "--date",
                           "20.11.2026"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "日期应写作" in done.stderr


def test_contacts(make_order):
    make_order("closed")
    assert run("contacts") == {"created": 1}
    assert run("contacts") == {"created": 0}
    assert Contact.objects.count() == 1
