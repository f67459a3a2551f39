from django.urls import path

from minyi.callbacks.views import desk, plans
from minyi.callbacks.views import figures as figure_views
from minyi.callbacks.views import imports as import_views
from minyi.callbacks.views import links as link_views
from minyi.callbacks.views import rectification as rect_views
from minyi.callbacks.views import spotchecks as spot_views

app_name = "callbacks"
urlpatterns = [
    # the callback desk
    path("desk/", desk.desk, name="desk"),
    path("desk/next/", desk.desk_next, name="desk_next"),
    path("tasks/<int:pk>/", desk.task_detail, name="task"),
    path("tasks/<int:pk>/reveal/", desk.task_reveal, name="task_reveal"),
    path("tasks/<int:pk>/attempt/", desk.task_attempt, name="task_attempt"),
    path("tasks/<int:pk>/answer/", desk.task_answer, name="task_answer"),
    path("tasks/<int:pk>/release/", desk.task_release, name="task_release"),
    # sampling plans and draws
    path("plans/", plans.plans, name="plans"),
    path("plans/new/", plans.plan_new, name="plan_new"),
    path("plans/<int:pk>/", plans.plan_edit, name="plan_edit"),
    path("plans/draw/", plans.plans_draw, name="plans_draw"),
    # rectification, spot checks, rating links
    path("rectifications/", rect_views.rectification_list, name="rectifications"),
    path("rectifications/<int:pk>/", rect_views.rectification_detail, name="rectification"),
    path("rectifications/<int:pk>/report/", rect_views.rectification_report,
         name="rectification_report"),
    path("rectifications/<int:pk>/decide/", rect_views.rectification_decide,
         name="rectification_decide"),
    path("spotchecks/", spot_views.spot_check_page, name="spotchecks"),
    path("spotchecks/draw/", spot_views.spot_check_draw, name="spot_check_draw"),
    path("tasks/<int:pk>/send-link/", link_views.send_link, name="send_link"),
    # importing 110 calls, cases and window services as contacts
    path("imports/", import_views.imports, name="imports"),
    path("imports/template/<str:preset>.xlsx", import_views.import_template,
         name="import_template"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.xlsx", import_views.import_errors, name="import_errors"),
    # figures
    path("figures/", figure_views.figures_page, name="figures"),
    path("figures/export.xlsx", figure_views.figures_export, name="figures_export"),
]
