"""``inject_into_ssl()``: make ferrotls the ``ssl`` module's TLS for the whole process.

After one call, code that builds its contexts with ``ssl.create_default_context()``
or ``ssl.SSLContext(...)`` gets a :class:`ferrotls.Context`: ``http.client``,
``urllib.request``, asyncio (``ssl=True``, ``start_tls``), uvloop, urllib3 and
requests, httpx and anyio, aiohttp and websockets all then run on ferrotls::

    import ferrotls
    ferrotls.inject_into_ssl()
    ...
    ferrotls.extract_from_ssl()     # back to OpenSSL

    with ferrotls.injected():        # the same for a block (tests)
        ...

What is replaced (and put back by :func:`extract_from_ssl`):

* ``ssl.SSLContext`` -- ssl's own ``create_default_context`` and
  ``_create_unverified_context`` look it up at call time, so they make
  ferrotls contexts too;
* ``urllib3.util.ssl_.SSLContext`` and ``urllib3.util.SSLContext`` (urllib3
  keeps its own reference), when urllib3 is imported;
* the contexts aiohttp and requests create once at import time
  (``aiohttp.connector._SSL_CONTEXT_VERIFIED`` / ``_UNVERIFIED``,
  ``requests.adapters._preloaded_ssl_context`` where it exists), remade.

Contexts made *before* the call stay OpenSSL ones, and keep working: the
setters of ``ssl.SSLContext`` that look the class up by name
(``options``, ``verify_mode``, ``verify_flags``, ``minimum_version``,
``maximum_version``) are pointed at the C implementation meanwhile, so they do
not recurse into ferrotls's class (truststore's RecursionError with requests).

Injection is process-wide and not thread-safe against other code that patches
``ssl``; call it once at start-up (or use :func:`injected` in a test).
"""

from __future__ import annotations

import contextlib
import importlib
import ssl
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from .context import Context, OPENSSL_CONTEXT_BASE, STDLIB_SSLCONTEXT

__all__ = ["InjectedSSLContext", "inject_into_ssl", "extract_from_ssl", "injected", "is_injected"]

_LOCK = threading.RLock()
_SAVED: list[tuple[Any, str, Any]] = []
"""(object, attribute, original value) for everything inject_into_ssl replaced."""

#: ssl.SSLContext setters written as ``super(SSLContext, SSLContext).x.__set__``.
_NAME_BOUND_SETTERS = ("options", "verify_mode", "verify_flags", "minimum_version", "maximum_version")


def _replace(obj: Any, name: str, value: Any) -> None:
    _SAVED.append((obj, name, obj.__dict__.get(name, getattr(obj, name, None))))
    setattr(obj, name, value)


def _c_setter(name: str) -> property:
    original: property = STDLIB_SSLCONTEXT.__dict__[name]
    c_descriptor = getattr(OPENSSL_CONTEXT_BASE, name)

    def fset(self: Any, value: Any) -> None:
        c_descriptor.__set__(self, value)

    return property(original.fget, fset, original.fdel, original.__doc__)


class _SSLContextType(type):
    """Makes ``isinstance(x, ssl.SSLContext)`` true, while injected, for the OpenSSL
    contexts made before too (asyncio's start_tls checks it at call time)."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, STDLIB_SSLCONTEXT)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, STDLIB_SSLCONTEXT)


class InjectedSSLContext(Context, metaclass=_SSLContextType):
    """What ``ssl.SSLContext`` is while injected: a :class:`ferrotls.Context` that
    ``isinstance`` checks equate with the original class.  Without a protocol it is
    ``PROTOCOL_TLS`` (either side), with ssl's DeprecationWarning."""

    def __new__(cls, protocol: Any = None, *args: Any, **kwargs: Any) -> InjectedSSLContext:
        if protocol is None and "purpose" not in kwargs:
            warnings.warn("ssl.SSLContext() without protocol argument is deprecated.",
                          DeprecationWarning, stacklevel=2)
            protocol = ssl.PROTOCOL_TLS
        self: InjectedSSLContext = Context.__new__(cls, protocol, *args, **kwargs)  # type: ignore[assignment]
        return self

    def __init__(self, protocol: Any = None, *args: Any, **kwargs: Any) -> None:
        if protocol is None and "purpose" not in kwargs:
            protocol = ssl.PROTOCOL_TLS
        super().__init__(protocol, *args, **kwargs)


def is_injected() -> bool:
    """Whether ``ssl.SSLContext`` is ferrotls's now."""
    return ssl.SSLContext is InjectedSSLContext


def inject_into_ssl() -> None:
    """Replace ``ssl.SSLContext`` (and the copies urllib3, aiohttp and requests keep)
    with :class:`ferrotls.Context`.  Calling it again does nothing."""
    with _LOCK:
        if _SAVED:
            return
        for name in _NAME_BOUND_SETTERS:
            if name in STDLIB_SSLCONTEXT.__dict__:
                _replace(STDLIB_SSLCONTEXT, name, _c_setter(name))
        _replace(ssl, "SSLContext", InjectedSSLContext)
        _inject_urllib3()
        _inject_requests()
        _inject_aiohttp()


def _loaded(name: str) -> Any:
    """The module if it is imported already (injection never imports a library)."""
    return sys.modules.get(name)


def _inject_urllib3() -> None:
    for name in ("urllib3.util.ssl_", "urllib3.util"):
        module = _loaded(name)
        if module is not None and getattr(module, "SSLContext", None) is STDLIB_SSLCONTEXT:
            _replace(module, "SSLContext", InjectedSSLContext)


def _inject_requests() -> None:
    adapters = _loaded("requests.adapters")
    if adapters is None or getattr(adapters, "_preloaded_ssl_context", None) is None:
        return
    util = importlib.import_module("urllib3.util.ssl_")
    context = util.create_urllib3_context()
    utils = importlib.import_module("requests.utils")
    context.load_verify_locations(utils.extract_zipped_paths(utils.DEFAULT_CA_BUNDLE_PATH))
    _replace(adapters, "_preloaded_ssl_context", context)


def _inject_aiohttp() -> None:
    connector = _loaded("aiohttp.connector")
    if connector is None or not hasattr(connector, "_make_ssl_context"):
        return
    for name, verified in (("_SSL_CONTEXT_VERIFIED", True), ("_SSL_CONTEXT_UNVERIFIED", False)):
        if isinstance(getattr(connector, name, None), STDLIB_SSLCONTEXT):
            with warnings.catch_warnings():  # the unverified one is unverified on purpose
                warnings.simplefilter("ignore")
                _replace(connector, name, connector._make_ssl_context(verified))


def extract_from_ssl() -> None:
    """Undo :func:`inject_into_ssl`: OpenSSL's classes and contexts are back.

    Contexts made while injected stay ferrotls contexts."""
    with _LOCK:
        while _SAVED:
            obj, name, value = _SAVED.pop()
            setattr(obj, name, value)


@contextlib.contextmanager
def injected() -> Iterator[None]:
    """``with ferrotls.injected(): ...`` -- :func:`inject_into_ssl` for the block only
    (nothing happens, and nothing is undone, if it was injected already)."""
    with _LOCK:
        already = bool(_SAVED)
        inject_into_ssl()
    try:
        yield
    finally:
        if not already:
            extract_from_ssl()
