"""Fixtures shared by the test suite.

``backend`` runs a test once per crypto backend ("native", "python").  A native
backend that is not built skips, unless ``FERROTLS_REQUIRE_NATIVE=1`` (CI), which
turns the skip into a failure.  The python backend is pure Python and always
expected to load: if it does not, its tests fail.

Hypothesis profiles: ``HYPOTHESIS_PROFILE=ci`` (CI, more examples) or ``dev``
(default).  Deadlines are off: the pure-Python AES runs at a few MB/s, so timing
varies a lot.  ``utils.hypothesis_settings(...)`` scales example counts down for
the python backend so the whole suite stays fast.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

_ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("ferrotls") is None:  # not installed: use the source tree
    sys.path.insert(0, str(_ROOT / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import utils`, `vectors`

import ferrotls.backend as backend_module
from utils import env_flag

_COMMON: dict[str, Any] = {
    "deadline": None,
    # backends are stateless cached singletons, so function-scoped fixtures are safe
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=100, derandomize=False, **_COMMON)
settings.register_profile("dev", max_examples=40, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _load(name: str) -> Any:
    try:
        return backend_module.load_backend(name)
    except ImportError as exc:
        if name == "native" and not env_flag("FERROTLS_REQUIRE_NATIVE"):
            pytest.skip(f"native backend not built: {exc}")
        pytest.fail(f"{name} backend failed to load: {exc}", pytrace=False)


@pytest.fixture(params=["native", "python"])
def backend(request: pytest.FixtureRequest) -> Any:
    """Each backend in turn (see module docstring for skip rules)."""
    return _load(request.param)


@pytest.fixture
def native_backend() -> Any:
    return _load("native")


@pytest.fixture
def python_backend() -> Any:
    return _load("python")


@pytest.fixture
def both_backends(native_backend: Any, python_backend: Any) -> tuple[Any, Any]:
    """(native, python) for differential tests; skips like ``native_backend``."""
    return native_backend, python_backend
