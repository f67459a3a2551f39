"""The OpenAPI document matches the implementation: every route is in it and every path in it is
routed, with the same methods; it is a valid OpenAPI 3.1 document; real answers validate against
the schemas it gives; the docs page renders all of it with nothing from outside."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_spec

from minyi.api import openapi, urls
from minyi.api.inputs import ACTION_FIELDS, ORDER_FIELDS

pytestmark = pytest.mark.django_db


def _routes() -> dict[str, set[str]]:
    """Every path of the api urlconf as OpenAPI writes it, with the methods its view takes."""
    routes = {}
    for pattern in urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        path = path.replace("{pk}", "{id}")
        routes[path] = {m.lower() for m in pattern.callback.api_methods}
    return routes


def test_every_route_is_documented_and_every_documented_path_is_routed():
    documented = {path: set(item) for path, item in openapi.document()["paths"].items()}
    assert documented == _routes()


def test_the_api_is_mounted_where_the_document_says():
    doc = openapi.document()
    assert doc["servers"] == [{"url": "/api/v1"}]
    resolver = get_resolver()
    for path in doc["paths"]:
        concrete = "/api/v1" + path.replace("{id}", "1")
        assert resolver.resolve(concrete).namespace == "api", path


def test_it_is_a_valid_openapi_31_document():
    doc = Client().get("/api/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    validate_spec(doc)


def test_request_bodies_are_the_fields_the_views_read():
    schemas = openapi.document()["components"]["schemas"]
    assert set(schemas["OrderInput"]["properties"]) == {f.name for f in ORDER_FIELDS}
    assert schemas["OrderInput"]["required"] == ["order_type", "demand_kind", "title"]
    for action, fields in ACTION_FIELDS.items():
        name = openapi._action_schema_name(action)
        assert set(schemas[name]["properties"]) == {f.name for f in fields} | {
            "expected_version"}, action


def _validator(name: str) -> OAS31Validator:
    doc = openapi.document()
    return OAS31Validator({"$ref": f"#/components/schemas/{name}",
                           "components": doc["components"]},
                          format_checker=oas31_format_checker)


def _valid(name: str, instance) -> None:
    errors = sorted(_validator(name).iter_errors(instance), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_real_answers_validate_against_the_schemas(integration, dispatcher, handler, api_as,
                                                   order_input, bureau, make_order):
    platform, centre, station = api_as(integration), api_as(dispatcher), api_as(handler)
    created = platform.post("/orders", order_input).json()
    _valid("Order", created)
    pk = created["id"]
    centre.post(f"/orders/{pk}/dispatch", {"lead_unit": bureau.station.pk})
    station.post(f"/orders/{pk}/sign")
    station.post(f"/orders/{pk}/request-return", {"reason": "非本所"})
    centre.post(f"/orders/{pk}/decide-return", {"approve": False, "note": "仍由你所办理"})
    station.post(f"/orders/{pk}/contact", {"method": "visit"})
    station.post(f"/orders/{pk}/report", {"result": "已办"})
    centre.post(f"/orders/{pk}/review", {"passed": True})
    detail = centre.post(f"/orders/{pk}/feed-back").json()
    _valid("Order", detail)
    _valid("Order", centre.get(f"/orders/{pk}", {"include": "timeline"}).json())
    _valid("OrderList", centre.get("/orders", {"limit": 1}).json())
    make_order("closed")
    page = centre.get("/orders", {"limit": 1}).json()
    assert page["next_cursor"]
    _valid("OrderList", page)
    _valid("FeedbackList", centre.get("/feedback").json())
    _valid("FeedbackList", platform.get("/feedback").json())
    batch = platform.post("/orders", [order_input, {**order_input, "external_id": "x2"}]).json()
    _valid("BatchResult", batch)
    # Errors of every kind.
    _valid("Error", platform.post("/orders", {"title": ""}).json())
    _valid("Error", platform.post("/orders", [{"title": ""}]).json())
    _valid("Error", station.post(f"/orders/{pk}/sign", {"expected_version": 1}).json())
    _valid("Error", station.get("/orders/999999").json())
    _valid("Error", platform.post(f"/orders/{pk}/sign").json())
    _valid("Error", api_as(handler).get("/feedback").json())
    from minyi.api.tests.conftest import Caller

    _valid("Error", Caller().get("/orders").json())


def test_the_docs_page_shows_every_operation_and_schema_and_loads_nothing_from_outside():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    doc = openapi.document()
    for path, item in doc["paths"].items():
        for method in item:
            assert f'id="{item[method]["operationId"]}"' in html, (method, path)
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert html.count('data-testid="operation"') == sum(len(i) for i in doc["paths"].values())
    # No CDN, no web fonts, no script from elsewhere: police networks are offline.
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
    assert "<script" not in html
    assert "请求头 <code>Authorization: Bearer &lt;访问令牌&gt;</code>" in html
