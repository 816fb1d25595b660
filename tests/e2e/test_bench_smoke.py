"""``python -m benchmarks.bench --quick``: the bench runs end to end, its ratios line last.

A smoke test, not a measurement: it checks that the three servers (ours, ours without metrics,
the baseline) start, that every request of every path is answered 2xx (the script fails
otherwise), and the shape of the last line, never the ratios themselves. It needs wrk (Debian's
``wrk`` package) and is skipped without it, in CI too: acceptable for a smoke test of a tool that
``make bench`` installs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_SERVER_URL

# A path, then CPU ms per request: ours, PostgreSQL for ours, the baseline, PostgreSQL for it.
CPU_LINE = re.compile(r"[a-z]+( +\d+\.\d\d){4}")
REPO = Path(__file__).resolve().parents[2]
# Ours over the baseline per path, then what the metrics cost per path (below 0: they gained).
RATIOS = re.compile(
    r"sms=\d+\.\d\d status=\d+\.\d\d inbound=\d+\.\d\d"
    r" sms_metrics_cost=-?\d+\.\d\d status_metrics_cost=-?\d+\.\d\d"
    r" inbound_metrics_cost=-?\d+\.\d\d"
)


@pytest.mark.postgres
def test_a_quick_bench_measures_every_path_and_prints_the_ratios_last(
    postgres_server: Engine,  # skips (or, in CI, fails) when PostgreSQL is unreachable
) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    if make_url(POSTGRES_SERVER_URL).host != "127.0.0.1":
        pytest.skip("the bench contacts 127.0.0.1 only")

    done = subprocess.run(
        # This interpreter is the virtualenv's: the bench finds ``ecm-comms`` beside it.
        [sys.executable, "-m", "benchmarks.bench", "--quick", "--postgres-url",
         POSTGRES_SERVER_URL, "--deadline", "120"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )  # fmt: skip

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    lines = done.stdout.splitlines()
    assert RATIOS.fullmatch(lines[-1]), output
    assert any(line.startswith("memory: our workers' RSS after") for line in lines), output
    assert "records: every answered request on record, complete" in lines, output
    for path in ("sms", "status", "inbound"):
        assert any(CPU_LINE.fullmatch(line) and line.startswith(path) for line in lines), output
