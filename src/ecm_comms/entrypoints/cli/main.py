"""``ecm-comms``: migrate the database, register users and patients, serve the API, run the
workers that send scheduled SMS."""

from __future__ import annotations

import click

from ecm_comms.adapters.sql.schema import upgrade
from ecm_comms.domain.commands import (
    IssueToken,
    RegisterUser,
    RevokeToken,
    SetUserRole,
    UpsertPatient,
)
from ecm_comms.entrypoints.cli.audit import audit
from ecm_comms.entrypoints.cli.clinics import clinics
from ecm_comms.entrypoints.cli.demo import demo
from ecm_comms.entrypoints.cli.reports import reports
from ecm_comms.entrypoints.cli.server import serve as run_server
from ecm_comms.entrypoints.cli.support import (
    app_factory,
    container_of,
    refusals_as_exit,
    settings_of,
)
from ecm_comms.entrypoints.cli.worker import worker
from ecm_comms.entrypoints.http.idempotency import IdempotentRequests
from ecm_comms.entrypoints.logs import configure_logging


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """ECM communications: SMS and calls to patients, on record as activities and events.

    Settings come from the environment (ECM_DATABASE_URL, ECM_GATEWAY, TWILIO_*; see README).
    """
    configure_logging(settings_of(ctx).log_format)


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply the migrations to ECM_DATABASE_URL."""
    upgrade(container_of(ctx).engine())
    click.echo("Database is up to date.")


@cli.group()
def users() -> None:
    """Clinic staff who may use the API."""


@users.command("create")
@click.option(
    "--id", "user_id", type=int, required=True, help="The user's id in the clinic system."
)
@click.option("--clinic-id", type=int, required=True)
@click.option("--name", required=True)
@click.option("--phone", default=None, help="Where their patients' calls are connected.")
@click.option(
    "--role", default="coordinator", show_default=True, help="coordinator or admin (reports)."
)
@click.pass_context
def users_create(
    ctx: click.Context, user_id: int, clinic_id: int, name: str, phone: str | None, role: str
) -> None:
    """Register a user; prints their API token as the last line (only its hash is stored)."""
    with refusals_as_exit():
        registered = container_of(ctx).register_user()(
            RegisterUser(user_id, clinic_id, name, phone_number=phone, role=role)
        )
    user = registered.user
    click.echo(f"Created user {user.id} in clinic {user.clinic_id}.")
    click.echo(f"Role: {user.role}.")
    click.echo("API token (shown once, send it as X-User-Token):")
    click.echo(registered.token.value)


@users.command("token")
@click.option("--id", "user_id", type=int, required=True)
@click.pass_context
def users_token(ctx: click.Context, user_id: int) -> None:
    """Give a user a new API token; the old one stops working at once."""
    with refusals_as_exit():
        token = container_of(ctx).issue_token()(IssueToken(user_id))
    click.echo(f"New API token for user {user_id} (the previous one no longer works):")
    click.echo(token.value)


@users.command("revoke-token")
@click.option("--id", "user_id", type=int, required=True)
@click.pass_context
def users_revoke_token(ctx: click.Context, user_id: int) -> None:
    """Make a user's token stop working at once (``users token`` issues a new one)."""
    with refusals_as_exit():
        container_of(ctx).revoke_token()(RevokeToken(user_id))
    click.echo(f"User {user_id} has no working API token now.")


@users.command("set-role")
@click.option("--id", "user_id", type=int, required=True)
@click.option("--role", required=True, help="coordinator or admin.")
@click.pass_context
def users_set_role(ctx: click.Context, user_id: int, role: str) -> None:
    """Make a user a coordinator or an admin (admins produce the clinic's reports)."""
    with refusals_as_exit():
        given = container_of(ctx).set_user_role()(SetUserRole(user_id, role))
    click.echo(f"User {user_id} is now {given}.")


@cli.group()
def idempotency() -> None:
    """Idempotency keys of the POST endpoints."""


@idempotency.command("prune")
@click.pass_context
def idempotency_prune(ctx: click.Context) -> None:
    """Forget keys older than 24 hours (run it daily, e.g. from cron)."""
    with refusals_as_exit():
        container = container_of(ctx)
        forgotten = IdempotentRequests(container.idempotency_keys(), container.clock()).prune()
    click.echo(f"Forgot {forgotten} idempotency key(s) older than 24 hours.")


@cli.group()
def patients() -> None:
    """The patients coordinators may reach."""


@patients.command("upsert")
@click.option("--id", "patient_id", type=int, required=True)
@click.option("--clinic-id", type=int, required=True)
@click.option("--phone", "phones", multiple=True, help="Repeat for several numbers.")
@click.option("--name", default=None)
@click.option("--coordinator-id", type=int, default=None)
@click.option("--member-id", default=None, help="Medi-Cal Client Index Number (CIN).")
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@click.option("--date-of-birth", default=None, help="YYYY-MM-DD.")
@click.option(
    "--timezone",
    default=None,
    help="IANA time zone, for the hours automated SMS may go out.  [default: the clinic's]",
)
@click.pass_context
def patients_upsert(
    ctx: click.Context,
    patient_id: int,
    clinic_id: int,
    phones: tuple[str, ...],
    name: str | None,
    coordinator_id: int | None,
    member_id: str | None,
    first_name: str | None,
    last_name: str | None,
    date_of_birth: str | None,
    timezone: str | None,
) -> None:
    """Create or replace a patient; phone numbers are stored in E.164."""
    with refusals_as_exit():
        patient = container_of(ctx).upsert_patient()(
            UpsertPatient(
                patient_id=patient_id,
                clinic_id=clinic_id,
                phone_numbers=phones,
                name=name,
                coordinator_id=coordinator_id,
                member_id=member_id,
                first_name=first_name,
                last_name=last_name,
                date_of_birth=date_of_birth,
                timezone=timezone,
            )
        )
    numbers = ", ".join(phone.e164 for phone in patient.phones) or "no phone numbers"
    click.echo(f"Patient {patient.id} in clinic {patient.clinic_id}: {numbers}.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the API and webhooks on gunicorn."""
    settings = container_of(ctx).settings()  # refuse bad settings here, not in every worker
    run_server(app_factory(settings), settings, host=host, port=port, workers=workers)


cli.add_command(clinics)
cli.add_command(reports)
cli.add_command(demo)
cli.add_command(audit)
cli.add_command(worker)
