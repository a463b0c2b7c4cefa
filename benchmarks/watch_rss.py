"""Run a command and print its memory as it goes, beside its progress: where in a long run the
peak is.

    python benchmarks/watch_rss.py python -m cservice_audit audit FILES -p pinduoduo --format json -o out.json

The child's standard error is a pseudo-terminal, so the audit shows its progress (it does only
on a terminal: "spilling to disk", "computing metrics", "auditing 店铺2 2026-11-21 ..");
each new progress line is printed with the elapsed time, and so is every rise of the child's
high-water mark (VmHWM, the kernel's peak RSS) by 200 MB, with the progress line it happened
under, and RSS every 60 seconds. At the end: the peak (`ru_maxrss` of the child), CPU and wall
time. `make bench` gives the peak only; this shows which step holds it (docs/performance.md,
"30 M and 100 M rows": it found the two steps that took 100 M rows to 8 GB).
"""

from __future__ import annotations

import os
import pty
import re
import resource
import subprocess
import sys
import threading
import time

# Colours, cursor moves, the spinner and the elapsed-time column of the progress display.
DECORATION = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\u2800-\u28ff]|\d+:\d\d:\d\d")


def memory_mb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid`, in MB (empty once it has ended)."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("VmRSS", "VmHWM")):
                    found[line.split(":")[0]] = int(line.split()[1]) // 1024
    except OSError:
        pass
    return found


def follow(fd: int, start: float, latest: list[str]) -> None:
    """Print each new progress line the child writes to the pseudo-terminal `fd`."""
    pending = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # the child has closed its end
            return
        if not data:
            return
        lines = (pending + data).replace(b"\r", b"\n").split(b"\n")
        pending = lines.pop()
        for raw in lines:
            text = DECORATION.sub("", raw.decode("utf-8", "replace")).strip()
            if text and text != latest[0]:
                latest[0] = text
                print(f"{time.time() - start:8.1f} s  | {text[:110]}", flush=True)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    start = time.time()
    controller, terminal = pty.openpty()
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    latest = [""]
    threading.Thread(target=follow, args=(controller, start, latest), daemon=True).start()
    shown_peak, last_print = 0, 0.0
    while child.poll() is None:
        now, memory = time.time() - start, memory_mb(child.pid)
        peak, rss = memory.get("VmHWM", 0), memory.get("VmRSS", 0)
        if peak > shown_peak + 200 or now - last_print >= 60:
            print(f"{now:8.1f} s  peak {peak:6d} MB  rss {rss:6d} MB  [{latest[0][:70]}]", flush=True)
            shown_peak, last_print = max(shown_peak, peak), now
        time.sleep(0.5)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"exit {child.returncode}  peak {usage.ru_maxrss / 1024:,.0f} MB  CPU {usage.ru_utime + usage.ru_stime:,.1f} s"
        f"  wall {time.time() - start:,.1f} s"
    )
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
