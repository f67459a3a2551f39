"""The API's plumbing: one decorator that authenticates, checks the method and CSRF, and turns
the project's errors into JSON answers with Chinese messages, so that views stay thin."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from minyi.api.auth import Caller, Unauthenticated, authenticate, csrf_failure
from minyi.api.inputs import BadRequest, Problem
from minyi.core.errors import Conflict, InvalidInput, NotAllowed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def answer(data: Any, status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(data, status=status, safe=False, encoder=DjangoJSONEncoder,
                            json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error(status: int, detail: str, problems: list[Problem] | None = None,
          **extra: Any) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail}
    if problems is not None:
        body["errors"] = [p.as_dict() for p in problems]
    body.update(extra)
    return answer(body, status)


def json_body(request: HttpRequest) -> Any:
    """The request's JSON; an empty body reads as {} (most actions need no fields)."""
    if not request.body:
        return {}
    content_type = request.content_type or ""
    if content_type not in ("application/json", ""):
        raise BadRequest([Problem("", f"请求体应为 application/json，而不是 {content_type}")])
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest([Problem("", f"请求体不是有效的 JSON：{exc}")]) from None


ApiView = Callable[..., HttpResponse]


def endpoint(*methods: str, public: bool = False) -> Callable[[ApiView], ApiView]:
    """Wrap an API view `view(request, caller, **kwargs)`.

    Token requests skip CSRF (see `auth`); session requests that write must carry the CSRF
    token. The project's LoginRequiredMiddleware would redirect to the login page, which an API
    client cannot follow, so API views opt out of it and answer 401 themselves.
    """
    allowed = frozenset(methods) | ({"HEAD"} if "GET" in methods else set())

    def wrap(view: ApiView) -> ApiView:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = error(405, f"此地址不支持 {request.method} 请求")
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                if public:
                    return view(request, *args, **kwargs)
                caller: Caller = authenticate(request)
                if caller.via == "session" and request.method not in SAFE_METHODS:
                    reason = csrf_failure(request)
                    if reason:
                        return error(403, f"CSRF 校验失败（{reason}）：网页调用请带上 CSRF 令牌，"
                                          "其他程序请使用访问令牌")
                return view(request, caller, *args, **kwargs)
            except Unauthenticated as exc:
                response = error(401, str(exc))
                response["WWW-Authenticate"] = 'Bearer realm="minyi"'
                return response
            except BadRequest as exc:
                return error(400, exc.detail, exc.problems)
            except InvalidInput as exc:
                return error(400, str(exc), [Problem("", str(exc))])
            except (NotAllowed, PermissionDenied) as exc:
                return error(403, str(exc) or "您没有此项权限")
            except Http404 as exc:
                return error(404, str(exc) or "没有找到")
            except Conflict as exc:
                return error(409, str(exc))

        inner.api_methods = frozenset(methods)  # type: ignore[attr-defined]
        return csrf_exempt(login_not_required(inner))

    return wrap
