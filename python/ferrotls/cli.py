"""The ``ferrotls`` command line (also ``python -m ferrotls``).

Subcommands:

* ``info`` -- version, active backend, and the native build's features.
* ``demo`` -- the README's main job.
* ``client HOST:PORT`` -- like ``openssl s_client`` (:mod:`ferrotls.cli_client`).
* ``server`` -- like ``openssl s_server`` (:mod:`ferrotls.cli_server`).
* ``gateway`` -- a TLS-terminating forwarder, like stunnel (:mod:`ferrotls.gateway`).
* ``bench`` -- throughput and handshakes/s beside ``ssl`` (:mod:`ferrotls.bench`).

See docs/cli.md for examples.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .backend import available_backends, get_backend, load_backend

__all__ = ["main"]


def cmd_info(args: argparse.Namespace) -> int:
    """Print the version, the active backend and what each backend reports."""
    print(f"ferrotls {__version__}")
    print(f"python {sys.version.split()[0]}")
    print(f"FERROTLS_BACKEND={os.environ.get('FERROTLS_BACKEND', 'auto')}")
    try:
        active = get_backend().name
    except (ImportError, ValueError) as exc:
        print(f"active backend: unavailable ({exc})")
        return 1
    print(f"active backend: {active}")
    names = available_backends() if os.environ.get("FERROTLS_BACKEND") != "python" else ["python"]
    for name in names:
        backend = load_backend(name)
        print(f"backend {name}:")
        for key, value in sorted(backend.features().items()):
            print(f"  {key}: {value}")
    if "native" not in names:
        print("backend native: not built (pip install . with a Rust toolchain)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job: a live demonstration."""
    from .demo import run_demo

    return run_demo(quick=args.quick)


def cmd_client(args: argparse.Namespace) -> int:
    from .cli_client import main as client_main

    return client_main(args)


def cmd_server(args: argparse.Namespace) -> int:
    from .cli_server import main as server_main

    return server_main(args)


