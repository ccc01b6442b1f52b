"""How much Redis memory ferrotls.shared needs: bytes per ticket key, per 0-RTT
strike entry (the figures in docs/deployment.md).

    .venv/bin/python benches/redis_sizing.py [--entries 100000]

Starts its own redis-server (Debian package) on a free 127.0.0.1 port with no
persistence, fills it through the real RedisTicketKeyRing and RedisReplayStore,
and reports ``MEMORY USAGE`` of each key plus the growth of ``used_memory``
(which also counts Redis's per-key dictionary and expiry entries).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))

from ferrotls.shared import RedisReplayStore, RedisTicketKeyRing  # noqa: E402
from redis_helpers import RedisServer, redis_binary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000, help="strike entries to add")
    args = parser.parse_args()
    binary = redis_binary()
    if binary is None:
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(binary, Path(tmp))
        server.start()
        try:
            r = server.client()
            version = r.info("server")["redis_version"]
            print(f"redis-server {version}, MEMORY USAGE ... SAMPLES 0\n")
            now = 1_800_000_000.0
            clock = [now]
            ring = RedisTicketKeyRing(
                server.url, bytes(32), background=False, timeout=1.0, activation_delay=1.0,
                clock=lambda: clock[0],
            )
            print("ticket key ring (one Redis hash, field = key id, value = 73-byte sealed record)")
            sizes = []
            for n in range(1, 6):
                if n > 1:
                    ring.rotate()
                sizes.append(r.memory_usage(ring.ring_key, samples=0))
                print(f"  {n} keys: {sizes[-1]} bytes")
            per_key = (sizes[-1] - sizes[0]) / (len(sizes) - 1)
            print(f"  = {sizes[0]} bytes for the first key, {per_key:.0f} per further key\n")

            store = RedisReplayStore(server.url, timeout=1.0)
            base = r.info("memory")["used_memory"]
            for i in range(args.entries):
                key = hashlib.sha256(i.to_bytes(8, "big")).digest()
                assert store.check_and_add(key, now + 7200, now)
            grown = r.info("memory")["used_memory"] - base
            one = store.redis_key(hashlib.sha256((0).to_bytes(8, "big")).digest())
            print(f"0-RTT strike entries (key {len(one)} bytes, value '1', PX expiry)")
            print(f"  MEMORY USAGE of one entry: {r.memory_usage(one, samples=0)} bytes")
            print(f"  used_memory growth over {args.entries} entries: {grown} bytes"
                  f" = {grown / args.entries:.1f} bytes per entry")
            ring.conn.close()
            store.conn.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
