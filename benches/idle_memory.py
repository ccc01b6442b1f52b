"""Bytes held by idle established connection pairs (run as a script; prints JSON).

    .venv/bin/python benches/idle_memory.py [pairs] [backend]

Builds ``pairs`` established ferrotls client/server pairs (AES-128-GCM, X25519,
one handshake each, events drained, no data pending) and reports, per pair:
the tracemalloc delta (Python-level allocations) and the RSS delta (everything,
including the Rust RecordProtectors and aws-lc/ring state).  Certificate chains,
configs and keys are shared between pairs, as in a server.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    backend = sys.argv[2] if len(sys.argv) > 2 else "native"
    import throughput

    throughput.ferro_pair(backend, "aes128gcm")  # warm: imports, caches, config objects
    gc.collect()
    keep = []
    make = throughput.ferro_pair
    # reuse one config pair: ferro_pair builds configs each time; build them once here
    from ferrotls.connection import ClientConnection, ServerConnection, pump

    c0, s0 = make(backend, "aes128gcm")
    cc, sc = c0.config, s0.config

    def pair() -> tuple[object, object]:
        c, s = ClientConnection(cc, throughput.HOST), ServerConnection(sc)
        pump(c, s)
        c.events()
        s.events()
        return c, s

    for _ in range(20):
        pair()
    gc.collect()
    r0 = rss()
    tracemalloc.start()
    t0 = tracemalloc.get_traced_memory()[0]
    for _ in range(pairs):
        keep.append(pair())
    gc.collect()
    t1 = tracemalloc.get_traced_memory()[0]
    snap = tracemalloc.take_snapshot()
    tracemalloc.stop()
    r1 = rss()
    top = [
        (str(s.traceback[0]), s.size // pairs)
        for s in snap.statistics("lineno")[:12]
    ]
    print(
        json.dumps(
            {
                "pairs": pairs,
                "backend": backend,
                "tracemalloc_per_pair": (t1 - t0) / pairs,
                "rss_per_pair": (r1 - r0) / pairs,
                "top": top,
            }
        )
    )


if __name__ == "__main__":
    main()
