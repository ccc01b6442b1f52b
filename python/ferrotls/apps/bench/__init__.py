"""``ferrotls bench``: ferrotls (native and python backends) beside Python's ``ssl``.

One module per way of measuring, and one for the output:

* :mod:`.memory` (the default): everything in memory in one thread -- bulk MB/s
  per cipher suite and write size, 64-byte messages/s, full handshakes/s;
* :mod:`.sockets` (``--sockets``): through 127.0.0.1 sockets, a server in a
  thread, blocking and asyncio, beside ``ssl.SSLSocket`` and asyncio ``ssl=``;
  its :class:`~.sockets.SocketBench` also drives ``benches/bench_sockets.py``;
* :mod:`.modes` (``--modes``): bytes on the wire, round trips and handshakes/s
  per kind of handshake;
* :mod:`.report`: the table, the chart (``--chart FILE.png``, with matplotlib
  when it is installed; it is not a dependency) and the progress line.

``ssl`` (OpenSSL) is the reference in every row.  Python 3.11's ``ssl`` cannot
pick TLS 1.3 suites, so the context's ``SSL_CTX_set_ciphersuites`` is called
through ctypes; when that is not possible the ``ssl`` rows use OpenSSL's
default suite and say so.
"""

from __future__ import annotations

import argparse
import ssl
import sys

from ...backend import available_backends

__all__ = ["HOST", "add_arguments", "main"]

HOST = "bench.ferrotls.test"
"""The server name of every bench certificate and connection."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrotls bench``."""
    p.add_argument("--quick", action="store_true", help="fewer and shorter measurements")
    p.add_argument("--backend", choices=("native", "python"), action="append",
                   help="only this ferrotls backend (repeatable; default: every available one)")
    p.add_argument("--chart", metavar="FILE.png", help="also draw a chart (needs matplotlib)")
    p.add_argument("--modes", action="store_true",
                   help="bytes on the wire, round trips and handshakes/s per handshake mode "
                        "(full RSA/ECDSA/Ed25519 +-compression, HRR, resumed, 0-RTT, PSK)")
    p.add_argument("--sockets", action="store_true",
                   help="through 127.0.0.1 sockets instead (blocking TLSSocket and asyncio streams "
                        "vs ssl.SSLSocket and asyncio ssl=; server in a thread)")


def main(args: argparse.Namespace) -> int:
    """``ferrotls bench``; Ctrl-C prints one line and returns 130, as a shell reports it."""
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("ferrotls bench: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT


def _run(args: argparse.Namespace) -> int:
    available = available_backends()
    backends = args.backend or available
    missing = [b for b in backends if b not in available]
    if missing:
        print(f"ferrotls bench: backend not available: {', '.join(missing)}", file=sys.stderr)
        return 2
    if getattr(args, "modes", False):
        from .modes import print_mode_table, run_mode_bench

        print(f"ferrotls bench --modes: backends {', '.join(backends)} vs ssl "
              f"({ssl.OPENSSL_VERSION}); in memory, one thread", file=sys.stderr, flush=True)
        print_mode_table(run_mode_bench(args.quick, backends))
        from .dtls_economy import print_dtls_economy, run_dtls_economy

        print_dtls_economy(run_dtls_economy(backends[0], 20 if args.quick else 100))
        return 0
    from .memory import run_bench
    from .report import print_table, write_chart
    from .sockets import run_socket_bench

    where = ("127.0.0.1 sockets, server thread, AES-128-GCM" if args.sockets
             else "in memory, one thread")
    print(f"ferrotls bench: ferrotls backends {', '.join(backends)} vs ssl "
          f"({ssl.OPENSSL_VERSION}); {where}", file=sys.stderr, flush=True)
    results = (run_socket_bench if args.sockets else run_bench)(args.quick, backends)
    print_table(results)
    if args.chart:
        if write_chart(results, args.chart):
            print(f"chart written to {args.chart}")
        else:
            print("chart skipped: matplotlib is not installed (pip install matplotlib)")
    return 0
