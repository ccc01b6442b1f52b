"""FERROTLS_BACKEND selection (backend/__init__.py docstring and STYLE.md).

The variable is read once and cached, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import ferrotls
import pytest
from ferrotls.backend import available_backends, load_backend

PACKAGE_PARENT = str(Path(ferrotls.__file__).resolve().parent.parent)

PROBE = r"""
import json, os, sys
result = {}
try:
    import ferrotls
    from ferrotls.backend import get_backend
    b = get_backend()
    result["name"] = b.name
    # the choice is cached: changing the variable later has no effect
    os.environ["FERROTLS_BACKEND"] = "garbage-after-first-use"
    result["cached"] = get_backend() is b
except Exception as exc:
    result["error"] = type(exc).__name__
    result["message"] = str(exc)
result["native_imported"] = "ferrotls._native" in sys.modules
result["native_adapter_imported"] = "ferrotls.backend.native" in sys.modules
print(json.dumps(result))
"""


def native_available() -> bool:
    try:
        load_backend("native")
    except ImportError:
        return False
    return True


def probe(value: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "FERROTLS_BACKEND"}
    if value is not None:
        env["FERROTLS_BACKEND"] = value
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_python_never_imports_native() -> None:
    r = probe("python")
    assert r.get("name") == "python", r
    assert r["cached"] is True
    assert r["native_imported"] is False
    assert r["native_adapter_imported"] is False


@pytest.mark.parametrize("value", [None, "", "auto"])
def test_auto_prefers_native(value: str | None) -> None:
    r = probe(value)
    expected = "native" if native_available() else "python"
    assert r.get("name") == expected, r
    assert r["cached"] is True


def test_native_explicit() -> None:
    r = probe("native")
    if native_available():
        assert r.get("name") == "native", r
        assert r["native_imported"] is True
    else:
        assert r.get("error") in ("ImportError", "ModuleNotFoundError"), r
        # the message tells the user what to do
        assert "FERROTLS_BACKEND=python" in r["message"]


@pytest.mark.parametrize("value", ["garbage", "rust", "pure", "native,python"])
def test_invalid_value_raises_value_error(value: str) -> None:
    r = probe(value)
    assert r.get("error") == "ValueError", r
    assert "FERROTLS_BACKEND" in r["message"]


def test_load_backend_in_process() -> None:
    with pytest.raises(ValueError):
        load_backend("garbage")
    py = load_backend("python")
    assert py.name == "python"
    assert load_backend("python") is py  # cached
    names = available_backends()
    assert "python" in names
    assert ("native" in names) == native_available()
