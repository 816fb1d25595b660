"""``python -m ecm_comms``: the ``ecm-comms`` command, wherever the console script is not."""

from ecm_comms.entrypoints.cli.main import cli

cli(prog_name="ecm-comms")
