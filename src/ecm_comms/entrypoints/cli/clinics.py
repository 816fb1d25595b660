"""``ecm-comms clinics``: clinics and the Twilio numbers they text and call from."""

from __future__ import annotations

import click

from ecm_comms.domain.clinics import Clinic
from ecm_comms.domain.commands import AddClinicNumber, RemoveClinicNumber, UpsertClinic
from ecm_comms.entrypoints.cli.support import container_of, refusals_as_exit


@click.group()
def clinics() -> None:
    """Clinics, their numbers, and where their patients' replies go."""


@clinics.command("upsert")
@click.option(
    "--id", "clinic_id", type=int, required=True, help="The clinic's id in the host system."
)
@click.option("--name", required=True)
@click.option("--npi", default=None, help="National Provider Identifier (10 digits).")
@click.option("--phone", default=None, help="Main line calls are put through to.")
@click.option("--timezone", default=None, help="IANA time zone.  [default: America/Los_Angeles]")
@click.option(
    "--send-window",
    default=None,
    help="Hours automated SMS may go out, in the patient's time zone, within 08:00-21:00."
    "  [default: 08:00-21:00]",
)
@click.option(
    "--daily-cap",
    type=int,
    default=None,
    help="Automated SMS per patient per day at most.  [default: 1]",
)
@click.option(
    "--weekly-cap",
    type=int,
    default=None,
    help="Automated SMS per patient in 7 days at most.  [default: 3]",
)
@click.pass_context
def clinics_upsert(
    ctx: click.Context,
    clinic_id: int,
    name: str,
    npi: str | None,
    phone: str | None,
    timezone: str | None,
    send_window: str | None,
    daily_cap: int | None,
    weekly_cap: int | None,
) -> None:
    """Create or update a clinic's record; its numbers are kept."""
    with refusals_as_exit():
        clinic = container_of(ctx).upsert_clinic()(
            UpsertClinic(
                clinic_id,
                name,
                npi=npi,
                phone_number=phone,
                timezone=timezone,
                send_window=send_window,
                daily_cap=daily_cap,
                weekly_cap=weekly_cap,
            )
        )
    click.echo(f"Clinic {clinic.id}: {clinic.name} ({clinic.timezone}).")


@clinics.command("add-number")
@click.option("--clinic-id", type=int, required=True)
@click.option("--number", required=True, help="A Twilio number of the clinic's.")
@click.option("--messaging-service-sid", default=None, help="Send SMS through this service (MG…).")
@click.option("--default", "default", is_flag=True, help="Make it the clinic's sending number.")
@click.pass_context
def clinics_add_number(
    ctx: click.Context,
    clinic_id: int,
    number: str,
    messaging_service_sid: str | None,
    default: bool,
) -> None:
    """Give a clinic a Twilio number; replies to it reach only that clinic's patients."""
    with refusals_as_exit():
        added = container_of(ctx).add_clinic_number()(
            AddClinicNumber(clinic_id, number, messaging_service_sid, default)
        )
    click.echo(f"Clinic {added.clinic_id} now has {added.number.e164}.")


@clinics.command("remove-number")
@click.option("--number", required=True)
@click.pass_context
def clinics_remove_number(ctx: click.Context, number: str) -> None:
    """Take a number from its clinic; replies to it are then routed as to the shared number."""
    with refusals_as_exit():
        removed = container_of(ctx).remove_clinic_number()(RemoveClinicNumber(number))
    click.echo(f"{removed.e164} belongs to no clinic now.")


@clinics.command("list")
@click.pass_context
def clinics_list(ctx: click.Context) -> None:
    """Each clinic: its name, NPI, time zone, main line, the limits of its automated SMS, and
    its numbers (the sending one marked)."""
    with refusals_as_exit():
        known = container_of(ctx).clinic_directory().all()
    if not known:
        click.echo("No clinics yet (ecm-comms clinics upsert).")
    for clinic in known:
        click.echo(_describe(clinic))


def _describe(clinic: Clinic) -> str:
    npi = f"NPI {clinic.npi.value}" if clinic.npi else "no NPI"
    phone = f"main line {clinic.phone.e164}" if clinic.phone else "no main line"
    limits = (
        f"automated SMS {clinic.send_window}, at most {clinic.caps.daily} a day"
        f" and {clinic.caps.weekly} in 7 days"
    )
    lines = [f"{clinic.id}  {clinic.name}  {npi}  {clinic.timezone}  {phone}  {limits}"]
    sending = clinic.sending_number
    for number in clinic.numbers:
        marks = [" (sending)" if number == sending else ""]
        if number.messaging_service_sid:
            marks.append(f" via {number.messaging_service_sid}")
        lines.append(f"    {number.number.e164}{''.join(marks)}")
    if not clinic.numbers:
        lines.append("    no numbers: sends from the shared number")
    return "\n".join(lines)
