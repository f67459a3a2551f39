"""Where text messages go: chosen by settings.MINYI_SMS_BACKEND, read at each delivery so that
a change of settings (or a test) takes effect without a restart of anything.

- "console" (default): logs the message and appends it, number masked, as one JSON line to
  MINYI_SMS_FILE_PATH (var/sms/sms.jsonl). For pilots and development: nothing leaves the
  machine and no citizen's number is written out in clear.
- "file": appends the message with the full number as one JSON line to MINYI_SMS_FILE_PATH,
  for a program beside Minyi (an SMS modem on the police network) to pick up.
- "http": POSTs {"to", "text", "id"} as JSON to MINYI_SMS_HTTP_URL with the bearer token
  MINYI_SMS_HTTP_TOKEN; a 2xx answer is acceptance, anything else an error with its text.
- a dotted path: a class with `name`, `local` and `send(sms)`, made without arguments.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from minyi.core.crypto import mask_phone

logger = logging.getLogger("minyi.sms")
USER_AGENT = "Minyi-SMS/1"
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class OutgoingSms:
    id: int
    to: str  # the full number, decrypted for the send only
    text: str


class SmsError(Exception):
    """The backend did not take the message. `permanent`: trying again cannot help (the gateway
    refused the message itself), so the outbox gives it up at once."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Backend(Protocol):
    name: str
    # Local backends are tried right after the commit; a remote one only by the sweep.
    local: bool

    def send(self, sms: OutgoingSms) -> None: ...


def file_path() -> Path:
    configured = getattr(settings, "MINYI_SMS_FILE_PATH", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "sms" / "sms.jsonl"


def _append_line(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    # One write of one line to a file opened for appending: lines from several processes do not
    # interleave. Owner-only, as the file backend's lines carry full numbers.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _record(sms: OutgoingSms, to: str, backend: str) -> dict[str, Any]:
    return {"id": sms.id, "to": to, "text": sms.text, "backend": backend,
            "at": timezone.now().isoformat(timespec="seconds")}


class ConsoleBackend:
    name = "console"
    local = True

    def send(self, sms: OutgoingSms) -> None:
        logger.info("短信 #%s → %s：%s", sms.id, mask_phone(sms.to), sms.text)
        try:
            _append_line(file_path(), _record(sms, mask_phone(sms.to), self.name))
        except OSError as exc:
            raise SmsError(f"写入短信文件失败：{exc}") from exc


class FileBackend:
    name = "file"
    local = True

    def send(self, sms: OutgoingSms) -> None:
        try:
            _append_line(file_path(), _record(sms, sms.to, self.name))
        except OSError as exc:
            raise SmsError(f"写入短信文件失败：{exc}") from exc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would turn the POST into a GET without the body, and
    the 200 to that GET would read as "accepted"."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)
# Answers that say the gateway itself will never take this message; 408 and 429 say "later".
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class HttpBackend:
    name = "http"
    local = False

    def __init__(self, url: str | None = None, token: str | None = None,
                 timeout: float | None = None) -> None:
        self.url = url if url is not None else getattr(settings, "MINYI_SMS_HTTP_URL", "")
        self.token = token if token is not None else getattr(settings, "MINYI_SMS_HTTP_TOKEN",
                                                             "")
        self.timeout = float(timeout if timeout is not None
                             else getattr(settings, "MINYI_SMS_HTTP_TIMEOUT", DEFAULT_TIMEOUT))

    def send(self, sms: OutgoingSms) -> None:
        if not self.url:
            raise SmsError("未配置短信网关地址（MINYI_SMS_HTTP_URL）")
        body = json.dumps({"to": sms.to, "text": sms.text, "id": sms.id},
                          ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            # The same on every retry: a gateway that took a post whose answer was lost can
            # recognise the repeat.
            "X-Minyi-Sms-Id": str(sms.id),
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                response.read(4096)
                if 200 <= response.status < 300:
                    return
                raise SmsError(f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            try:
                said = exc.read(300).decode("utf-8", "replace").strip()
            except Exception:  # the body is a courtesy; the status is what counts
                said = ""
            permanent = 400 <= exc.code < 500 and exc.code not in _RETRYABLE_4XX
            raise SmsError(f"HTTP {exc.code}" + (f"：{said}" if said else ""),
                           permanent=permanent) from exc
        except urllib.error.URLError as exc:
            raise SmsError(f"无法连接短信网关：{exc.reason}") from exc
        except TimeoutError as exc:
            raise SmsError(f"短信网关超时（{self.timeout:g} 秒未应答）") from exc
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise SmsError(f"{type(exc).__name__}：{exc}" if str(exc)
                           else type(exc).__name__) from exc


BACKENDS: dict[str, type] = {"console": ConsoleBackend, "file": FileBackend,
                             "http": HttpBackend}


def get_backend() -> Backend:
    name = (getattr(settings, "MINYI_SMS_BACKEND", "") or "console").strip()
    if name in BACKENDS:
        return BACKENDS[name]()
    if "." in name:
        return import_string(name)()
    raise SmsError(f"未知的短信通道：{name}（可选 console、file、http）")


def backend_is_local() -> bool:
    """Whether the configured backend is tried right after the commit. Never raises: a
    misconfigured backend is the outbox's to report, on the message, not the caller's."""
    try:
        return bool(get_backend().local)
    except Exception:
        return False
