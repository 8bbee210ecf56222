"""A sweep driver killed with SIGKILL leaves no worker process behind.

Only the driver is killed (not its process group, as a shell's ``kill -9 PID`` does);
its pool's workers must end by themselves, and the multiprocessing resource tracker with
them (it ends when the last process holding its pipe is gone).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ._watch import wait_for_runs

HEAVYTAIL = Path(sys.executable).parent / "heavytail"
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads the process table from /proc"
)


def _children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_workers_and_the_resource_tracker_die_with_a_killed_driver(tmp_path: Path) -> None:
    config = tmp_path / "slow.toml"
    config.write_text(
        'experiment = "toy"\n[fixed]\nsleep = 0.5\n[grid]\nx = ' + str(list(range(40))) + "\n"
    )
    store = tmp_path / "s.sqlite"
    proc = subprocess.Popen(
        [str(HEAVYTAIL), "sweep", str(config), "--store", str(store), "--jobs", "2", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so that the group can be cleaned up if the test fails
    )
    try:
        wait_for_runs(proc, store, 2, timeout=90, poll=0.05)  # the pool is up and running
        spawned = _children(proc.pid)
        assert len(spawned) >= 3  # 2 workers and the resource tracker
        os.kill(proc.pid, signal.SIGKILL)  # the driver alone
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in spawned) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = sorted(pid for pid in spawned if _alive(pid))
        assert not survivors, f"processes of the killed sweep still running: {survivors}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
