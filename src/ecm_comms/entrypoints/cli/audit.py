"""``ecm-comms audit``: whether every communication is on record as an activity and an event."""

from __future__ import annotations

import click

from ecm_comms.domain.commands import AuditRecord
from ecm_comms.entrypoints.cli.support import container_of, refusals_as_exit


@click.command()
@click.option("--clinic-id", type=int, default=None, help="One clinic's records (else all).")
@click.pass_context
def audit(ctx: click.Context, clinic_id: int | None) -> None:
    """Check that every SMS and call Twilio accepted (it has a sid, or came in) and that matched a
    patient has exactly one activity and one event, that every event has its activity and every
    activity its SMS or call. Prints one line per problem, ids only; exits 1 if there are any."""
    with refusals_as_exit():
        findings = container_of(ctx).audit_record()(AuditRecord(clinic_id))
    click.echo(findings.summary)
    for problem in findings.problems:
        click.echo(problem.line)
    if findings.problems:
        ctx.exit(1)
