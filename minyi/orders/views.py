"""The work-order pages: the command centre's intake, dispatch board, review queue and return
decisions; a unit's workbench; the order page with its timeline; the list and its export.

Every view gets orders through `orgs.access` (404 for missing or not yours), role pages
answer 403 to the other roles, and every change goes through one action of `orders.actions`
with the version the user saw, so a colleague's change in the meantime is reported, not
overwritten.
"""

from __future__ import annotations

import tempfile
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from minyi.core.crypto import mask_address
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.orders import actions, documents, escalation, exports, selectors
from minyi.orders.forms import (
    ACTION_FORMS,
    ActionForm,
    BulkDispatchForm,
    DocumentFilterForm,
    NoticeReplyForm,
    OrderFilterForm,
    ReceiveForm,
    action_form,
)
from minyi.orders.models import Attachment
from minyi.orders.rules import TRANSITION_LABELS, State, can_start
from minyi.orders.selectors import DocumentFilter, ListPage, OrderFilter
from minyi.orgs import access
from minyi.orgs.models import Role

REVIEW_PAGE_ROLES = (Role.DISPATCHER, Role.INSPECTOR, Role.LEGAL_REVIEWER)
# A unit's steps, in the order it takes them; the workbench offers the next one.
UNIT_STEPS = ("sign", "contact", "report")
FILTER_LABELS = {"q": "关键词", "channel": "渠道", "order_type": "类型", "state": "状态",
                 "unit": "承办单位", "area": "区域", "received_from": "接单日期从",
                 "received_to": "接单日期至", "overdue": "仅看超时"}


# --- helpers ---------------------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdecimal() and int(raw) > 0 else 1


def _links(request: HttpRequest, page: ListPage) -> dict[str, str]:
    """First and next page, keeping the filters."""
    params = {k: v for k, v in request.GET.items() if k not in {"after", "page"}}
    base = request.path + ("?" + urlencode(params) if params else "")
    joiner = "&" if params else "?"
    links = {"first_url": "" if page.is_first else base}
    if page.next_cursor:
        links["next_url"] = f"{base}{joiner}after={page.next_cursor}"
    elif page.next_page:
        links["next_url"] = f"{base}{joiner}page={page.next_page}"
    return links


def _safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return ""


def _filters(request: HttpRequest, hide: tuple[str, ...] = ()) -> tuple[OrderFilter | None,
                                                                        OrderFilterForm, str]:
    """The filters from the query string, the form that draws them, and what is wrong."""
    units, areas = selectors.filter_scope(request.user)
    form = OrderFilterForm(request.GET or None, units=units, areas=areas, hide=hide)
    try:
        return OrderFilter.from_params(request.GET), form, ""
    except InvalidInput as exc:
        return None, form, f"筛选条件有误：{exc}"


def _unit_forms(request: HttpRequest, order: Any, next_url: str) -> list[ActionForm]:
    """The unit's next step (sign, then contact, then report) and a return: one form at a
    time keeps a phone screen readable; the order page offers every step at once."""
    available = selectors.available_transitions(request.user, order)
    steps = [t for t in UNIT_STEPS if t in available][:1]
    if "request_return" in available:
        steps.append("request_return")
    return [action_form(t, order, next_url) for t in steps]


# --- the list and its export -----------------------------------------------------------------


def order_list(request: HttpRequest) -> HttpResponse:
    f, form, error = _filters(request)
    page = ListPage(rows=[])
    if f is not None:
        try:
            page = selectors.keyset_page(selectors.order_list(request.user, f),
                                         request.GET.get("after", ""))
        except InvalidInput as exc:
            error = str(exc)
    selectors.with_countdowns(page.rows)
    export_url = reverse("orders:export") + ("?" + request.GET.urlencode()
                                             if request.GET else "")
    return render(request, "orders/list.html", {
        "form": form, "page": page, "error": error, "export_url": export_url,
        "max_export_rows": exports.MAX_EXPORT_ROWS, **_links(request, page),
    }, status=400 if error else 200)


def export(request: HttpRequest) -> HttpResponse:
    """The list's rows as xlsx: what the filters select, not only the page on screen."""
    f, form, error = _filters(request)
    if f is None:
        messages.error(request, error)
        return redirect(reverse("orders:list") + "?" + request.GET.urlencode())
    qs = selectors.order_list(request.user, f)
    description = _describe(request, form) or ["全部工单"]
    # A temporary file, not memory: a hundred thousand rows make a workbook of megabytes.
    out = tempfile.TemporaryFile()
    result = exports.write_orders(qs, out, description=description,
                                  cap=exports.MAX_EXPORT_ROWS)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        out, as_attachment=True, filename=f"工单-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    # For scripts and tests; the people reading the file find the same in its 说明 sheet.
    response["X-Export-Rows"] = str(result.rows)
    response["X-Export-Truncated"] = "1" if result.truncated else "0"
    return response


