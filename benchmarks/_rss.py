"""Resident memory of this process, from Linux's ``/proc/self/status``."""

import time

MB = 2**20


def status(field):
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``, ...) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak():
    """Reset the peak resident set (``VmHWM``) to the current one."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_growth(fn):
    """Run ``fn()``; its result, its seconds and the growth of the peak RSS."""
    reset_peak()
    before = status("VmRSS")
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return result, seconds, status("VmHWM") - before
