"""README.md tells the truth: its Python examples run, and it links nowhere outside the repository.

Every ```python block is run as its own process against ``ferrotls server
--port 0 --write-ca ca.pem`` on 127.0.0.1 (the README's examples use port 8443;
the test substitutes the real port), in a directory holding that ``ca.pem``.
A block that never returns (the old sans-I/O loop did not stop at the server's
close_notify) fails on the timeout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from local_server import ferrotls_server

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK_TIMEOUT = 60.0

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.I)


def python_blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def test_readme_has_the_examples() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert any("ClientConnection" in b and "ConnectionClosed" in b for b in blocks)
    assert all("8443" in b for b in blocks), "every example talks to the README's local server"


@pytest.mark.wheel_smoke
@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index: int, tmp_path: Path) -> None:
    code = python_blocks()[index]
    with ferrotls_server("--write-ca", "ca.pem", cwd=tmp_path) as port:
        assert (tmp_path / "ca.pem").is_file()
        proc = subprocess.run(
            [sys.executable, "-c", code.replace("8443", str(port))],
            cwd=tmp_path, capture_output=True, text=True, timeout=BLOCK_TIMEOUT, check=False,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    responses = proc.stdout.count("HTTP/1.0 200 OK")
    assert responses == code.count("GET / HTTP/1.0"), proc.stdout
    assert "Protocol           : TLSv1.3" in proc.stdout
    assert "SNI                : localhost" in proc.stdout


def test_readme_links_stay_in_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert not _URL.findall(text), "README links outside the repository"
    for target in _MD_LINK.findall(text):
        path = target.split("#", 1)[0]
        if path:
            assert (ROOT / path).exists(), f"README links to {target}, which is not in the repository"


def test_readme_does_not_claim_stdlib_only_package() -> None:
    text = README.read_text(encoding="utf-8")
    assert "`cryptography`" in text
    # the protocol versions it speaks, and what it refuses to speak
    assert "TLS 1.2 (RFC 5246)" in text and "DTLS 1.3 (RFC 9147)" in text
    assert "No legacy cryptography" in text
    # "stdlib only" may describe the pure-Python backend, never the package
    for line in text.splitlines():
        if "stdlib only" in line or "stdlib-only" in line:
            assert "backend" in line or "record layer" in line, line
