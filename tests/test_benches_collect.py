"""Every benchmark module in benches/ still imports and collects.

`make bench` is not part of CI; without this a bench that imports a moved or
private name breaks silently (benches/bench_asyncio_ssl.py did, after the apps
left the library).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benches_collect() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "benches", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "error" not in proc.stdout.lower().split("\n")[-2], proc.stdout[-2000:]
    # one of every bench file is collected
    for path in sorted((ROOT / "benches").glob("bench_*.py")):
        assert f"benches/{path.name}::" in proc.stdout, path.name
