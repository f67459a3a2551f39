"""/api/v1/. No trailing slashes: integrators write the paths as the OpenAPI document has them.
Each action has its own path (rather than one `<action>` pattern) so that the document and the
test that compares it with this list see every endpoint."""

from django.urls import path

from minyi.api import callbacks, views
from minyi.api.serializers import API_ACTIONS

app_name = "api"
urlpatterns = [
    path("orders", views.orders, name="orders"),
    path("orders/<int:pk>", views.order, name="order"),
    *[
        path(f"orders/<int:pk>/{action}", views.order_action, {"action": action},
             name=f"order-{action}")
        for action in API_ACTIONS
    ],
    path("feedback", views.feedback, name="feedback"),
    path("callbacks/tasks", callbacks.tasks, name="callback-tasks"),
    path("callbacks/tasks/<int:pk>", callbacks.task, name="callback-task"),
    path("callbacks/answers", callbacks.answers, name="callback-answers"),
    path("callbacks/figures", callbacks.figures, name="callback-figures"),
    path("openapi.json", views.openapi_document, name="openapi"),
    path("docs", views.docs, name="docs"),
]
