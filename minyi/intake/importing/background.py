"""Running an import page's batch in the background.

The single-machine default is a thread of the web process. The thread only calls
`run_batch(batch_id)`, the function a Celery task would call with the same id, so moving the
work to workers later means replacing `start` and nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from minyi.intake.importing.run import run_batch

_threads: dict[int, threading.Thread] = {}


def _run(batch_id: int, runner: Callable[[int], None]) -> None:
    try:
        runner(batch_id)
    finally:
        # The thread's own database connection; Django opens one per thread.
        connection.close()
        _threads.pop(batch_id, None)


def start(batch_id: int, runner: Callable[[int], None] = run_batch) -> threading.Thread | None:
    """Start the batch; returns its thread (None when settings ask to run inline, e.g. tests).

    `runner` is the kind's entry point: orders' `run_batch` by default, callbacks' contact
    import its own."""
    if getattr(settings, "MINYI_IMPORTS_INLINE", False):
        runner(batch_id)
        return None
    thread = threading.Thread(target=_run, args=(batch_id, runner), name=f"minyi-import-{batch_id}",
                              daemon=True)
    _threads[batch_id] = thread
    thread.start()
    return thread


def running_here(batch_id: int) -> bool:
    """Whether this process is running the batch (a restart loses the thread)."""
    thread = _threads.get(batch_id)
    return thread is not None and thread.is_alive()
