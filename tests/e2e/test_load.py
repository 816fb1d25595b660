"""``scripts/load.py``, small: concurrent sends and their status callbacks against ``ecm-comms
serve`` on PostgreSQL, and every 201 on record exactly once."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_SERVER_URL

LOAD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "load.py"


@pytest.mark.postgres
def test_a_small_load_keeps_one_record_activity_and_event_per_send(
    postgres_server: Engine,  # skips (or, in CI, fails) when PostgreSQL is unreachable
) -> None:
    if make_url(POSTGRES_SERVER_URL).host != "127.0.0.1":
        pytest.skip("the load script contacts 127.0.0.1 only")

    done = subprocess.run(
        # This interpreter is the virtualenv's: the script finds ``ecm-comms`` beside it.
        [sys.executable, str(LOAD_SCRIPT), "--start", "--clients", "4", "--sends", "5",
         "--workers", "2", "--postgres-url", POSTGRES_SERVER_URL, "--deadline", "60"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )  # fmt: skip

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    lines = done.stdout.splitlines()
    assert lines[-1] == "load: ok", output
    assert "201s: 20 (16 sms, 4 calls)" in lines, output
    assert re.search(r"^throughput: \d+\.\d sends/s, \d+\.\d callbacks/s", done.stdout, re.M)
