from django.urls import path

from minyi.assessment import views

app_name = "assessment"
urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin"),
    path("bulletins/<int:pk>/regenerate/", views.bulletin_regenerate,
         name="bulletin_regenerate"),
    path("bulletins/<int:pk>/download.<slug:fmt>", views.bulletin_download,
         name="bulletin_download"),
]
