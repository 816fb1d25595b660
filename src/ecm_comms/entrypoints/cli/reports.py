"""``ecm-comms reports``: the clinic's compliance reports, from the command line."""

from __future__ import annotations

import click


@click.group()
def reports() -> None:
    """The PRTF report and the outreach detail of a clinic, for a period of days."""
