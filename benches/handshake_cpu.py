"""CPU time per in-memory handshake, ferrotls-native beside ``ssl``, rounds alternated.

    .venv/bin/python benches/handshake_cpu.py [--rounds 20] [--calls 25]

On a shared machine the wall-clock medians of the pytest benches move by up to
2x from one row to the next, because the rows run one after another. Here each
round times ``--calls`` handshakes of ``ssl``, then the same number of
ferrotls, with ``time.process_time`` (CPU used by this process, so a
neighbour's load hardly counts), and the rows alternate round by round. It
prints the best and the median round of each, and ssl/ferrotls for both: above
1 means ferrotls is cheaper.

Rows (the classes of bench_handshake.py and bench_tls12.py, so the same
certificates, suites and verification):

* TLS 1.3 full, no tickets: ``ssl`` with num_tickets=0; ferrotls with
  ticket_count=0, its client offering TLS 1.3 only, then its default client (which
  offers TLS 1.2 too);
* TLS 1.3 full with tickets: ``ssl``'s default two, ferrotls's default;
* TLS 1.2 full (no tickets, no session cache) and TLS 1.2 resumed by session id.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_handshake import FerroPair  # noqa: E402
from bench_tls12 import Ferro12, Ssl12  # noqa: E402
from peers import SslPeer, make_pki  # noqa: E402

from ferrotls.config import TLS13  # noqa: E402


def _cpu_us(fn: Callable[[], Any], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e6


def _rows(pki: tuple[Any, Any]) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    no_tickets = FerroPair(*pki, "native")
    no_tickets.server_config = replace(no_tickets.server_config, ticket_count=0)
    tls13_only = FerroPair(*pki, "native")
    tls13_only.server_config = no_tickets.server_config
    tls13_only.client_config = replace(tls13_only.client_config, minimum_version=TLS13)
    tickets = FerroPair(*pki, "native")
    ssl0, ssl2 = SslPeer(*pki, num_tickets=0), SslPeer(*pki)

    f12, s12 = Ferro12(*pki, cache=False), Ssl12(*pki)
    f12r = Ferro12(*pki, cache=True)
    f12r.handshake()  # the session id the next rounds resume
    s12r = Ssl12(*pki)
    kept = [s12r.handshake()]  # OpenSSL drops a session whose connection is freed unclosed
    session = kept[0].client.session

    def ssl12_resumed() -> None:
        pair = s12r.handshake(session)
        kept.append(pair)
        if len(kept) > 1000:
            del kept[1:500]
        assert pair.client.session_reused

    def ferro12_resumed() -> None:
        c, _ = f12r.handshake()
        assert c.info.resumed

    return [
        ("TLS 1.3 full, no tickets, TLS 1.3-only client", ssl0.handshake, tls13_only.handshake),
        ("TLS 1.3 full, no tickets, default client", ssl0.handshake, no_tickets.handshake),
        ("TLS 1.3 full with tickets", ssl2.handshake, tickets.handshake),
        ("TLS 1.2 full", s12.handshake, f12.handshake),
        ("TLS 1.2 resumed (session id)", ssl12_resumed, ferro12_resumed),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--calls", type=int, default=25, help="handshakes per round and implementation")
    args = p.parse_args(argv)
    pki = make_pki()
    print(f"{'row':48} {'ssl µs best/med':>16} {'ferrotls µs best/med':>21} {'ssl/ferrotls best/med':>22}")
    for name, ssl_hs, ferro_hs in _rows(pki):
        ssl_hs(), ferro_hs()  # warm up
        a: list[float] = []
        b: list[float] = []
        for _ in range(args.rounds):
            a.append(_cpu_us(ssl_hs, args.calls))
            b.append(_cpu_us(ferro_hs, args.calls))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{name:48} {min(a):7.0f} / {ma:6.0f} {min(b):10.0f} / {mb:8.0f} "
              f"{min(a) / min(b):12.2f}x / {ma / mb:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
