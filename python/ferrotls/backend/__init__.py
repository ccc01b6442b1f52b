"""Backend selection.

``FERROTLS_BACKEND`` (read once, on first use) picks the crypto backend:

* ``auto`` (default): the native Rust module if it imports, else pure Python;
* ``native``: the Rust module, ImportError with a build hint if it is missing;
* ``python``: pure Python; ``ferrotls._native`` is never imported.

Callers that want a particular backend for one connection pass it in the
config (``backend="python"``) instead of changing the environment.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache

from .interface import Backend

__all__ = [
    "Backend",
    "get_backend",
    "load_backend",
    "available_backends",
    "BACKEND_NAMES",
    "set_gil_release_threshold",
    "native_built",
    "insecure_reason",
]

BACKEND_NAMES = ("native", "python")
_BUILD_HINT = (
    "the native backend ferrotls._native is not built; install the package with "
    "`pip install .` (needs a Rust toolchain) or set FERROTLS_BACKEND=python"
)


@lru_cache(maxsize=None)
def load_backend(name: str) -> Backend:
    """Return the backend called ``name`` ("native" or "python"), cached.

    ImportError if ``name`` is "native" and the extension is not built;
    ValueError for any other name.
    """
    if name == "native":
        try:
            from . import native
        except ImportError as exc:
            raise ImportError(f"{_BUILD_HINT} ({exc})") from exc
        return native.BACKEND
    if name == "python":
        from . import python

        return python.BACKEND
    raise ValueError(f"unknown ferrotls backend {name!r}: expected 'native' or 'python'")


_FALLBACK: list[str] = []
"""Why ``auto`` fell back to the python backend (the ImportError), once it did."""


@lru_cache(maxsize=None)
def get_backend() -> Backend:
    """The process-wide default backend chosen by ``FERROTLS_BACKEND``."""
    choice = os.environ.get("FERROTLS_BACKEND", "auto").strip().lower() or "auto"
    if choice == "auto":
        try:
            return load_backend("native")
        except ImportError as exc:
            _FALLBACK.append(str(exc))
            return load_backend("python")
    if choice in BACKEND_NAMES:
        return load_backend(choice)
    raise ValueError(
        f"FERROTLS_BACKEND={choice!r} is not valid: expected 'auto', 'native' or 'python'"
    )


def available_backends() -> list[str]:
    """Names of the backends that can be loaded in this process."""
    names = []
    for name in BACKEND_NAMES:
        try:
            load_backend(name)
        except ImportError:
            continue
        names.append(name)
    return names


def resolve(backend: str | Backend | None) -> Backend:
    """A Backend from a config value: None (the default), a name, or a Backend."""
    if backend is None:
        return get_backend()
    if isinstance(backend, str):
        return load_backend(backend)
    return backend


def set_gil_release_threshold(nanoseconds: int) -> int | None:
    """Release the GIL for native calls whose estimated work is at least
    ``nanoseconds`` (default 6000: a 32 KiB AES-GCM batch, 12 KiB of
    ChaCha20-Poly1305, an X25519 exchange); returns the previous value, or None
    when the native backend is not built (the pure-Python backend never
    releases the GIL).  Process-wide.  Lower it when threads should overlap
    even short calls, raise it when hand-offs cost more than they give; see
    docs/threads.md.
    """
    try:
        from . import native
    except ImportError:
        return None
    if isinstance(nanoseconds, bool) or not isinstance(nanoseconds, int) or nanoseconds < 0:
        raise ValueError(f"nanoseconds must be an int >= 0, got {nanoseconds!r}")
    return native.set_gil_release_threshold(min(nanoseconds, 2**64 - 1))


def native_built() -> bool:
    """Whether the native module ``ferrotls._native`` is installed (found, not imported:
    under ``FERROTLS_BACKEND=python`` it stays unloaded)."""
    try:
        return importlib.util.find_spec("ferrotls._native") is not None
    except (ImportError, ValueError):
        return False


def insecure_reason(backend: Backend) -> str | None:
    """Why a connection on ``backend`` is not constant-time, or None when it is."""
    if getattr(backend, "constant_time", False):
        return None
    name = getattr(backend, "name", type(backend).__name__)
    if name != "python":
        return f"the {name} backend does not declare constant-time primitives"
    if _FALLBACK and backend is get_backend():
        return (
            "the native module is not built, so FERROTLS_BACKEND=auto fell back to the "
            "pure-Python backend, which is not constant-time"
        )
    return "the pure-Python backend is not constant-time (its AES, GHASH and X25519 leak timing)"
