"""``python -m benchmarks.campaign --quick``: the worker-path benchmark runs end to end.

A smoke test, not a measurement: a campaign to a few hundred patients goes out through two worker
processes with none doubled or lost (the script fails otherwise), and the last line has the shape
``make bench`` promises, never the ratios themselves.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import POSTGRES_SERVER_URL

REPO = Path(__file__).resolve().parents[2]
RATIOS = re.compile(r"campaign_vs_direct=\d+\.\d\d campaign_cpu_vs_direct=\d+\.\d\d")


@pytest.mark.postgres
@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)"
)
def test_a_quick_campaign_bench_sends_every_message_once(postgres_server: Engine) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.campaign", "--quick", "--timeout", "120",
         "--postgres-url", POSTGRES_SERVER_URL],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "0 doubled, 0 lost" in done.stdout, output
    assert RATIOS.fullmatch(done.stdout.splitlines()[-1]), output
