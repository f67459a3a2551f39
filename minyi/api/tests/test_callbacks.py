"""/api/v1/callbacks/…: tasks, answers and figures, scoped like the figures page, with cursor
pages, masked phones, 404 outside the scope and 400 with the problems in Chinese."""

from __future__ import annotations

import pytest

from minyi.api.tests.test_openapi import _valid
from minyi.callbacks.figures import figures
from minyi.callbacks.models import Answer, CallbackTask, Contact
from minyi.callbacks.tests.test_figures import NOV, NOV_PARAMS, at, book  # noqa: F401

pytestmark = pytest.mark.django_db


def _all(caller, path: str, params: dict | None = None) -> list[dict]:
    """Every row, page by page (small pages, so the cursor is exercised)."""
    rows, params = [], {"limit": 4, **(params or {})}
    while True:
        response = caller.get(path, params)
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        if not body["next_cursor"]:
            return rows
        params = {**params, "cursor": body["next_cursor"]}


def test_tasks_page_by_page_newest_due_first(book, api_as, leader):  # noqa: F811
    api = api_as(leader)
    first = api.get("/callbacks/tasks", {"limit": 4}).json()
    _valid("CallbackTaskList", first)
    assert len(first["results"]) == 4 and first["next_cursor"]
    rows = _all(api, "/callbacks/tasks")
    assert len(rows) == CallbackTask.objects.count() == 24
    assert len({r["id"] for r in rows}) == 24  # none twice across pages
    dues = [r["due_at"] for r in rows]
    assert dues == sorted(dues, reverse=True)
    # Only masked numbers leave.
    for row in rows:
        assert "****" in row["contact"]["phone"]
    text = str(rows)
    assert "13800000001" not in text


def test_task_filters(book, api_as, leader, bureau):  # noqa: F811
    api = api_as(leader)
    closed = _all(api, "/callbacks/tasks", {"state": "closed"})
    assert len(closed) == CallbackTask.objects.filter(state="closed").count()
    assert {r["state"] for r in closed} == {"closed"}
    spot = _all(api, "/callbacks/tasks", {"kind": "spot_check"})
    assert [r["parent_id"] for r in spot] == [book.first.pk]
    november = _all(api, "/callbacks/tasks", {"due_from": "2026-11-01", "due_to": "2026-11-30",
                                              "kind": "callback"})
    assert len(november) == figures(user=leader, **NOV).total.counts["drawn"] == 21
    other = _all(api, "/callbacks/tasks", {"unit": bureau.other_station.pk})
    assert {r["unit"]["id"] for r in other} == {bureau.other_station.pk} and len(other) == 3


def test_task_detail_has_calls_and_answer(book, api_as, leader):  # noqa: F811
    task = CallbackTask.objects.filter(attempts=2, state="completed").first()
    body = api_as(leader).get(f"/callbacks/tasks/{task.pk}").json()
    _valid("CallbackTaskDetail", body)
    assert [(c["number"], c["disposition"], c["outcome"]) for c in body["calls"]] == [
        (1, "no_answer", "UH"), (2, "answered", "I")]
    assert body["calls"][0]["disposition_label"] == "无人接听"
    assert body["answer"]["satisfaction"] == "basically_satisfied"
    assert body["answer"]["satisfaction_label"] == "基本满意"
    assert body["outcome"] == "I" and body["satisfaction"] == "basically_satisfied"
    assert body["contact"]["phone"] == task.contact.phone_mask != task.contact.phone
    unanswered = CallbackTask.objects.filter(outcome="R").first()
    assert api_as(leader).get(f"/callbacks/tasks/{unanswered.pk}").json()["answer"] is None


def test_answers_and_their_filters(book, api_as, leader, bureau):  # noqa: F811
    api = api_as(leader)
    first = api.get("/callbacks/answers", {"limit": 2}).json()
    _valid("CallbackAnswerList", first)
    rows = _all(api, "/callbacks/answers")
    assert len(rows) == Answer.objects.count()
    assert {r["id"] for r in rows} == set(Answer.objects.values_list("pk", flat=True))
    unhappy = _all(api, "/callbacks/answers", {"satisfaction": "dissatisfied"})
    assert len(unhappy) == Answer.objects.filter(satisfaction="dissatisfied").count() == 4
    assert all(r["reasons"] == ["result"] and r["reason_labels"] == ["结果"] for r in unhappy)
    links = _all(api, "/callbacks/answers", {"via": "link"})
    assert len(links) == 1
    spot = _all(api, "/callbacks/answers", {"kind": "spot_check"})
    assert [r["task"]["id"] for r in spot] == list(
        CallbackTask.objects.filter(kind="spot_check").values_list("pk", flat=True))
    dated = _all(api, "/callbacks/answers", {"answered_from": "2026-12-01",
                                             "answered_to": "2026-12-31"})
    assert len(dated) == 1  # the task due on 1 December
    station = _all(api, "/callbacks/answers", {"unit": bureau.other_station.pk})
    assert len(station) == 2


