"""Running ``ecm-comms`` (or another server) as a separate process, as a front end or operator
would: the tests' served runs and the benchmarks share these."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ECM_COMMS = str(Path(sys.executable).with_name("ecm-comms"))

# In the text log format, what marks a request's line (gunicorn's access log) among the rest.
ACCESS_LOG_MARK = " gunicorn.access: "


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any ECM_, TWILIO_ or PROMETHEUS_ setting, plus
    ``settings``."""
    ours = ("ECM_", "TWILIO_", "PROMETHEUS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return env | settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(*args: str, env: Mapping[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(  # noqa: S603 (our own console script)
        [ECM_COMMS, *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@contextmanager
def served(
    *args: str,
    port: int,
    env: Mapping[str, str],
    cwd: Path | None = None,
    program: Sequence[str] = (ECM_COMMS,),
    name: str = "server",
) -> Iterator[subprocess.Popen[str]]:
    """``<program> <args> --port <port>`` (``ecm-comms`` by default) running until the block
    ends; its output goes to ``<name>.out`` and ``<name>.err`` in ``cwd``."""
    log_dir = Path(cwd or ".")
    with (
        open(log_dir / f"{name}.out", "w+") as out,
        open(log_dir / f"{name}.err", "w+") as err,
    ):
        process = subprocess.Popen(  # noqa: S603 (our own programs)
            [*program, *args, "--port", str(port)],
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=err,
            text=True,
        )
        try:
            wait_for_port(port, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
