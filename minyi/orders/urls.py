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
    path("notices/", views.notice_list, name="notices"),
    path("notices/export/", views.notice_export, name="notices_export"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/docx/", views.notice_docx, name="notice_docx"),
    path("notices/<int:pk>/sign/", views.notice_sign, name="notice_sign"),
    path("notices/<int:pk>/reply/", views.notice_reply, name="notice_reply"),
    path("letters/", views.letter_list, name="letters"),
    path("letters/export/", views.letter_export, name="letters_export"),
    path("letters/<int:pk>/", views.letter_detail, name="letter"),
    path("letters/<int:pk>/docx/", views.letter_docx, name="letter_docx"),
    path("letters/<int:pk>/acknowledge/", views.letter_acknowledge, name="letter_acknowledge"),
]