def test_figures_are_the_pages_figures_with_their_definitions(book, api_as, leader):  # noqa: F811
    response = api_as(leader).get("/callbacks/figures", {
        **NOV_PARAMS, "definition": "callbacks.satisfaction/0.9", "by": "source"})
    assert response.status_code == 200
    body = response.json()
    _valid("CallbackFigures", body)
    expected = figures(user=leader, by="source", definition="callbacks.satisfaction/0.9",
                       **NOV).as_dict()
    for key in ("rows", "total", "definitions", "period", "by", "kind"):
        assert body[key] == expected[key], key
    assert body["definitions"]["satisfaction"]["id"] == "callbacks.satisfaction/0.9"
    assert body["definitions"]["satisfaction"]["version"] == "0.9"
    assert body["definitions"]["aapor"]["e"]["method"] == "proportional allocation (CASRO)"


def test_the_figures_reconcile_with_the_answers_the_api_lists(book, api_as, handler):  # noqa: F811
    """What a station's officer counts in its figures is what it can list, answer by answer."""
    api = api_as(handler)
    body = api.get("/callbacks/figures", NOV_PARAMS).json()
    tasks = _all(api, "/callbacks/tasks", {"due_from": "2026-11-01", "due_to": "2026-11-30",
                                           "kind": "callback"})
    assert body["total"]["counts"]["drawn"] == len(tasks) == 18
    answered = [t for t in tasks if t["satisfaction"]]
    assert body["total"]["counts"]["reached"] == len(answered) == 6
    for value in ("satisfied", "basically_satisfied", "dissatisfied"):
        assert body["total"]["counts"][value] == sum(t["satisfaction"] == value
                                                     for t in answered)
    final = [t for t in tasks if t["state"] in ("completed", "closed")]
    assert sum(body["total"]["outcomes"].values()) == len(final)


def test_a_unit_sees_its_own_and_an_outsider_gets_404(book, api_as, handler, outsider,  # noqa: F811
                                                      bureau):
    mine = _all(api_as(handler), "/callbacks/tasks")
    assert {r["unit"]["id"] for r in mine} == {bureau.station.pk}
    station_task = CallbackTask.objects.filter(unit=bureau.station).first()
    api = api_as(outsider)
    response = api.get(f"/callbacks/tasks/{station_task.pk}")
    assert response.status_code == 404
    assert response.json()["detail"] == "没有找到该回访任务"
    assert api.get("/callbacks/tasks/999999").status_code == 404
    assert api.get("/callbacks/tasks", {"unit": bureau.station.pk}).status_code == 404
    assert api.get("/callbacks/answers", {"unit": bureau.station.pk}).status_code == 404
    assert api.get("/callbacks/figures", {"unit": bureau.station.pk}).status_code == 404
    theirs = _all(api, "/callbacks/answers")
    assert {r["unit"]["id"] for r in theirs} == {bureau.other_station.pk}
    figures_body = api.get("/callbacks/figures", NOV_PARAMS).json()
    assert [r["key"] for r in figures_body["rows"]] == [str(bureau.other_station.pk)]


def test_bad_parameters_are_400_with_every_problem_in_chinese(api_as, leader):
    api = api_as(leader)
    response = api.get("/callbacks/tasks", {"state": "done", "due_from": "2026-11-31",
                                            "unit": "东城"})
    assert response.status_code == 400
    body = response.json()
    _valid("Error", body)
    assert [e["field"] for e in body["errors"]] == ["state", "due_from", "unit"]
    assert body["errors"][0]["message"].startswith("状态只能是 pending（待回访）")
    assert "2026-11-01 这样的日期" in body["errors"][1]["message"]
    unknown = api.get("/callbacks/answers", {"colour": "red"}).json()
    assert unknown["errors"][0]["message"] == "未知的查询参数 'colour'"
    order = api.get("/callbacks/answers", {"answered_from": "2026-11-30",
                                           "answered_to": "2026-11-01"}).json()
    assert order["errors"][0]["message"] == "回答日期止不能早于起始日期"
    figures_bad = api.get("/callbacks/figures", {"by": "week", "definition": "x", "e": "3"})
    assert figures_bad.status_code == 400
    assert [e["field"] for e in figures_bad.json()["errors"]] == ["by", "definition", "e"]
    assert api.get("/callbacks/tasks", {"cursor": "forged"}).status_code == 400
    assert api.get("/callbacks/tasks", {"limit": "0"}).status_code == 400


def test_without_a_token_401(book):  # noqa: F811
    from minyi.api.tests.conftest import Caller

    for path in ("/callbacks/tasks", f"/callbacks/tasks/{book.first.pk}",
                 "/callbacks/answers", "/callbacks/figures"):
        assert Caller().get(path).status_code == 401, path


def test_an_integrating_system_sees_the_callbacks_of_its_own_orders(
        book, api_as, integration, order_input, bureau):  # noqa: F811
    platform = api_as(integration)
    order_id = platform.post("/orders", order_input).json()["id"]
    contact = Contact(bureau=bureau.bureau, unit=bureau.station, source="order",
                      order_id=order_id, occurred_at=at(2))
    contact.set_person(phone="13912345678")
    contact.save()
    own = CallbackTask.objects.create(bureau=bureau.bureau, unit=bureau.station,
                                      caller="unit", contact=contact, due_at=at(20))
    rows = _all(platform, "/callbacks/tasks")
    assert [r["id"] for r in rows] == [own.pk]
    assert rows[0]["contact"]["order_id"] == order_id
    assert platform.get(f"/callbacks/tasks/{book.first.pk}").status_code == 404
    assert _all(platform, "/callbacks/answers") == []
    body = platform.get("/callbacks/figures", NOV_PARAMS).json()
    assert body["total"]["counts"]["drawn"] == 1 and body["total"]["counts"]["open"] == 1
