"""The pages and Word files of supervision notices (督办单) and reminder letters (提醒函): who
sees them, the filters, the unit head's sign / reply / acknowledge with their events and
conflicts, the docx download, and the lists' cost."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import docx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.core.audit import action_label
from minyi.core.errors import Conflict, NotAllowed
from minyi.core.models import Event
from minyi.orders import actions, escalation, selectors
from minyi.orders.models import ReminderLetter, SupervisionNotice
from minyi.orgs.models import Role

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MEASURES = "已约谈施工方，责令夜间停工，社区民警每晚巡查并回访群众"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def head(bureau):
    return bureau.member(Role.UNIT_HEAD, bureau.station, full_name="钱所长")


@pytest.fixture
def notice(make_order) -> SupervisionNotice:
    order = make_order("signed", title="楼上装修噪音扰民")
    return escalation.issue_notice(actor=None, order=order, reason="overdue")


@pytest.fixture
def letter(make_order) -> ReminderLetter:
    order = make_order("signed", title="小区门口违停")
    return escalation.issue_letter(actor=None, order=order, reason="dissatisfied")


@pytest.fixture
def other_notice(make_order, bureau, dispatcher) -> SupervisionNotice:
    """A notice to the other station (西城派出所)."""
    order = make_order("received", title="西城菜市场占道经营", area=bureau.other_township)
    actions.dispatch_order(actor=dispatcher, order=order, lead_unit=bureau.other_station)
    order.refresh_from_db()
    return escalation.issue_notice(actor=None, order=order, reason="unresolved")


def url(name: str, obj=None) -> str:
    return reverse(f"orders:{name}", args=[obj.pk] if obj is not None else [])


def numbers(response, kind: str = "notice") -> list[str]:
    """The document numbers a list page shows, in order."""
    rows = response.context["page"].rows
    assert all(f"{kind}-row" for _ in rows)
    return [row.display_number for row in rows]


# --- the state a notice shows (pure) ---------------------------------------------------------


def test_notice_status_most_pressing_first():
    due, now = at(2026, 11, 5, 9, 0), at(2026, 11, 4, 9, 0)
    late = at(2026, 11, 6, 9, 0)

    def status(signed=None, replied=None, escalated=None, when=now):
        return selectors.notice_status(signed_at=signed, replied_at=replied,
                                       escalated_at=escalated, reply_due_at=due, now=when)

    assert status() == "unsigned"
    assert status(signed=now) == "unanswered"
    assert status(signed=now, when=late) == "overdue"
    assert status(when=late) == "overdue"
    assert status(escalated=late, when=late) == "escalated"
    assert status(signed=now, replied=late, escalated=late, when=late) == "replied"
    assert status(when=due) == "unsigned"  # due at this very minute: not yet late


# --- who sees what ---------------------------------------------------------------------------


def test_unit_head_sees_own_notices_only(client, head, notice, other_notice):
    client.force_login(head)
    response = client.get(url("notices"))
    assert response.status_code == 200
    assert numbers(response) == [notice.display_number]
    assert notice.display_number in body(response)
    assert other_notice.display_number not in body(response)
    # Each row links to the document and to the order.
    assert url("notice", notice) in body(response)
    assert reverse("orders:detail", args=[notice.order_id]) in body(response)
    assert client.get(url("notice", other_notice)).status_code == 404
    assert client.get(url("notice_docx", other_notice)).status_code == 404


def test_dispatcher_sees_the_whole_bureau(client, dispatcher, notice, other_notice, letter):
    client.force_login(dispatcher)
    response = client.get(url("notices"))
    assert numbers(response) == [other_notice.display_number, notice.display_number]
    assert client.get(url("notice", other_notice)).status_code == 200
    assert numbers(client.get(url("letters")), "letter") == [letter.display_number]
    page = client.get(url("letter", letter))
    assert page.status_code == 200
    # Not the unit head: no forms.
    assert 'data-testid="acknowledge-form"' not in body(page)
    assert 'data-testid="sign-form"' not in body(client.get(url("notice", notice)))


def test_outsider_gets_404_for_everything_of_another_unit(client, outsider, notice, letter,
                                                         other_notice):
    client.force_login(outsider)
    for name, obj in (("notice", notice), ("notice_docx", notice), ("letter", letter),
                      ("letter_docx", letter)):
        assert client.get(url(name, obj)).status_code == 404, name
    for name, obj in (("notice_sign", notice), ("notice_reply", notice),
                      ("letter_acknowledge", letter)):
        assert client.post(url(name, obj), {"measures": MEASURES}).status_code == 404, name
    assert client.get(reverse("orders:notice", args=[999999])).status_code == 404
    # Their own unit's notice is there; the others' are not listed.
    assert numbers(client.get(url("notices"))) == [other_notice.display_number]
    assert numbers(client.get(url("letters")), "letter") == []
    notice.refresh_from_db()
    letter.refresh_from_db()
    assert notice.signed_at is None and notice.replied_at is None
    assert letter.acknowledged_at is None


def test_outsider_cannot_filter_by_a_unit_it_does_not_see(client, outsider, bureau, notice):
    client.force_login(outsider)
    assert client.get(url("notices"), {"unit": bureau.station.pk}).status_code == 404


def test_inspector_finds_the_notices_escalated_to_them(client, inspector, notice, other_notice):
    escalation.escalate_unanswered(now=notice.reply_due_at + timedelta(minutes=1))
    other_notice.refresh_from_db()
    escalation.reply_notice(actor=_superuser(), notice=other_notice, measures=MEASURES)
    client.force_login(inspector)
    response = client.get(url("notices"), {"status": "escalated"})
    assert numbers(response) == [notice.display_number]
    assert "已移交督察" in body(response)
    # Answered after the escalation: shown as answered, not among the ones still waiting.
    assert numbers(client.get(url("notices"), {"status": "replied"})) == [
        other_notice.display_number]


def _superuser():
    from minyi.orgs.tests.factories import UserFactory

    return UserFactory(is_superuser=True, full_name="系统管理员")


# --- filters ---------------------------------------------------------------------------------


def test_notice_filters(client, dispatcher, bureau, notice, other_notice, head):
    client.force_login(dispatcher)

    def shown(**params) -> list[str]:
        response = client.get(url("notices"), params)
        assert response.status_code == 200, body(response)[:300]
        return numbers(response)

    both = [other_notice.display_number, notice.display_number]
    assert shown() == both
    assert shown(unit=bureau.station.pk) == [notice.display_number]
    assert shown(unit=bureau.bureau.pk) == both  # a unit and the units below it
    assert shown(reason="unresolved") == [other_notice.display_number]
    assert shown(status="unsigned") == both
    escalation.sign_notice(actor=head, notice=notice)
    assert shown(status="unsigned") == [other_notice.display_number]
    assert shown(status="unanswered") == [notice.display_number]
    assert shown(status="pending") == both
    assert shown(status="replied") == []
    today = timezone.localdate()
    assert shown(issued_from=today.isoformat(), issued_to=today.isoformat()) == both
    assert shown(issued_to=(today - timedelta(days=1)).isoformat()) == []
    assert shown(issued_from=(today + timedelta(days=1)).isoformat()) == []
    assert shown(order=notice.order.number) == [notice.display_number]
    assert shown(order=str(other_notice.order_id)) == [other_notice.display_number]
    assert shown(order=other_notice.display_number) == [other_notice.display_number]
    assert shown(order="不存在") == []


def test_overdue_filter_uses_the_reply_deadline(client, dispatcher, notice):
    SupervisionNotice.objects.filter(pk=notice.pk).update(
        reply_due_at=timezone.now() - timedelta(minutes=5))
    client.force_login(dispatcher)
    response = client.get(url("notices"), {"status": "overdue"})
    assert numbers(response) == [notice.display_number]
    assert "逾期未答复" in body(response)
    assert numbers(client.get(url("notices"), {"status": "unsigned"})) == []


def test_bad_filters_are_explained(client, dispatcher, notice):
    client.force_login(dispatcher)
    response = client.get(url("notices"), {"issued_from": "2026-13-01", "status": "nope"})
    assert response.status_code == 400
    text = body(response)
    assert "筛选条件有误" in text and "2026-13-01" in text and "nope" in text
    response = client.get(url("letters"), {"issued_from": "2026-11-20",
                                           "issued_to": "2026-11-01"})
    assert response.status_code == 400
    assert "起始日期晚于截止日期" in body(response)


def test_letter_filters(client, dispatcher, head, letter, make_order):
    leader_order = make_order("signed", title="领导批示的事项")
    assigned = escalation.issue_letter(actor=None, order=leader_order,
                                       reason="leader_assigned")
    client.force_login(dispatcher)

    def shown(**params) -> list[str]:
        return numbers(client.get(url("letters"), params), "letter")

    assert shown() == [assigned.display_number, letter.display_number]
    assert shown(reason="dissatisfied") == [letter.display_number]
    escalation.acknowledge_letter(actor=head, letter=letter)
    assert shown(status="acknowledged") == [letter.display_number]
    assert shown(status="unsigned") == [assigned.display_number]


# --- the document pages ----------------------------------------------------------------------


def test_notice_page_reads_like_the_paper(client, head, notice):
    client.force_login(head)
    response = client.get(url("notice", notice))
    assert response.status_code == 200
    text = body(response)
    for expected in ("测试县公安局", notice.display_number, "督办单", "东城派出所：",
                     "已超期未办结", notice.order.number, "答复期限", "剩余",
                     url("notice_docx", notice), "window.print()", "未签收"):
        assert expected in text, expected
    # The unit head gets both forms.
    assert 'data-testid="sign-form"' in text and 'data-testid="reply-form"' in text


def test_order_page_lists_its_notices_and_letters(client, dispatcher, notice, make_order):
    letter = escalation.issue_letter(actor=None, order=notice.order, reason="repeat")
    client.force_login(dispatcher)
    text = body(client.get(reverse("orders:detail", args=[notice.order_id])))
    assert 'data-testid="documents"' in text
    assert url("notice", notice) in text and notice.display_number in text
    assert url("letter", letter) in text and letter.display_number in text
    assert "超期未办结" in text and "重复投诉" in text
    # An order without documents shows no such section.
    plain = make_order("signed")
    assert 'data-testid="documents"' not in body(
        client.get(reverse("orders:detail", args=[plain.pk])))


def test_workbench_shows_the_unanswered_notices(client, head, notice):
    client.force_login(head)
    text = body(client.get(reverse("orders:workbench")))
    assert 'data-testid="pending-notices"' in text and "<strong>1</strong>" in text
    escalation.reply_notice(actor=head, notice=notice, measures=MEASURES)
    assert 'data-testid="pending-notices"' not in body(client.get(reverse("orders:workbench")))


# --- sign, reply, acknowledge ----------------------------------------------------------------


def test_head_signs_a_notice_once(client, head, notice):
    client.force_login(head)
    response = client.post(url("notice_sign", notice))
    assert response.status_code == 302 and response["Location"] == url("notice", notice)
    notice.refresh_from_db()
    assert notice.signed_by == head and notice.signed_at is not None
    events = Event.objects.filter(action="notice.sign", object_id=str(notice.pk))
    assert [(e.actor_id, e.object_type) for e in events] == [
        (head.pk, "orders.supervisionnotice")]
    page = client.get(url("notice", notice))
    assert "已签收督办单" in body(page)
    assert 'data-testid="sign-form"' not in body(page)

    # A second press (another tab, a colleague's head account) is told who signed and when.
    again = client.post(url("notice_sign", notice))
    assert again.status_code == 409
    text = body(again)
    assert 'data-testid="conflict"' in text and "已由钱所长于" in text
    assert f"{timezone.localtime(notice.signed_at):%m月%d日 %H:%M}" in text
    assert events.count() == 1


def test_a_handler_of_the_unit_may_not_sign_or_reply(client, handler, notice, letter):
    client.force_login(handler)
    page = client.get(url("notice", notice))
    assert page.status_code == 200  # may read it …
    assert 'data-testid="doc-actions"' not in body(page)  # … but not act on it
    assert client.post(url("notice_sign", notice)).status_code == 403
    assert client.post(url("notice_reply", notice), {"measures": MEASURES}).status_code == 403
    assert client.post(url("letter_acknowledge", letter)).status_code == 403
    assert not Event.objects.filter(action__in=["notice.sign", "notice.reply",
                                                "letter.acknowledge"]).exists()


def test_head_replies_with_measures(client, head, notice):
    client.force_login(head)
    short = client.post(url("notice_reply", notice), {"measures": "已处理"})
    assert short.status_code == 400
    assert "不少于 10 个字" in body(short)
    assert 'class="form-row has-error"' in body(short)
    assert not Event.objects.filter(action="notice.reply").exists()

    response = client.post(url("notice_reply", notice), {"measures": MEASURES})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.reply == MEASURES and notice.replied_by == head
    assert notice.signed_by == head  # answering signs for it too
    event = Event.objects.get(action="notice.reply", object_id=str(notice.pk))
    assert event.actor_id == head.pk
    assert event.payload == {"measures": MEASURES, "on_time": True}
    page = body(client.get(url("notice", notice)))
    assert MEASURES in page and "已答复" in page and 'data-testid="reply-form"' not in page

    again = client.post(url("notice_reply", notice), {"measures": MEASURES + "（补充）"})
    assert again.status_code == 409
    assert "已由钱所长于" in body(again) and "答复" in body(again)
    notice.refresh_from_db()
    assert notice.reply == MEASURES
    assert Event.objects.filter(action="notice.reply").count() == 1


def test_acknowledge_letter_action(head, handler, letter):
    with pytest.raises(NotAllowed, match="单位负责人"):
        escalation.acknowledge_letter(actor=handler, letter=letter)
    done = escalation.acknowledge_letter(actor=head, letter=letter)
    assert done.acknowledged_by == head and done.acknowledged_at is not None
    event = Event.objects.get(action="letter.acknowledge")
    assert event.object_id == str(letter.pk) and event.actor_id == head.pk
    assert event.payload == {"number": letter.display_number, "order": letter.order_id}
    with pytest.raises(Conflict) as caught:
        escalation.acknowledge_letter(actor=head, letter=letter)
    assert "钱所长" in str(caught.value)
    assert f"{timezone.localtime(done.acknowledged_at):%m月%d日 %H:%M}" in str(caught.value)
    assert Event.objects.filter(action="letter.acknowledge").count() == 1


def test_head_acknowledges_a_letter_on_its_page(client, head, letter):
    client.force_login(head)
    page = body(client.get(url("letter", letter)))
    for expected in ("测试县公安局", letter.display_number, "提醒函", "回访群众表示不满意",
                     'data-testid="acknowledge-form"', url("letter_docx", letter)):
        assert expected in page, expected
    response = client.post(url("letter_acknowledge", letter))
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.acknowledged_by == head
    assert Event.objects.filter(action="letter.acknowledge").count() == 1
    page = body(client.get(url("letter", letter)))
    assert "已签收提醒函" in page and "已由钱所长于" in page
    again = client.post(url("letter_acknowledge", letter))
    assert again.status_code == 409 and "钱所长" in body(again)


def test_event_labels_are_registered():
    assert action_label("letter.acknowledge") == "签收提醒函"
    assert action_label("notice.sign") == "签收督办单"
    assert action_label("notice.reply") == "答复督办单"
    assert action_label("notice.issue") == "下发督办单"
    assert action_label("letter.issue") == "下发提醒函"
    assert "移交督察" in action_label("notice.escalate")


# --- Word ------------------------------------------------------------------------------------


def open_docx(response) -> str:
    document = docx.Document(io.BytesIO(response.content))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(texts)


def test_notice_docx_download(client, head, notice):
    client.force_login(head)
    response = client.get(url("notice_docx", notice))
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(notice.display_number + '.docx')}" in disposition
    assert f'filename="notice-{notice.year}-{notice.number}.docx"' in disposition
    text = open_docx(response)
    for expected in ("测试县公安局", notice.display_number, "督办单", "东城派出所：",
                     "已超期未办结", notice.order.number, "楼上装修噪音扰民", "（未签收）"):
        assert expected in text, expected
    assert "东城派出所：工单" not in text  # the addressee is not repeated in the text

    escalation.reply_notice(actor=head, notice=notice, measures=MEASURES)
    text = open_docx(client.get(url("notice_docx", notice)))
    assert MEASURES in text and "钱所长" in text and "（未签收）" not in text


def test_letter_docx_download(client, dispatcher, letter):
    client.force_login(dispatcher)
    response = client.get(url("letter_docx", letter))
    assert response.status_code == 200
    assert quote(f"{letter.display_number}.docx") in response["Content-Disposition"]
    text = open_docx(response)
    for expected in ("测试县公安局", letter.display_number, "提醒函", "回访群众表示不满意",
                     "小区门口违停", "请单位负责人签收"):
        assert expected in text, expected


# --- cost ------------------------------------------------------------------------------------


def queries(client, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("user_fixture", ["head", "dispatcher"])
def test_list_pages_cost_the_same_for_few_and_many(request, client, make_order, user_fixture):
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)

    def grow(n: int) -> None:
        for _ in range(n):
            order = make_order("signed")
            escalation.issue_notice(actor=None, order=order, reason="overdue")
            escalation.issue_letter(actor=None, order=order, reason="dissatisfied")

    grow(2)
    for name in ("notices", "letters"):
        queries(client, url(name))  # the session's first request loads more than the rest
    few = {name: queries(client, url(name)) for name in ("notices", "letters")}
    grow(12)
    many = {name: queries(client, url(name)) for name in ("notices", "letters")}
    assert few == many
    assert max(many.values()) <= 10, many
    filtered = queries(client, url("notices"), status="pending", reason="overdue",
                       issued_from="2026-01-01")
    assert filtered <= 10


def test_admin_lists_documents_read_only(admin_client, notice, letter):
    response = admin_client.get(reverse("admin:orders_supervisionnotice_changelist"))
    assert response.status_code == 200 and notice.display_number in body(response)
    response = admin_client.get(reverse("admin:orders_reminderletter_changelist"))
    assert response.status_code == 200 and letter.display_number in body(response)
    assert admin_client.get(reverse("admin:orders_supervisionnotice_add")).status_code == 403


def test_lists_export_what_the_filters_select(client, dispatcher, head, notice, other_notice,
                                              letter):
    from openpyxl import load_workbook

    escalation.reply_notice(actor=head, notice=notice, measures=MEASURES)
    client.force_login(dispatcher)
    listed = body(client.get(url("notices"), {"status": "replied"}))
    assert reverse("orders:notices_export") + "?status=replied" in listed
    response = client.get(reverse("orders:notices_export"), {"status": "replied"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["督办单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("文号", "工单编号", "标题")
    assert [r[0] for r in rows[1:]] == [notice.display_number]
    assert rows[1][7] == "已答复" and rows[1][10] == MEASURES

    response = client.get(reverse("orders:letters_export"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["提醒函"]
    assert [r[0] for r in list(sheet.iter_rows(values_only=True))[1:]] == [
        letter.display_number]


def test_export_is_scoped_like_the_list(client, outsider, notice, other_notice):
    from openpyxl import load_workbook

    client.force_login(outsider)
    response = client.get(reverse("orders:notices_export"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["督办单"]
    assert [r[0] for r in list(sheet.iter_rows(values_only=True))[1:]] == [
        other_notice.display_number]
