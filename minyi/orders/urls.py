from django.urls import path

from minyi.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("export/", views.export, name="export"),
    path("new/", views.new, name="new"),
    path("board/", views.board, name="board"),
    path("board/dispatch/", views.board_dispatch, name="bulk_dispatch"),
    path("review/", views.review_queue, name="review_queue"),
    path("returns/", views.returns, name="returns"),
    path("workbench/", views.workbench, name="workbench"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:transition>/", views.act, name="act"),
    path("<int:pk>/reveal/<slug:field>/", views.reveal, name="reveal"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
