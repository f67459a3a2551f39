"""Helpers for the tests of several apps (not fixtures: plain functions)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(*calls: Callable[[], Any], timeout: float = 120) -> list[tuple[str, Any]]:
    """Run the calls at the same moment, each in its own thread with its own database
    connection; for each, ("ok", its result) or ("error", the exception it raised)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("error", TimeoutError("did not finish"))] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = ("ok", call())
        except Exception as exc:  # the caller's assertions report it
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


def race_ok(*calls: Callable[[], Any], timeout: float = 120) -> list[Any]:
    """`race`, asserting that no call raised; the results."""
    results = race(*calls, timeout=timeout)
    errors = [value for kind, value in results if kind == "error"]
    assert not errors, errors
    return [value for _, value in results]
