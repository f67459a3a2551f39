"""Text messages: the outbox, the console and file backends, and the HTTP gateway against a
real HTTP server on 127.0.0.1 (a 500, a timeout, a refusal), retried with back-off."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from minyi.core.crypto import decrypt
from minyi.core.errors import InvalidInput
from minyi.core.models import Event
from minyi.notifications import tasks
from minyi.notifications.models import SmsMessage
from minyi.notifications.sms import outbox, send_sms
from minyi.notifications.sms.backends import (
    ConsoleBackend,
    FileBackend,
    HttpBackend,
    get_backend,
)

pytestmark = pytest.mark.django_db
Status = SmsMessage.Status


@dataclass
class Gateway:
    """A real HTTP server standing for the SMS gateway: answers each POST with the next status
    of its script (then 200), after `delay` seconds, and keeps what it was sent."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[tuple[dict, dict]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/sms/send"

    def start(self) -> Gateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.received.append((dict(self.headers.items()), json.loads(body)))
                if gateway.delay:
                    time.sleep(gateway.delay)
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                data = ("OK" if status < 300 else "网关繁忙，请稍后再试").encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    server = Gateway().start()
    settings.MINYI_SMS_BACKEND = "http"
    settings.MINYI_SMS_HTTP_URL = server.url
    settings.MINYI_SMS_HTTP_TOKEN = "s3cret-token"
    settings.MINYI_SMS_HTTP_TIMEOUT = 0.5
    yield server
    server.stop()


def _pass_time(message: SmsMessage) -> None:
    SmsMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def _lines(settings) -> list[dict]:
    path = Path(settings.MINYI_SMS_FILE_PATH)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- queueing --------------------------------------------------------------------------------


def test_send_sms_queues_the_message_with_the_number_encrypted():
    message = send_sms(to="+86 139-0000-1111", text=" 请签收督办单 ", purpose="test",
                       reference="orders.notice:7")
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 0
    assert message.to_masked == "139****1111"
    assert "13900001111" not in message.to_encrypted
    assert decrypt(message.to_encrypted) == "13900001111"
    assert (message.text, message.segments, message.purpose, message.reference) == (
        "请签收督办单", 1, "test", "orders.notice:7")


@pytest.mark.parametrize(("to", "text", "error"), [
    ("0537-1234567", "你好", "手机号格式不正确：053****4567"),
    ("", "你好", "手机号格式不正确：（空）"),
    ("13900001111", "  ", "短信内容不能为空"),
    ("13900001111", "长" * 501, "短信内容过长：501 字，最多 500 字"),
])
def test_bad_numbers_and_texts_are_refused(to, text, error):
    with pytest.raises(InvalidInput) as caught:
        send_sms(to=to, text=text)
    assert str(caught.value) == error
    assert not SmsMessage.objects.exists()


# --- local backends --------------------------------------------------------------------------


def test_the_console_backend_is_the_default_and_writes_masked_numbers(settings, caplog):
    del settings.MINYI_SMS_BACKEND
    assert isinstance(get_backend(), ConsoleBackend)
    settings.MINYI_SMS_BACKEND = "console"
    message = send_sms(to="13900001111", text="督办单已下发")
    with caplog.at_level("INFO", logger="minyi.sms"):
        assert outbox.deliver(message.pk) is True
    assert "139****1111" in caplog.text and "13900001111" not in caplog.text
    [line] = _lines(settings)
    assert (line["id"], line["to"], line["text"], line["backend"]) == (
        message.pk, "139****1111", "督办单已下发", "console")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.backend) == (Status.SENT, 1, "console")
    assert message.sent_at is not None and message.last_error == ""
    event = Event.objects.get(action="sms.sent")
    assert event.object_id == str(message.pk) and event.payload["to"] == "139****1111"
    assert "13900001111" not in json.dumps(event.payload) + event.object_repr


