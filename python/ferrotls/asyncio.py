"""asyncio support: ``ferrotls.asyncio.open_connection`` / ``start_server``.

Drop-in shapes of :func:`asyncio.open_connection` and :func:`asyncio.start_server`
that take a :class:`ferrotls.Context` (``context=`` or ``ssl=``) and return the
standard ``asyncio.StreamReader`` / ``asyncio.StreamWriter``::

    import ferrotls, ferrotls.asyncio

    ctx = ferrotls.create_default_context()
    reader, writer = await ferrotls.asyncio.open_connection("example.com", 443, context=ctx)

See :mod:`ferrotls.transports.aio` for close, EOF, backpressure and timeouts.
DTLS: ``create_dtls_endpoint`` (:mod:`ferrotls.transports.dtls_aio`).
"""

from __future__ import annotations

from .transports.dtls_aio import DTLSServerEndpoint, DTLSSession, create_dtls_endpoint
from .transports.aio import (
    TLSProtocol,
    TLSTransport,
    create_connection,
    create_server,
    open_connection,
    start_server,
)

__all__ = [
    "DTLSServerEndpoint",
    "DTLSSession",
    "create_dtls_endpoint",
    "TLSProtocol",
    "TLSTransport",
    "create_connection",
    "create_server",
    "open_connection",
    "start_server",
]
