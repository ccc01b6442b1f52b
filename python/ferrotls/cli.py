"""The ``ferrotls`` command line (also ``python -m ferrotls``).

Subcommands:

* ``info`` -- version, active backend, and the native build's features.
* ``demo`` -- the README's main job.
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferrotls", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"ferrotls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="version, active backend and native build features")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("demo", help="run the live demonstration")
    p.add_argument("--quick", action="store_true", help="shorter measurements")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferrotls`` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
