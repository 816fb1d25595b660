"""The audit of the record: whether every communication is on record as an activity and an event.

It only reads, through the audit view: nothing is repaired, and nothing but ids is reported.
"""

from __future__ import annotations

from dataclasses import replace

from ecm_comms.domain.audit import AuditFindings, AuditProblem, ProblemKind
from ecm_comms.domain.commands import AuditRecord
from ecm_comms.ports.views import AuditViews

_KINDS = list(ProblemKind)


class AuditRecordHandler:
    def __init__(self, views: AuditViews) -> None:
        self._views = views

    def __call__(self, command: AuditRecord) -> AuditFindings:
        findings = self._views.audit(command.clinic_id)
        return replace(findings, problems=tuple(sorted(findings.problems, key=_order)))


def _order(problem: AuditProblem) -> tuple[int, int, str, int]:
    """By kind, then by what each is about: the event, the activity, or the SMS or call."""
    subject = (
        problem.event_id
        if problem.kind is ProblemKind.EVENT_WITHOUT_ACTIVITY
        else None
        if problem.kind is ProblemKind.ACTIVITIES
        else problem.activity_id
    )
    channel = problem.channel.value if problem.channel else ""
    return (_KINDS.index(problem.kind), subject or 0, channel, problem.record_id or 0)
