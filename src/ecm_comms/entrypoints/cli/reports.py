"""``ecm-comms reports``: the clinic's compliance reports, from the command line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import click

from ecm_comms.domain.commands import GetOutreachDetail
from ecm_comms.domain.use_cases.outreach_detail import HEADER
from ecm_comms.entrypoints.cli.support import container_of, refusals_as_exit
from ecm_comms.entrypoints.csv_stream import csv_chunks


@click.group()
def reports() -> None:
    """The PRTF report and the outreach detail of a clinic, for a period of days."""


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