def test_the_file_backend_writes_full_numbers_owner_only(settings):
    settings.MINYI_SMS_BACKEND = "file"
    assert isinstance(get_backend(), FileBackend)
    first = send_sms(to="13900001111", text="第一条")
    second = send_sms(to="13700003333", text="第二条")
    assert outbox.deliver_due() == 2
    assert [(line["id"], line["to"], line["text"]) for line in _lines(settings)] == [
        (first.pk, "13900001111", "第一条"), (second.pk, "13700003333", "第二条")]
    assert Path(settings.MINYI_SMS_FILE_PATH).stat().st_mode & 0o077 == 0


def test_local_backends_send_right_after_the_commit(settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = send_sms(to="13900001111", text="提交后发送")
            assert not Path(settings.MINYI_SMS_FILE_PATH).exists()
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert [line["text"] for line in _lines(settings)] == ["提交后发送"]


def test_the_http_gateway_waits_for_the_sweep(gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = send_sms(to="13900001111", text="由定时任务发送")
    assert callbacks == [] and gateway.received == []
    assert tasks.deliver_due_sms() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_an_unwritable_file_is_a_failure_retried_later(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.MINYI_SMS_FILE_PATH = str(blocker / "sms.jsonl")
    message = send_sms(to="13900001111", text="写不进去")
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.last_error.startswith("写入短信文件失败")


def test_switching_backends_by_settings(settings):
    settings.MINYI_SMS_BACKEND = "http"
    settings.MINYI_SMS_HTTP_URL = "http://127.0.0.1:9/x"
    settings.MINYI_SMS_HTTP_TOKEN = "t"
    settings.MINYI_SMS_HTTP_TIMEOUT = 3
    backend = get_backend()
    assert isinstance(backend, HttpBackend) and not backend.local
    assert (backend.url, backend.token, backend.timeout) == ("http://127.0.0.1:9/x", "t", 3.0)
    settings.MINYI_SMS_BACKEND = "minyi.notifications.sms.backends.FileBackend"
    assert isinstance(get_backend(), FileBackend)
    settings.MINYI_SMS_BACKEND = "carrier-pigeon"
    message = send_sms(to="13900001111", text="未知通道")  # queued all the same
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.last_error == "未知的短信通道：carrier-pigeon（可选 console、file、http）"
    assert message.status == Status.PENDING


# --- the HTTP gateway ------------------------------------------------------------------------


def test_the_gateway_gets_json_with_the_token(gateway):
    message = send_sms(to="13900001111", text="督〔2026〕1号请签收")
    assert outbox.deliver(message.pk) is True
    [(headers, body)] = gateway.received
    assert body == {"to": "13900001111", "text": "督〔2026〕1号请签收", "id": message.pk}
    assert headers["Authorization"] == "Bearer s3cret-token"
    assert headers["X-Minyi-Sms-Id"] == str(message.pk)
    assert headers["Content-Type"].startswith("application/json")
    message.refresh_from_db()
    assert (message.status, message.backend) == (Status.SENT, "http")


def test_a_500_is_retried_with_back_off_then_sent(gateway):
    gateway.statuses = [500, 503]
    message = send_sms(to="13900001111", text="重试")
    before = timezone.now()
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 1
    assert message.last_error == "HTTP 500：网关繁忙，请稍后再试"
    wait = message.next_attempt_at - before
    assert timedelta(seconds=59) < wait < timedelta(seconds=62)  # one minute
    # Not due yet: the sweep leaves it alone.
    assert outbox.deliver_due() == 0 and len(gateway.received) == 1

    _pass_time(message)
    before = timezone.now()
    assert outbox.deliver_due() == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.last_error.startswith("HTTP 503")
    wait = message.next_attempt_at - before
    assert timedelta(seconds=119) < wait < timedelta(seconds=122)  # then two

    _pass_time(message)
    assert outbox.deliver_due() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 3, "")
    assert list(Event.objects.filter(object_type="notifications.smsmessage")
                .values_list("action", flat=True)) == ["sms.failed", "sms.failed", "sms.sent"]
    assert [body["id"] for _, body in gateway.received] == [message.pk] * 3


def test_a_gateway_that_does_not_answer_in_time_is_a_failure(gateway):
    gateway.delay = 2.0
    message = send_sms(to="13900001111", text="超时")
    started = time.monotonic()
    assert outbox.deliver(message.pk) is False
    assert time.monotonic() - started < 1.8  # gave up after the 0.5 s timeout
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 1
    assert "超时" in message.last_error or "timed out" in message.last_error


def test_a_gateway_that_is_down_is_a_failure(settings):
    settings.MINYI_SMS_BACKEND = "http"
    settings.MINYI_SMS_HTTP_URL = "http://127.0.0.1:9/unreachable"
    message = send_sms(to="13900001111", text="连不上")
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.last_error.startswith("无法连接短信网关")


def test_a_refused_message_is_given_up_at_once(gateway):
    gateway.statuses = [400]
    message = send_sms(to="13900001111", text="被拒")
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.GIVEN_UP, 1)
    assert message.last_error == "HTTP 400：网关繁忙，请稍后再试"
    assert Event.objects.filter(action="sms.given_up", object_id=str(message.pk)).exists()
    assert outbox.deliver_due() == 0


def test_too_many_failures_are_given_up(gateway, settings):
    settings.MINYI_SMS_MAX_ATTEMPTS = 3
    gateway.statuses = [500, 500, 500, 200]
    message = send_sms(to="13900001111", text="三次失败")
    for _ in range(3):
        _pass_time(message)
        outbox.deliver_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.GIVEN_UP, 3)
    # An administrator sends it again by hand; this time the gateway takes it.
    assert outbox.retry_now(message.pk) is True
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 4)
    assert outbox.retry_now(message.pk) is None  # sent is sent


