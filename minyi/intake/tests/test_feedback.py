"""Feedback to the source platform, against a real HTTP server on 127.0.0.1: signed posts,
back-off after a failure, delivery on a later sweep, events, and one post however many workers
try at once."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.utils import timezone

from minyi.api import actions as api_actions
from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.intake import feedback, tasks
from minyi.intake.models import FeedbackDelivery
from minyi.orders import actions
from minyi.orders.tests.factories import channel

# The orders tests' fixtures, used here too.

Status = FeedbackDelivery.Status


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Platform:
    """A real HTTP server on 127.0.0.1 standing for the source platform: answers each POST
    with the next status of its script (then 200), and keeps what it was sent."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/minyi/feedback"

    def start(self) -> Platform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                platform.received.append(Received(self.command, self.path,
                                                  dict(self.headers.items()), body))
                if platform.delay:
                    time.sleep(platform.delay)
                status = platform.statuses.pop(0) if platform.statuses else 200
                text = "OK" if status < 300 else "平台暂时不可用"
                data = text.encode()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = _answer
            do_GET = _answer

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def platform():
    server = Platform().start()
    yield server
    server.stop()


@pytest.fixture
def client_of(bureau):
    def make(url: str, name: str = "12345平台"):
        client, _ = api_actions.create_client(actor=None, name=name, channel=channel("12345"),
                                              bureau=bureau.bureau, webhook_url=url)
        return client

    return make


@pytest.fixture
def fed_back(make_order, dispatcher):
    """fed_back(client) -> the delivery of a new order of that client, just fed back."""
    counter = iter(range(1, 1000))

    def make(client) -> FeedbackDelivery:
        order = make_order("reviewed", source_client=client,
                           external_id=f"12345-{next(counter):04d}")
        actions.feed_back_order(actor=dispatcher, order=order)
        return FeedbackDelivery.objects.get(order=order)

    return make


def _pass_time(delivery: FeedbackDelivery) -> None:
    """As if the wait until the next attempt had gone by."""
    FeedbackDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def _events(delivery: FeedbackDelivery) -> list[str]:
    return list(Event.objects.filter(object_type="orders.order",
                                     object_id=str(delivery.order_id),
                                     action__startswith="order.feedback_")
                .order_by("id").values_list("action", flat=True))


@pytest.mark.django_db
def test_a_failed_post_is_retried_later_and_delivered(platform, client_of, fed_back):
    platform.statuses = [500]
    client = client_of(platform.url)
    delivery = fed_back(client)
    assert delivery.status == Status.PENDING and delivery.attempts == 0

    before = timezone.now()
    assert tasks.deliver_due_feedback() == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500：平台暂时不可用"
    # The next attempt a minute later, not at once.
    assert before + timedelta(seconds=59) < delivery.next_attempt_at
    assert delivery.next_attempt_at < timezone.now() + timedelta(seconds=61)
    assert _events(delivery) == ["order.feedback_failed"]
    failed = Event.objects.get(action="order.feedback_failed")
    assert failed.payload["attempt"] == 1 and failed.payload["error"].startswith("HTTP 500")
    assert failed.actor is None

    # Not due yet: the sweep leaves it alone.
    assert feedback.deliver_due() == 0
    assert len(platform.received) == 1

    _pass_time(delivery)
    assert feedback.deliver_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 2
    assert delivery.delivered_at is not None and delivery.last_error == ""
    assert _events(delivery) == ["order.feedback_failed", "order.feedback_delivered"]
    assert verify_chain().ok

    # What the platform got, both times: the same signed body, the same delivery id.
    assert len(platform.received) == 2
    for attempt, got in enumerate(platform.received, start=1):
        assert got.method == "POST" and got.path == "/minyi/feedback"
        assert got.headers["X-Minyi-Signature"] == feedback.signature(client.webhook_secret,
                                                                      got.body)
        assert got.headers["X-Minyi-Delivery"] == str(delivery.pk)
        assert got.headers["X-Minyi-Attempt"] == str(attempt)
        assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    payload = json.loads(platform.received[0].body)
    assert payload["external_id"] == "12345-0001" and payload["state"] == "fed_back"
    assert payload["result"] == "已责令停工并调解" and payload["unit"] == "东城派出所"

    # Delivered is final: nothing more is posted.
    _pass_time(delivery)
    assert feedback.deliver(delivery.pk) is None
    assert len(platform.received) == 2


