"""Shared fixtures of the working-calendar tests.

The holiday files in ../shared/data/holidays/ are the reference the arithmetic is checked
against; they are read where they lie (never copied in), and the tests that need them skip when
the project is checked out without them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from minyi.workcal.timecalc import WorkSchedule, office_schedule

REFERENCE_YEARS = (2024, 2025, 2026)


def holidays_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "holidays"


def load_reference(year: int) -> dict:
    path = holidays_dir() / f"{year}.json"
    if not path.exists():
        pytest.skip(f"holiday reference file {path} is absent (../shared/data/holidays/)")
    return json.loads(path.read_text(encoding="utf-8"))


def reference_days(year: int) -> dict[date, bool]:
    """date -> is_off_day, as the reference file says."""
    return {
        date.fromisoformat(day["date"]): day["isOffDay"] for day in load_reference(year)["days"]
    }


@pytest.fixture
def reference_file():
    """A function giving the path of the reference file of a year (skipping when absent)."""

    def path_of(year: int) -> Path:
        load_reference(year)
        return holidays_dir() / f"{year}.json"

    return path_of


@pytest.fixture
def json_schedule() -> WorkSchedule:
    """The office schedule with the holidays of 2024–2026 taken from the reference files."""
    overrides: dict[date, bool] = {}
    for year in REFERENCE_YEARS:
        overrides.update({day: not off for day, off in reference_days(year).items()})
    return office_schedule(overrides=overrides, known_years=REFERENCE_YEARS)
