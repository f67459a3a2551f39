from django.urls import path

from minyi.workcal import views

app_name = "workcal"
urlpatterns = [
    path("years/", views.years, name="years"),
    path("years/new/", views.year_new, name="year_new"),
    path("years/<int:year>/", views.year_detail, name="year_detail"),
    path("calculator/", views.calculator, name="calculator"),
]
