from django.urls import path

from minyi.orgs import views

app_name = "orgs"
urlpatterns = [
    path("units/", views.units, name="units"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("areas/<int:pk>/", views.area_detail, name="area_detail"),
    path("people/", views.people, name="people"),
]
