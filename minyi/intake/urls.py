from django.urls import path  # noqa: F401 - the helpers add the imports and feedback pages

app_name = "intake"
urlpatterns: list = []