def test_no_url_configured_is_a_failure_not_a_crash(settings):
    settings.MINYI_SMS_BACKEND = "http"
    settings.MINYI_SMS_HTTP_URL = ""
    message = send_sms(to="13900001111", text="没配置")
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.last_error == "未配置短信网关地址（MINYI_SMS_HTTP_URL）"


def test_after_one_failure_the_sweep_leaves_the_rest_for_later(gateway):
    gateway.statuses = [500]
    messages = [send_sms(to="13900001111", text=f"第{i}条") for i in range(3)]
    assert outbox.deliver_due() == 1
    assert len(gateway.received) == 1
    assert SmsMessage.objects.filter(status=Status.PENDING, attempts=0).count() == 2
    assert outbox.deliver_due() == 2  # the other two, now the gateway answers
    assert SmsMessage.objects.get(pk=messages[0].pk).status == Status.PENDING


def test_a_claimed_message_is_sent_once(gateway):
    message = send_sms(to="13900001111", text="只发一次")
    claimed = outbox._claim(message.pk)
    assert claimed is not None and claimed.last_error == outbox.SENDING
    assert outbox.deliver(message.pk) is None      # another worker holds it
    assert outbox.retry_now(message.pk) is None    # "send again" leaves it to that worker
    assert gateway.received == []


def test_the_notice_sms_reaches_the_gateway(gateway, bureau, make_order, head):
    """From the sweep's notice to the gateway: the head's number, the notice's text."""
    from datetime import datetime
    from unittest import mock
    from zoneinfo import ZoneInfo

    from minyi.orders import escalation

    def at(*args):
        return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))

    with mock.patch("minyi.orders.actions._now", lambda: at(2026, 11, 2, 9, 0)):
        make_order("dispatched")
    escalation.sweep(now=at(2026, 11, 3, 9, 1))
    assert tasks.deliver_due_sms() == 1
    [(_, body)] = gateway.received
    assert body["to"] == "13900001111" and body["text"].startswith("督办单 督〔2026〕1号：工单 ")
