from __future__ import annotations

from typing import Any

from django.db import transaction

from minyi.core.audit import record_check, record_event, verify_chain
from minyi.core.models import AuditCheck


def verify_audit_chain(*, actor: Any = None) -> AuditCheck:
    """Walk the chain, keep the result, and record who asked (the nightly task asks as 系统)."""
    report = verify_chain()
    with transaction.atomic():
        check = record_check(report)
        record_event(
            actor=actor,
            obj=check,
            action="audit.verify",
            payload={"ok": report.ok, "rows": report.rows,
                     "broken_event_id": report.broken_event_id},
        )
    return check
