"""``ferrotls info``: the version, the active backend and what each backend was built with."""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..backend import available_backends, get_backend, insecure_reason, load_backend, native_built

__all__ = ["add_arguments", "main"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``ferrotls info`` takes no options."""


def main(args: argparse.Namespace) -> int:
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
        if native_built():
            print("backend native: built, not loaded (FERROTLS_BACKEND=python)")
        else:
            print("backend native: not built (pip install . with a Rust toolchain)")
    reason = insecure_reason(get_backend())
    if reason is not None:
        print(f"warning: {reason}")
    return 0
