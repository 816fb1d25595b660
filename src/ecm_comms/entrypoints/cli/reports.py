"""``ecm-comms reports``: the clinic's compliance reports, from the command line."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import click

from ecm_comms.domain.commands import GeneratePrtfReport, GetOutreachDetail
from ecm_comms.domain.csv_text import csv_chunks
from ecm_comms.domain.use_cases.outreach_detail import HEADER
from ecm_comms.entrypoints.cli.support import container_of, refusals_as_exit

# The option of a field the command does not name after it.
_OPTIONS = {"provider_npi": "--npi"}


@click.group()
def reports() -> None:
    """The PRTF report and the outreach detail of a clinic, for a period of days."""


@reports.command("prtf")
@click.option("--clinic-id", type=int, required=True)
@click.option("--start", required=True, help="The period's first day, YYYY-MM-DD.")
@click.option("--end", required=True, help="The period's last day, YYYY-MM-DD (included).")
@click.option("--npi", default=None, help="Provider NPI.  [default: the clinic's]")
@click.option("--provider-name", default=None, help="[default: the clinic's name]")
@click.option("--provider-phone", default=None, help="[default: the clinic's main line]")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CSV to this file.  [default: standard output]",
)
@click.pass_context
def reports_prtf(
    ctx: click.Context,
    clinic_id: int,
    start: str,
    end: str,
    npi: str | None,
    provider_name: str | None,
    provider_phone: str | None,
    out: Path | None,
) -> None:
    """Produce and keep a clinic's PRTF (as POST …/prtf_reports does); prints its file name and
    patient count. Without --out the CSV goes to standard output and the rest to standard error."""
    if out is not None:
        _check_writable(out)  # before the report is kept, not after
    with refusals_as_exit(_OPTIONS):
        produced = container_of(ctx).generate_prtf_report()(
            GeneratePrtfReport(
                clinic_id=clinic_id,
                start_date=start,
                end_date=end,
                provider_npi=npi,
                provider_name=provider_name,
                provider_phone=provider_phone,
                period_fields=("--start", "--end"),
            )
        )
    report = produced.report
    patients = f"{report.patient_count} patient{'' if report.patient_count == 1 else 's'}"
    if out is None:
        click.echo(produced.content, nl=False)  # bytes: written as they are
        click.echo(f"{report.filename}: {patients}.", err=True)
        return
    _write_whole(out, produced.content)
    click.echo(f"{report.filename}: {patients}, written to {out}.")


def _check_writable(path: Path) -> None:
    folder = path.parent
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise click.ClickException(f"--out: cannot write {path}")


def _write_whole(path: Path, content: bytes) -> None:
    """The whole file or none: written beside its place, then moved there."""
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise click.ClickException(
            f"--out: cannot write {path} ({error.strerror}); the report is kept, download it "
            "from the API"
        ) from error


@reports.command("attempts")
@click.option("--clinic-id", type=int, required=True)
@click.option("--start", required=True, help="First day, YYYY-MM-DD, in the clinic's time zone.")
@click.option("--end", required=True, help="Last day (included), YYYY-MM-DD.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the CSV here (else to standard output).",
)
@click.pass_context
def reports_attempts(
    ctx: click.Context, clinic_id: int, start: str, end: str, out: Path | None
) -> None:
    """The outreach detail: every event of the period, one CSV row each, oldest first."""
    with refusals_as_exit():
        detail = container_of(ctx).outreach_detail()(
            GetOutreachDetail(clinic_id, start, end, fields=("start", "end"))
        )
        counted = _Counted(detail.rows)
        chunks = (chunk.encode() for chunk in csv_chunks(HEADER, counted))
        if out is None:
            with click.open_file("-", "wb") as stdout:
                _write(stdout, chunks)
            return
        written = out.with_name(out.name + ".partial")
        try:
            with written.open("wb") as file:
                _write(file, chunks)
            written.replace(out)  # a reader never sees half a file
        finally:
            written.unlink(missing_ok=True)
    period = detail.period
    click.echo(f"Wrote {counted.count} event(s) ({period.start} to {period.end}) to {out}.")


class _Counted(Iterator[list[str]]):
    def __init__(self, rows: Iterator[list[str]]) -> None:
        self._rows = rows
        self.count = 0

    def __next__(self) -> list[str]:
        row = next(self._rows)
        self.count += 1
        return row


def _write(stream: IO[bytes], chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        stream.write(chunk)
    stream.flush()
