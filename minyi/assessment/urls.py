"""The assessment pages: each views module lists its own routes, joined here."""

from minyi.assessment.views import bulletins, dashboard, months, programme

app_name = "assessment"
urlpatterns: list = [*bulletins.urlpatterns, *months.urlpatterns, *programme.urlpatterns,
                     *dashboard.urlpatterns]
