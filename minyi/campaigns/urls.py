from django.urls import path

from minyi.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("hot/", views.hot_issues, name="hot"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/tasks/<int:task_pk>/<slug:action>/", views.task_act, name="task_act"),
]