def _describe(request: HttpRequest, form: OrderFilterForm) -> list[str]:
    """The filters as the list showed them (名称, not codes), for the export's 说明 sheet."""
    lines = []
    for name, label in FILTER_LABELS.items():
        value = request.GET.get(name, "").strip()
        if not value:
            continue
        choices = getattr(form.fields.get(name), "choices", None)
        if choices:
            value = str(dict((str(k), v) for k, v in choices).get(value, value)).strip("　")
        lines.append(f"{label}：{'是' if name == 'overdue' else value}")
    return lines


# --- the order page --------------------------------------------------------------------------


def _detail_context(request: HttpRequest, order: Any, bound: ActionForm | None = None,
                    conflict: str = "", revealed: dict[str, str] | None = None) -> dict:
    next_url = reverse("orders:detail", args=[order.pk])
    selectors.with_countdowns([order])
    transitions = selectors.available_transitions(request.user, order)
    forms = [bound if bound is not None and bound.transition == t
             else action_form(t, order, next_url) for t in transitions]
    if bound is not None and bound.transition not in transitions:
        forms.append(bound)  # refused by the action: the reason shows next to the form
    revealed = revealed or {}
    citizen = [
        ("name", "群众姓名", order.citizen_name_mask),
        ("phone", "联系电话", order.citizen_phone_mask),
        ("address", "群众住址", mask_address(order.citizen_address)),
    ]
    return {
        "order": order, "forms": forms, "conflict": conflict,
        "citizen": [{"field": k, "label": label, "masked": masked,
                     "value": revealed.get(k)} for k, label, masked in citizen],
        "timeline": selectors.timeline_entries(order),
        **selectors.order_details(order),
        **selectors.order_documents(request.user, order),
    }


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_for_page(request.user, pk)
    return render(request, "orders/detail.html", _detail_context(request, order))


@require_POST
def act(request: HttpRequest, pk: int, transition: str) -> HttpResponse:
    """One transition of one order, from any page that shows its form."""
    order = selectors.order_for_page(request.user, pk)
    if transition not in ACTION_FORMS:
        raise Http404("没有这项操作")
    form = action_form(transition, order, data=request.POST, files=request.FILES)
    conflict = refused = ""
    if form.is_valid():
        try:
            message = form.perform(request.user)
        except NotAllowed as exc:
            refused = str(exc)
        except Conflict as exc:
            conflict = str(exc)
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            target = (_safe_next(request, form.cleaned_data.get("next"))
                      or reverse("orders:detail", args=[order.pk]))
            if request.htmx:
                return HttpResponseClientRedirect(target)
            return redirect(target)
    elif transition not in selectors.available_transitions(request.user, order):
        # Field errors matter only to someone who may do this now.
        if can_start(transition, order.state):
            refused = f"您不能对该工单执行「{TRANSITION_LABELS[transition]}」"
        else:
            conflict = (f"工单 {order.number} 当前状态为「{order.get_state_display()}」，"
                        f"不能{TRANSITION_LABELS[transition]}。请刷新页面查看。")
    if refused and not request.htmx:
        raise PermissionDenied(refused)
    if request.htmx:
        # HTMX swaps only 2xx answers by default: a refusal comes back as the form with the
        # reason in it, in place of the form that was sent.
        if refused:
            form.add_error(None, refused)
        refresh = _safe_next(request, request.POST.get("next")) or reverse(
            "orders:detail", args=[order.pk])
        return render(request, "orders/_action.html", {
            "form": form, "order": order, "conflict": conflict, "refresh_url": refresh})
    if conflict:
        order = selectors.order_for_page(request.user, pk)
        return render(request, "orders/detail.html",
                      _detail_context(request, order, conflict=conflict), status=409)
    return render(request, "orders/detail.html", _detail_context(request, order, bound=form),
                  status=400)


@require_POST
def reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Show one piece of the citizen's data in clear; the action logs who looked."""
    order = selectors.order_for_page(request.user, pk)
    if field not in {"name", "phone", "address"}:
        raise Http404("没有该字段")
    value = actions.reveal_citizen(actor=request.user, order=order, field=field)
    if request.htmx:
        return render(request, "orders/_revealed.html", {"field": field, "value": value})
    return render(request, "orders/detail.html",
                  _detail_context(request, order, revealed={field: value}))


