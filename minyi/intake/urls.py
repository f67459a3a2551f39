from django.urls import path

from minyi.intake.views import feedback, imports

app_name = "intake"
urlpatterns: list = [
    path("feedback/", feedback.undelivered, name="feedback"),
    path("feedback/<int:pk>/retry/", feedback.retry, name="feedback_retry"),
    path("imports/", imports.imports, name="imports"),
    path("imports/template.xlsx", imports.import_template, name="import_template"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/mapping/", imports.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.xlsx", imports.import_errors, name="import_errors"),
]
