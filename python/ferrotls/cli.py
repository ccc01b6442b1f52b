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

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferrotls", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"ferrotls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="version, active backend and native build features")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("demo", help="run the live demonstration")
    p.add_argument("--quick", action="store_true", help="shorter measurements")
    p.set_defaults(func=cmd_demo)

    from . import bench, cli_client, cli_server, gateway

    p = sub.add_parser("client", help="connect to a TLS server (like openssl s_client)",
                       description=cli_client.__doc__, formatter_class=_Raw)
    cli_client.add_arguments(p)
    p.set_defaults(func=cmd_client)
    p = sub.add_parser("server", help="a TLS test server: HTTP page or echo (like openssl s_server)",
                       description=cli_server.__doc__, formatter_class=_Raw)
    cli_server.add_arguments(p)
    p.set_defaults(func=cmd_server)
    p = sub.add_parser("gateway", help="TLS-terminating forwarder (like stunnel)",
                       description=gateway.__doc__, formatter_class=_Raw)
    gateway.add_arguments(p)
    p.set_defaults(func=cmd_gateway)
    p = sub.add_parser("bench", help="throughput and handshakes/s vs the ssl module",
                       description=bench.__doc__, formatter_class=_Raw)
    bench.add_arguments(p)
    p.set_defaults(func=cmd_bench)
    return parser


_Raw = argparse.RawDescriptionHelpFormatter


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferrotls`` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