def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A report's attachment, for those who may see its order (404 for the others)."""
    item = Attachment.objects.select_related("report").filter(pk=pk).first()
    if item is None:
        raise Http404("没有找到该附件")
    access.get_order_for_user(request.user, item.report.order_id)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("附件文件已不存在") from None
    return FileResponse(handle, as_attachment=True, filename=item.name,
                        content_type=item.content_type or "application/octet-stream")


# --- the command centre ----------------------------------------------------------------------


def _bureau(request: HttpRequest) -> Any:
    access.require_role(request.user, Role.DISPATCHER)
    bureau = selectors.dispatcher_bureau(request.user)
    if bureau is None:
        raise PermissionDenied("您不是任何公安局指挥中心的调度员")
    return bureau


def new(request: HttpRequest) -> HttpResponse:
    """接单录入."""
    bureau = _bureau(request)
    form = ReceiveForm(request.POST or None, bureau=bureau)
    if request.method == "POST" and form.is_valid():
        try:
            order, created = form.perform(request.user)
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            if created:
                messages.success(request, f"已接单，工单编号 {order.number}")
            else:
                messages.warning(request, f"该来源编号的工单已经录入过：{order.number}，未重复接单")
            if "and_new" in request.POST and created:
                return redirect("orders:new")
            return redirect("orders:detail", pk=order.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "orders/new.html", {"form": form, "bureau": bureau}, status=status)


def board(request: HttpRequest, bulk_form: BulkDispatchForm | None = None,
          status: int = 200) -> HttpResponse:
    """派单台: orders waiting to be dispatched, one by one or many at once."""
    bureau = _bureau(request)
    f, form, error = _filters(request, hide=("state", "unit", "overdue"))
    page = ListPage(rows=[])
    if f is not None:
        try:
            page = selectors.board_orders(request.user, f, request.GET.get("after", ""))
        except InvalidInput as exc:
            error = str(exc)
    checked = set(bulk_form.data.getlist("orders")) if bulk_form is not None else set()
    return render(request, "orders/board.html", {
        "form": form, "page": page, "error": error,
        "bulk_form": bulk_form or BulkDispatchForm(bureau=bureau),
        "checked": {int(pk) for pk in checked if pk.isdecimal()},
        "returns": selectors.returns_pending(request.user, per_page=5),
        "back": request.get_full_path(),
        **_links(request, page),
    }, status=status)


@require_POST
def board_dispatch(request: HttpRequest) -> HttpResponse:
    """Bulk dispatch: each order on its own, so one taken meanwhile does not stop the rest."""
    bureau = _bureau(request)
    form = BulkDispatchForm(request.POST, bureau=bureau)
    if not form.is_valid():
        return board(request, bulk_form=form, status=400)
    ids = form.cleaned_data["orders"]
    visible = list(access.visible_orders(request.user).filter(pk__in=ids)
                   .values_list("pk", flat=True))
    if len(visible) != len(set(ids)):
        raise Http404("没有找到其中的部分工单")
    unit = form.cleaned_data["lead_unit"]
    done, problems = actions.dispatch_orders(actor=request.user, orders=sorted(visible),
                                             lead_unit=unit, note=form.cleaned_data["note"])
    if done:
        messages.success(request, f"已将 {len(done)} 件工单转办至{unit}")
    for problem in problems:
        messages.warning(request, problem)
    return redirect(_safe_next(request, request.POST.get("next")) or reverse("orders:board"))


def review_queue(request: HttpRequest) -> HttpResponse:
    """审核: reports waiting for the command centre, inspectors or the legal squad."""
    access.require_role(request.user, *REVIEW_PAGE_ROLES)
    page = selectors.review_queue(request.user, _page_number(request))
    here = request.get_full_path()
    for order in page.rows:
        order.report = order.pending_reports[0] if order.pending_reports else None
        order.form = action_form("review", order, here)
    return render(request, "orders/review_queue.html", {"page": page, **_links(request, page)})


def returns(request: HttpRequest) -> HttpResponse:
    """退单审批: units' requests to give an order back."""
    access.require_role(request.user, Role.DISPATCHER)
    page = selectors.returns_pending(request.user, _page_number(request))
    here = request.get_full_path()
    for order in page.rows:
        order.return_request = order.pending_returns[0] if order.pending_returns else None
        order.form = action_form("decide_return", order, here)
    return render(request, "orders/returns.html", {"page": page, **_links(request, page)})


