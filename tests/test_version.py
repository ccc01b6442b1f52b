"""ferrotls.__version__ must equal the version in Cargo.toml (one release number)."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import ferrotls

ROOT = Path(__file__).resolve().parent.parent


def test_version_matches_cargo_toml() -> None:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))
    assert ferrotls.__version__ == cargo["package"]["version"]


def test_native_version_matches_when_built() -> None:
    import pytest

    try:
        native_module = importlib.import_module("ferrotls._native")
    except ImportError:
        from utils import env_flag

        if env_flag("FERROTLS_REQUIRE_NATIVE"):
            pytest.fail("FERROTLS_REQUIRE_NATIVE=1 but ferrotls._native is not built")
        pytest.skip("native backend not built")
    assert native_module.__version__ == ferrotls.__version__
