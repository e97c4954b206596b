"""Machine, date and versions printed with every benchmark table."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("numpy", "scipy", "zarr", "dask", "xarray", "snakemake", "fmrnoise")


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    """Total memory [GiB] (Linux), None if unknown."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other users of the machine show up here)."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def versions() -> dict[str, str]:
    """Python and package versions."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def header() -> str:
    """Markdown lines: machine, cores, date, versions, load."""
    memory = memory_gib()
    lines = [
        f"- machine: {cpu_model()}, {os.cpu_count()} cores"
        + (f", {memory:.0f} GiB" if memory else "") + f", {platform.system()} "
        f"{platform.release()}",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        f"- load average at start (1, 5, 15 min): {load_average()}",
        f"- command: {' '.join([os.path.basename(sys.executable), *sys.argv])}",
    ]
    return "\n".join(lines)


def stamp() -> str:
    """One line with the machine, date and versions, under every table (tables are copied to
    README.md one by one)."""
    now = datetime.datetime.now().astimezone().isoformat(timespec="minutes")
    return (f"<sub>{cpu_model()}, {os.cpu_count()} cores, load {load_average()}; {now}; "
            + ", ".join(f"{k} {v}" for k, v in versions().items()) + "</sub>")