# --- a unit's workbench ----------------------------------------------------------------------


def _current_send_back(order: Any) -> Any:
    """The review that sent this assignment's report back, if that is why the unit has it."""
    if order.state != State.SIGNED or not order.sent_back_reports:
        return None
    report = order.sent_back_reports[0]
    if order.dispatched_at and report.reviewed_at and report.reviewed_at < order.dispatched_at:
        return None  # from before a redo: this round starts afresh
    return report


def workbench(request: HttpRequest) -> HttpResponse:
    """我的工单: the unit's orders in hand, the nearest deadline first, with their forms."""
    access.require_role(request.user, Role.UNIT_HANDLER, Role.UNIT_HEAD)
    page = selectors.workbench_orders(request.user, _page_number(request))
    here = request.get_full_path()
    for order in page.rows:
        order.forms = _unit_forms(request, order, here)
        order.sent_back = _current_send_back(order)
    return render(request, "orders/workbench.html", {
        "page": page, "pending_notices": selectors.pending_notice_count(request.user),
        **_links(request, page)})


# --- supervision notices (督办单) and reminder letters (提醒函) --------------------------------


def _document_filters(request: HttpRequest, kind: str) -> tuple[DocumentFilter | None,
                                                                DocumentFilterForm, str]:
    units, _ = selectors.filter_scope(request.user)
    form = DocumentFilterForm(request.GET or None, kind=kind, units=units)
    try:
        return DocumentFilter.from_params(request.GET, kind=kind), form, ""
    except InvalidInput as exc:
        return None, form, f"筛选条件有误：{exc}"


def _document_list(request: HttpRequest, kind: str) -> HttpResponse:
    f, form, error = _document_filters(request, kind)
    page = ListPage(rows=[])
    if f is not None:
        qs = (selectors.visible_notices(request.user) if kind == "notice"
              else selectors.visible_letters(request.user))
        page = selectors.offset_page(selectors.document_list(request.user, qs, f),
                                     _page_number(request))
    if kind == "notice":
        selectors.with_notice_states(page.rows)
    else:
        selectors.with_letter_states(page.rows)
    template = "orders/notices.html" if kind == "notice" else "orders/letters.html"
    export = reverse("orders:notices_export" if kind == "notice" else "orders:letters_export")
    return render(request, template, {
        "form": form, "page": page, "error": error,
        "export_url": export + ("?" + request.GET.urlencode() if request.GET else ""),
        "max_export_rows": MAX_DOCUMENT_EXPORT, **_links(request, page)},
        status=400 if error else 200)


# Documents are a few per hundred orders: a year of a county's fits well under this.
MAX_DOCUMENT_EXPORT = 20_000


