"""Two threads vs one at several GIL-release thresholds (docs/threads.md).

    .venv/bin/python benches/gil_threshold.py [SUITE] [WRITE_BYTES] [THRESHOLD_NS ...]

Each thread pumps its own in-memory client/server pair (16 KiB writes by
default).  One-thread and two-thread rounds alternate for every threshold, eight
times, and the best of each is kept, so a noisy neighbour on a shared VM hurts
every setting alike.  Defaults: aes128gcm, 16384, thresholds 0 (always release),
6000 (the default rule) and 10**12 (never).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ferrotls._native as native  # noqa: E402
from throughput import ferro_bulk, ferro_pair, in_threads  # noqa: E402


def main() -> None:
    suite = sys.argv[1] if len(sys.argv) > 1 else "aes128gcm"
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 16384
    thresholds = [int(x) for x in sys.argv[3:]] or [0, 6000, 10**12]
    chunk = b"\0" * size
    runs = [ferro_bulk(*ferro_pair("native", suite), chunk=chunk) for _ in range(2)]
    n = max(10, 60_000_000 // size)

    def timed(workers: list[Callable[[int], int]]) -> float:
        seconds, nbytes = in_threads(workers, n)
        return nbytes / seconds

    old = native.gil_release_threshold()
    best: dict[int, list[float]] = {t: [0.0, 0.0] for t in thresholds}
    try:
        for _ in range(8):
            for thr in thresholds:
                native.set_gil_release_threshold(thr)
                b = best[thr]
                b[0] = max(b[0], timed(runs[:1]))
                b[1] = max(b[1], timed(runs))
    finally:
        native.set_gil_release_threshold(old)
    for thr, (one, two) in best.items():
        print(f"{suite} {size // 1024} KiB writes, threshold {thr} ns: "
              f"one thread {one / 1e6:,.0f} MB/s, two threads {two / 1e6:,.0f} MB/s = {two / one:.2f}x")


if __name__ == "__main__":
    main()
