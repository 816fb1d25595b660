"""``scripts/bench_growth.py``, tiny: it seeds, explains, serves and measures both sizes, and
every hot lookup is an index lookup."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_SERVER_URL

BENCH_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_growth.py"
SMALL, LARGE = 1000, 20_000
GROWTH_LINE = re.compile(r"growth: status=\d+\.\d\d inbound=\d+\.\d\d history=\d+\.\d\d")


def run_bench() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # This interpreter is the virtualenv's: the script finds ``ecm-comms`` beside it.
        [sys.executable, str(BENCH_SCRIPT), "--small", str(SMALL), "--large", str(LARGE),
         "--patients", "1000", "--heavy", "2", "--requests", "10", "--warmup", "2",
         "--postgres-url", POSTGRES_SERVER_URL, "--deadline", "60"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )  # fmt: skip


@pytest.mark.postgres
def test_a_tiny_growth_benchmark_measures_every_path_on_indexed_plans(
    postgres_server: Engine,  # skips (or, in CI, fails) when PostgreSQL is unreachable
) -> None:
    if make_url(POSTGRES_SERVER_URL).host != "127.0.0.1":
        pytest.skip("the benchmark contacts 127.0.0.1 only")

    done = run_bench()

    output = done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines, output
    assert GROWTH_LINE.fullmatch(lines[-1]), output
    for size in (SMALL, LARGE):
        verdict = f"[{size:,}] explain: sequential scans on growing tables: none"
        assert verdict in lines, output
        assert re.search(rf"^\[{size:,}\] history p2 +p50 .*\(10 requests\)$", done.stdout, re.M)
    assert done.returncode == 0, output