def _document_export(request: HttpRequest, kind: str) -> HttpResponse:
    """The list's documents as xlsx: all that the filters select, not only the page."""
    f, form, error = _document_filters(request, kind)
    list_name = "orders:notices" if kind == "notice" else "orders:letters"
    if f is None:
        messages.error(request, error)
        return redirect(reverse(list_name) + "?" + request.GET.urlencode())
    qs = (selectors.visible_notices(request.user) if kind == "notice"
          else selectors.visible_letters(request.user))
    rows = list(selectors.document_list(request.user, qs, f)[:MAX_DOCUMENT_EXPORT])
    if kind == "notice":
        selectors.with_notice_states(rows)
    else:
        selectors.with_letter_states(rows)
    description = [f"{form.fields[name].label}：{value}" for name, value in request.GET.items()
                   if name in form.fields and value.strip()]
    out = tempfile.TemporaryFile()
    exports.write_documents(rows, out, kind=kind, description=description)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    label = "督办单" if kind == "notice" else "提醒函"
    return FileResponse(
        out, as_attachment=True, filename=f"{label}-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def notice_export(request: HttpRequest) -> HttpResponse:
    return _document_export(request, "notice")


def letter_export(request: HttpRequest) -> HttpResponse:
    return _document_export(request, "letter")


def notice_list(request: HttpRequest) -> HttpResponse:
    """督办单: the notices of the units the user sees, with their state and reply deadline."""
    return _document_list(request, "notice")


def letter_list(request: HttpRequest) -> HttpResponse:
    """提醒函: the letters of the units the user sees."""
    return _document_list(request, "letter")


def _acted_first(exc: Exception, document: Any, name: str, who: Any, at: Any) -> str:
    """What the page says when someone else signed or answered meanwhile: who, and when."""
    if at is None:
        return str(exc)
    person = who.display_name if who is not None else "他人"
    return (f"{document.display_number} 已由{person}于 {timezone.localtime(at):%m月%d日 %H:%M} "
            f"{name}，无需重复操作。")


def _notice_page(request: HttpRequest, notice: Any, *, reply_form: NoticeReplyForm | None = None,
                 conflict: str = "", status: int = 200) -> HttpResponse:
    selectors.with_notice_states([notice])
    head = selectors.is_unit_head(request.user, notice.unit)
    return render(request, "orders/notice.html", {
        "notice": notice, "order": notice.order, "conflict": conflict,
        "can_sign": head and notice.signed_at is None and notice.replied_at is None,
        "can_reply": head and notice.replied_at is None,
        "reply_form": reply_form or NoticeReplyForm(),
        "facts": documents.order_facts(notice.order),
        "body": documents.body_text(notice),
        "order_visible": access.visible_orders(request.user).filter(
            pk=notice.order_id).exists(),
    }, status=status)


def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _notice_page(request, selectors.notice_for_page(request.user, pk))


def _require_head(request: HttpRequest, unit: Any, what: str) -> None:
    if not selectors.is_unit_head(request.user, unit):
        raise PermissionDenied(f"只有{unit}的单位负责人可以{what}")


@require_POST
def notice_sign(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.notice_for_page(request.user, pk)
    _require_head(request, notice.unit, "签收督办单")
    try:
        escalation.sign_notice(actor=request.user, notice=notice)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except Conflict as exc:
        notice = selectors.notice_for_page(request.user, pk)
        said = _acted_first(exc, notice, "签收", notice.signed_by, notice.signed_at)
        return _notice_page(request, notice, conflict=said, status=409)
    messages.success(request, f"已签收督办单 {notice.display_number}，请在答复期限内答复整改措施")
    return redirect("orders:notice", pk=notice.pk)


@require_POST
def notice_reply(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.notice_for_page(request.user, pk)
    _require_head(request, notice.unit, "答复督办单")
    form = NoticeReplyForm(request.POST)
    if not form.is_valid():
        return _notice_page(request, notice, reply_form=form, status=400)
    try:
        escalation.reply_notice(actor=request.user, notice=notice,
                                measures=form.cleaned_data["measures"])
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except InvalidInput as exc:
        form.add_error("measures", str(exc))
        return _notice_page(request, notice, reply_form=form, status=400)
    except Conflict as exc:
        notice = selectors.notice_for_page(request.user, pk)
        said = _acted_first(exc, notice, "答复", notice.replied_by, notice.replied_at)
        return _notice_page(request, notice, conflict=said, status=409)
    messages.success(request, f"已答复督办单 {notice.display_number}")
    return redirect("orders:notice", pk=notice.pk)


def _letter_page(request: HttpRequest, letter: Any, *, conflict: str = "",
                 status: int = 200) -> HttpResponse:
    selectors.with_letter_states([letter])
    head = selectors.is_unit_head(request.user, letter.unit)
    return render(request, "orders/letter.html", {
        "letter": letter, "order": letter.order, "conflict": conflict,
        "can_acknowledge": head and letter.acknowledged_at is None,
        "facts": documents.order_facts(letter.order),
        "body": documents.body_text(letter),
        "order_visible": access.visible_orders(request.user).filter(
            pk=letter.order_id).exists(),
    }, status=status)


def letter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _letter_page(request, selectors.letter_for_page(request.user, pk))


@require_POST
def letter_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    letter = selectors.letter_for_page(request.user, pk)
    _require_head(request, letter.unit, "签收提醒函")
    try:
        escalation.acknowledge_letter(actor=request.user, letter=letter)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except Conflict as exc:
        letter = selectors.letter_for_page(request.user, pk)
        return _letter_page(request, letter, conflict=str(exc), status=409)
    messages.success(request, f"已签收提醒函 {letter.display_number}")
    return redirect("orders:letter", pk=letter.pk)


def _docx_response(data: bytes, document: Any, kind: str) -> HttpResponse:
    from minyi.reports.docx import DOCX_CONTENT_TYPE

    response = HttpResponse(data, content_type=DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = documents.content_disposition(
        documents.filename(document), f"{kind}-{document.year}-{document.number}.docx")
    return response


def notice_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The notice as a Word document in the official layout."""
    notice = selectors.notice_for_page(request.user, pk)
    return _docx_response(documents.notice_docx(notice), notice, "notice")


def letter_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter as a Word document in the official layout."""
    letter = selectors.letter_for_page(request.user, pk)
    return _docx_response(documents.letter_docx(letter), letter, "letter")
