"""Shared atheris entry point: ``python fuzz/python/fuzz_<target>.py [libFuzzer flags] [corpus dirs]``.

The targets live in ``tests/fuzz_targets.py`` (the hypothesis tests run the same
functions).  ferrotls is instrumented for coverage; an exception other than
ProtocolError/AlertReceived/TruncationError (or a failed invariant assertion)
is a crash, and libFuzzer writes the input to ``crash-<sha1>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import atheris


def run(name: str) -> None:
    with atheris.instrument_imports(include=["ferrotls", "fuzz_targets"]):
        import fuzz_targets

    target = fuzz_targets.TARGETS[name]
    if name == "connection":
        fuzz_targets.transcript()  # record the handshake before fuzzing starts
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
