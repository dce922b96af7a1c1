"""Memory and CPU of a process and its descendants (a server, and the engine's process
it starts: ``aggregator.store.engine_process``), for bench/small_server.py."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Memory", "Sampler", "family", "quiet", "rest"]


def mb(kilobytes: int) -> str:
    return f"{kilobytes * 1024 / 1e6:6.0f}"


def family(pid: int) -> list[int]:
    """``pid`` and its descendants: the server, and the engine's process when it runs one."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.extend(family(int(child)))
    return found


@dataclass
class Memory:
    """Of a process and its descendants, from /proc/<pid>/status, in kB (the file-backed
    pages of a library two of them map count twice)."""

    anon: int = 0
    file: int = 0
    total: int = 0
    processes: int = 1

    @classmethod
    def of(cls, pid: int) -> Memory:
        fields = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
        pids = family(pid)
        for each in pids:
            try:
                status = Path(f"/proc/{each}/status").read_text()
            except OSError:
                continue  # ended meanwhile
            for line in status.splitlines():
                name, _, value = line.partition(":")
                if name in fields:
                    fields[name] += int(value.split()[0])
        return cls(fields["RssAnon"], fields["RssFile"], fields["VmRSS"], len(pids))

    def __str__(self) -> str:
        engine = "the engine's process running" if self.processes > 1 else "no engine process"
        return (
            f"private {mb(self.anon)} MB, file-backed {mb(self.file)} MB, "
            f"resident {mb(self.total)} MB ({engine})"
        )


@dataclass
class Sampler:
    pid: int
    peak: Memory = field(default_factory=Memory)
    running: bool = True

    def run(self) -> None:
        while self.running:
            try:
                now = Memory.of(self.pid)
            except (OSError, KeyError):
                return
            self.peak = Memory(
                max(self.peak.anon, now.anon),
                max(self.peak.file, now.file),
                max(self.peak.total, now.total),
                max(self.peak.processes, now.processes),
            )
            time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """Of ``pid`` and its descendants alive now."""
    used = 0
    for each in family(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used += int(fields[11]) + int(fields[12])
    return used / os.sysconf("SC_CLK_TCK")


def quiet(process: subprocess.Popen[bytes], seconds: float, limit: float = 1800) -> float:
    """Wait until ``process`` has used under 2% of a core for ``seconds``; how long it took."""
    started = time.monotonic()
    samples = [(started, cpu_seconds(process.pid))]
    while time.monotonic() - started < limit and process.poll() is None:
        time.sleep(1)
        samples.append((time.monotonic(), cpu_seconds(process.pid)))
        earlier = [sample for sample in samples if sample[0] <= samples[-1][0] - seconds]
        if earlier:
            (then, used_then), (now, used_now) = earlier[-1], samples[-1]
            if (used_now - used_then) / (now - then) < 0.02:
                break
    return time.monotonic() - started


def rest(pid: int, engine: str, limit: float = 300) -> str:
    """With ``engine_idle_seconds`` in the profile, wait for the engine's process to stop
    (nothing asked of it for that long); how long that took, for the report."""
    if "engine_idle_seconds" not in engine:
        return "the engine in the server's process"
    started = time.monotonic()
    while len(family(pid)) > 1 and time.monotonic() - started < limit:
        time.sleep(1)
    waited = time.monotonic() - started
    return f"the engine's process {'stopped' if len(family(pid)) == 1 else 'STILL RUNNING'} {waited:.0f} s later"
