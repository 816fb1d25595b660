"""``python -m benchmarks.reports --quick``: the reports benchmark runs end to end.

A smoke test, not a measurement: both reports answer for a seeded month, the outreach detail
has exactly the rows COPY has (the script fails otherwise), and the last line has the shape
``make bench`` promises, never the ratios themselves.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import POSTGRES_SERVER_URL

REPO = Path(__file__).resolve().parents[2]
RATIOS = re.compile(r"prtf_vs_copy=\d+\.\d\d attempts_vs_copy=\d+\.\d\d attempts_rss=[+-]\d+\.\d%")


@pytest.mark.postgres
def test_a_quick_reports_bench_prints_both_ratios_last(postgres_server: Engine) -> None:
    done = subprocess.run(
        # This interpreter is the virtualenv's: the script finds ``ecm-comms`` beside it.
        [sys.executable, "-m", "benchmarks.reports", "--quick", "--postgres-url",
         POSTGRES_SERVER_URL],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert RATIOS.fullmatch(done.stdout.splitlines()[-1]), output
