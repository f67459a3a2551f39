"""The survey pages. Each views module holds its own `urlpatterns` (set-up, desk, weighting,
results), joined here under one namespace."""

from minyi.surveys.views import urlpatterns as _urlpatterns

app_name = "surveys"
urlpatterns = _urlpatterns
