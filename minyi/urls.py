from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("minyi.core.urls")),
    path("orgs/", include("minyi.orgs.urls")),
    path("workcal/", include("minyi.workcal.urls")),
    path("orders/", include("minyi.orders.urls")),
    path("intake/", include("minyi.intake.urls")),
    path("api/v1/", include("minyi.api.urls")),
    path("notifications/", include("minyi.notifications.urls")),
    path("assessment/", include("minyi.assessment.urls")),
    path("campaigns/", include("minyi.campaigns.urls")),
    path("callbacks/", include("minyi.callbacks.urls")),
    # The public's pages (rating links, progress query): short addresses, no login.
    path("p/", include("minyi.public.urls")),
    path("surveys/", include("minyi.surveys.urls")),
]
