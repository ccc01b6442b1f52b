"""A bounded run of each atheris harness (fuzz/python/) over its checked-in corpus.

Skipped when atheris is not installed (``pip install -e '.[fuzz]'``).  Each harness
gets a few seconds / ``FUZZ_SMOKE_RUNS`` executions; ``make fuzz`` runs them longer.
A crash fails the test and leaves the input in the pytest tmp directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("deframer", "datagram", "handshake", "extensions", "connection", "dtls_connection", "dtls12_connection")


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_harness_smoke(target: str, tmp_path: Path) -> None:
    runs = os.environ.get("FUZZ_SMOKE_RUNS", "100")
    corpus = ROOT / "fuzz" / "corpus" / target
    assert any(corpus.iterdir()), f"no seeds in {corpus}: run fuzz/make_corpus.py"
    new = tmp_path / "new"
    new.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / "python" / f"fuzz_{target}.py"),
            f"-runs={runs}",
            "-max_total_time=3",
            "-max_len=2048",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
            str(new),
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Done" in proc.stderr or "DONE" in proc.stderr, proc.stderr[-2000:]
