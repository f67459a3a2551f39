"""The bulletin tests' fixtures live in `fixtures.py`, so that the formatters' tests in
minyi/reports/tests can use them too."""

from minyi.assessment.tests.fixtures import other_bureau_user, week_orders  # noqa: F401
