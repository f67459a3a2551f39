"""`minyi serve` as `make demo` runs it: a fresh var/ directory, migrate, load_demo, serve."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _minyi(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minyi", *args], env=env, capture_output=True,
                          text=True, timeout=180, check=True)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="runs the SQLite pilot set-up")
def test_a_fresh_pilot_serves_pages_and_static_files_and_the_logins_work(tmp_path):
    env = {**os.environ, "MINYI_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "minyi.settings"}
    env.pop("DATABASE_URL", None)
    _minyi("migrate", "--noinput", "-v0", env=env)
    printed = _minyi("load_demo", "--orders", "20", env=env).stdout
    assert "zhengwei" in printed and "Minyi@2026" in printed
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "minyi", "serve", "--port", str(port), "--no-scheduler"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                login_page = urllib.request.urlopen(base + "/login/", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not answer")
        for path in ("/static/minyi/minyi.css", "/static/django_htmx/htmx-2.min.js"):
            assert urllib.request.urlopen(base + path, timeout=5).status == 200
        # The hashed names the pages link to are served too.
        css = login_page.split('href="')[1].split('"')[0]
        assert css.startswith("/static/minyi/minyi.") and css.endswith(".css")
        assert urllib.request.urlopen(base + css, timeout=5).status == 200

        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(base + "/login/", timeout=5)
        token = next(c.value for c in jar if c.name == "csrftoken")
        data = urlencode({"username": "zhengwei", "password": "Minyi@2026",
                          "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(base + "/login/", data=data,
                                         headers={"Referer": base + "/login/"})
        home = opener.open(request, timeout=10).read().decode()
        assert 'data-testid="home-unit_handler"' in home and "历山派出所" in home
    finally:
        server.terminate()
        server.wait(timeout=10)