def cmd_gateway(args: argparse.Namespace) -> int:
    from .gateway import main as gateway_main

    return gateway_main(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import main as bench_main

    try:
        return bench_main(args)
    except KeyboardInterrupt:
        print("ferrotls bench: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, as a shell reports a command killed by Ctrl-C


# What `--help` prints: plain text for people at a terminal.  The module
# docstrings are for readers of the code and the API reference.
DESCRIPTION = """\
TLS 1.3 for Python, with the record layer in Rust: a client, a test server, a
TLS-terminating gateway, benchmarks and a demonstration.

Run "ferrotls COMMAND --help" for the options of each command."""

HELP: dict[str, tuple[str, str, str]] = {
    # command: (one-line help, description, epilog with examples)
    "info": (
        "version, active backend and native build features",
        """\
Print the ferrotls and Python versions, the crypto backend in use (chosen by
the FERROTLS_BACKEND environment variable: auto, native or python) and what
each available backend was built with.""",
        "",
    ),
    "demo": (
        "run the live demonstration",
        """\
A ferrotls server on 127.0.0.1 with a throw-away certificate, a ferrotls client
and a Python ssl client connecting to it and what they negotiated; then bulk
throughput per backend, and the primitives beside pyca/cryptography.""",
        "",
    ),
    "client": (
        "connect to a TLS server (like openssl s_client)",
        """\
Connect to HOST:PORT, run the TLS 1.3 handshake and print a summary on stderr:
version, cipher suite, key-exchange group, ALPN, the server's certificate
chain, the verification result and the handshake time. Then copy stdin to the
connection and the connection to stdout. At the end of stdin the client sends
close_notify and keeps reading until the server closes.

Exit status: 0 on a clean close, 1 if the connection, the handshake or the
certificate verification fails (the reason is printed), 2 for bad options.""",
        """\
examples:
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | ferrotls client 127.0.0.1:8443 --ca ca.pem
  ferrotls client localhost:8443 --ca ca.pem --alpn h2,http/1.1
  ferrotls client 127.0.0.1:8443 --insecure      (no verification: testing only)""",
    ),
    "server": (
        "a TLS test server: HTTP page or echo (like openssl s_server)",
        """\
A TLS 1.3 test server. By default it answers every HTTP request with a page
describing the connection (protocol, cipher suite, group, ALPN, SNI, client
certificate); with --echo it sends back every byte it receives until the
client's close_notify.

Without --cert it makes a throw-away CA and certificate for localhost and
127.0.0.1, prints the certificate's SHA-256 fingerprint and, with
--write-ca FILE, writes the CA certificate that clients must trust.

It serves many clients at once; a client whose handshake fails gets an alert
and a line in the log, and the others are not affected. It prints
"listening on HOST:PORT" once ready. Ctrl-C or SIGTERM closes the open
connections and exits 0.""",
        """\
examples:
  ferrotls server --port 8443 --write-ca ca.pem
  ferrotls server --port 8443 --echo --cert server.pem --key server.key
  ferrotls server --port 8443 --cert server.pem --key server.key --ca clients-ca.pem""",
    ),
    "gateway": (
        "TLS-terminating forwarder (like stunnel)",
        """\
Forward connections between TLS and plain TCP.

By default (server mode) it accepts TLS on --accept and forwards the plaintext
to --connect. With --client it accepts plain TCP on --accept and opens TLS
connections to the server at --connect (--ca, --servername, --insecure,
--cert and --key then apply to that connection).

Each connection ends with one log line on stderr: the peer, its identity,
bytes each way, duration and why it closed. A client that does not finish its
handshake within --handshake-timeout seconds is dropped; if the backend cannot
be reached or goes away, the TLS side is closed cleanly. Ctrl-C or SIGTERM
closes the open connections and exits 0.""",
        """\
examples:
  ferrotls gateway --accept 127.0.0.1:8443 --connect 127.0.0.1:8080 --cert server.pem --key server.key
  ferrotls gateway --client --accept 127.0.0.1:8080 --connect localhost:8443 --ca ca.pem""",
    ),
    "bench": (
        "throughput and handshakes/s vs the ssl module",
        """\
Measure ferrotls (native and python backends) beside Python's ssl module
(OpenSSL) on this machine:

  bulk        MB/s per cipher suite and write size
  small       64-byte messages per second
  handshakes  full handshakes per second (X25519, an ECDSA P-256 certificate,
              chain verification)

By default everything runs in memory in one thread. --sockets measures over
127.0.0.1 sockets instead, with the server in a thread: bulk MB/s, request and
reply round trips, one-way messages and connections per second. --modes
compares handshake kinds (bytes on the wire, round trips, handshakes/s).

Where the ssl module cannot choose a TLS 1.3 cipher suite, its rows use
OpenSSL's default suite and say so. Ctrl-C stops the run (exit status 130).""",
        """\
examples:
  ferrotls bench --quick
  ferrotls bench --sockets --backend native
  ferrotls bench --chart bench.png      (needs matplotlib)""",
    ),
}


def _subparser(sub: Any, name: str) -> argparse.ArgumentParser:
    summary, description, epilog = HELP[name]
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=description, epilog=epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``ferrotls`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ferrotls", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ferrotls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = _subparser(sub, "info")
    p.set_defaults(func=cmd_info)
    p = _subparser(sub, "demo")
    p.add_argument("--quick", action="store_true", help="shorter measurements")
    p.set_defaults(func=cmd_demo)

    from . import bench, cli_client, cli_server, gateway

    p = _subparser(sub, "client")
    cli_client.add_arguments(p)
    p.set_defaults(func=cmd_client)
    p = _subparser(sub, "server")
    cli_server.add_arguments(p)
    p.set_defaults(func=cmd_server)
    p = _subparser(sub, "gateway")
    gateway.add_arguments(p)
    p.set_defaults(func=cmd_gateway)
    p = _subparser(sub, "bench")
    bench.add_arguments(p)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferrotls`` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
