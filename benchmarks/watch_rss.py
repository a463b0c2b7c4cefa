"""Run a command and print its resident memory as it goes: where in a long run the peak is.

    python benchmarks/watch_rss.py python -m cservice_audit audit FILES -p pinduoduo --format json -o out.json

Prints the child's RSS every 30 seconds and whenever it has risen by 200 MB since the
highest value seen, then the peak (`ru_maxrss` of the child, from the kernel), its CPU time
and the wall time. `make bench` gives the peak only; this shows which stage holds it
(docs/performance.md, "30 M and 100 M rows").
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time


def rss_mb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    start = time.time()
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    highest, last_print = 0, 0.0
    while child.poll() is None:
        now, rss = time.time() - start, rss_mb(child.pid)
        if rss > highest + 200 or now - last_print >= 30:
            print(f"{now:8.1f} s  rss {rss:6d} MB", flush=True)
            last_print = now
        highest = max(highest, rss)
        time.sleep(1)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"exit {child.returncode}  peak {usage.ru_maxrss / 1024:,.0f} MB  CPU {usage.ru_utime + usage.ru_stime:,.1f} s"
        f"  wall {time.time() - start:,.1f} s"
    )
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
