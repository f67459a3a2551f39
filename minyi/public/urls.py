from django.urls import path

from minyi.public import views

app_name = "public"
urlpatterns = [
    path("r/<str:token>/", views.rate, name="rate"),
    path("s/<str:token>/", views.survey, name="survey"),
]