def test_backoff_doubles_up_to_six_hours():
    assert [feedback.backoff(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert feedback.backoff(9) == timedelta(minutes=256)
    assert feedback.backoff(10) == feedback.backoff(500) == timedelta(hours=6)


def test_the_signature_is_hmac_sha256_of_the_body():
    import hashlib
    import hmac

    body = '{"a": "反馈"}'.encode()
    assert feedback.signature("s3cret", body) == hmac.new(b"s3cret", body,
                                                          hashlib.sha256).hexdigest()


@pytest.mark.django_db
def test_a_redirect_is_a_failure_not_followed(platform, client_of, fed_back):
    platform.statuses = [302]
    delivery = fed_back(client_of(platform.url))
    assert feedback.deliver(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("HTTP 302（不跟随跳转）")
    assert [r.method for r in platform.received] == ["POST"]  # no GET to the new place


@pytest.mark.django_db
def test_an_unreachable_platform_is_a_failure_with_the_reason(client_of, fed_back):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    delivery = fed_back(client_of(f"http://127.0.0.1:{port}/x"))
    assert feedback.deliver(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("无法连接")
    assert delivery.attempts == 1


@pytest.mark.django_db
def test_a_client_without_webhook_any_more_fails_and_waits(client_of, fed_back):
    client = client_of("http://127.0.0.1:9/x")
    delivery = fed_back(client)
    client.webhook_url = ""
    client.save()
    assert feedback.deliver(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_error == "对接系统已停用或未配置反馈地址"


@pytest.mark.django_db
def test_one_sweep_gives_a_failing_platform_one_try(platform, client_of, fed_back):
    platform.statuses = [503, 503, 503]
    down = client_of(platform.url, "12345平台")
    deliveries = [fed_back(down) for _ in range(3)]
    healthy_platform = Platform().start()
    try:
        healthy = fed_back(client_of(healthy_platform.url, "110平台"))
        assert feedback.deliver_due() == 2
        assert len(platform.received) == 1 and len(healthy_platform.received) == 1
    finally:
        healthy_platform.stop()
    states = [FeedbackDelivery.objects.get(pk=d.pk).attempts for d in deliveries]
    assert sorted(states) == [0, 0, 1]  # the other two wait for the next sweep
    healthy.refresh_from_db()
    assert healthy.status == Status.DELIVERED


@pytest.mark.django_db
def test_retry_now_makes_it_due_unless_a_worker_is_sending_it(platform, client_of, fed_back,
                                                              dispatcher):
    platform.statuses = [500]
    delivery = fed_back(client_of(platform.url))
    assert feedback.deliver(delivery.pk) is False
    # Due in a minute; "retry now" does not wait.
    assert feedback.retry_now(delivery.pk, actor=dispatcher) is True
    assert Event.objects.filter(action="order.feedback_delivered").get().actor == dispatcher
    assert feedback.retry_now(delivery.pk) is None  # delivered already

    other = fed_back(client_of(platform.url, "另一平台"))
    # A worker holds it (claimed, posting): retry now must not post it a second time.
    FeedbackDelivery.objects.filter(pk=other.pk).update(
        last_error=feedback.SENDING, next_attempt_at=timezone.now() + feedback.LEASE)
    assert feedback.retry_now(other.pk) is None
    assert len(platform.received) == 2
    # Once the lease has run out (the worker died), it may.
    FeedbackDelivery.objects.filter(pk=other.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert feedback.retry_now(other.pk) is True


@pytest.mark.django_db
def test_a_worker_whose_lease_ran_out_does_not_overwrite_the_next_one(
        platform, client_of, fed_back, monkeypatch):
    delivery = fed_back(client_of(platform.url))
    real_post = feedback._post

    def slow_post(claimed):
        # Meanwhile the lease ran out, another worker took the delivery and recorded a failure.
        FeedbackDelivery.objects.filter(pk=claimed.pk).update(attempts=1,
                                                              last_error="HTTP 500")
        return real_post(claimed)

    monkeypatch.setattr(feedback, "_post", slow_post)
    assert feedback.deliver(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 500"
    assert _events(delivery) == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_once(platform, client_of, fed_back):
    platform.delay = 0.5  # both workers are surely inside deliver() together
    delivery = fed_back(client_of(platform.url))
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(feedback.deliver(delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=str) == [None, True]
    assert len(platform.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1
    assert _events(delivery) == ["order.feedback_delivered"]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_post_each_delivery_once(platform, client_of, fed_back):
    platform.delay = 0.2
    client = client_of(platform.url)
    deliveries = [fed_back(client) for _ in range(3)]
    barrier = threading.Barrier(2)
    tried = []

    def sweep():
        try:
            barrier.wait()
            tried.append(feedback.deliver_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(tried) == 3
    assert sorted(json.loads(r.body)["external_id"] for r in platform.received) == sorted(
        d.order.external_id for d in deliveries)
    assert FeedbackDelivery.objects.filter(status=Status.DELIVERED).count() == 3


def test_the_scheduler_runs_the_sweep_every_minute():
    from minyi.schedule import SCHEDULE

    job = next(j for j in SCHEDULE if j.task == "minyi.intake.tasks.deliver_due_feedback")
    assert job.every_seconds == 60
