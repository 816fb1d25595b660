"""What Linux's /proc says about a server's processes: its workers, their CPU time and memory."""

from __future__ import annotations

import os
import time
from pathlib import Path


def children(master: int) -> list[int]:
    """A gunicorn master's children: its workers."""
    return sorted(
        int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()
    )


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (nothing for one that has gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def resident_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))


def busy_percent() -> float:
    """The share of the machine's CPU time spent busy over the next second."""

    def times() -> list[int]:
        return [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]

    before = times()
    time.sleep(1)
    spent = [after - earlier for after, earlier in zip(times(), before, strict=True)]
    return 100 * (1 - (spent[3] + spent[4]) / sum(spent)) if sum(spent) else 0.0
