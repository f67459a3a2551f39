"""The survey pages, one module per part; each module lists its own routes."""

from minyi.surveys.views import desk, results, setup, weighting

urlpatterns: list = [*setup.urlpatterns, *desk.urlpatterns, *weighting.urlpatterns,
                     *results.urlpatterns]
