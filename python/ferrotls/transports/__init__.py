"""I/O around the sans-I/O connection: blocking sockets and asyncio.

* :mod:`ferrotls.transports.blocking` -- :class:`TLSSocket` (``ssl.SSLSocket``-like)
  and :func:`connect`.
* :mod:`ferrotls.transports.aio` -- asyncio streams (``open_connection``,
  ``start_server``), also importable as :mod:`ferrotls.asyncio`.

:class:`ConnectionInfo` is the part both share: the ``ssl``-style questions
(``getpeercert``, ``cipher``, ``version``, ``selected_alpn_protocol``) answered
from a connection's HandshakeComplete event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..suites import SUITES, CipherSuite

if TYPE_CHECKING:
    from ..connection import ClientConnection, ServerConnection
    from ..context import Context

__all__ = ["ConnectionInfo"]


class ConnectionInfo:
    """``ssl.SSLObject``-style read-only view of a connection and its context.

    This is what ``get_extra_info("ssl_object")`` returns on the asyncio transport.
    """

    __slots__ = ("connection", "context", "server_hostname", "server_side")

    def __init__(
        self,
        connection: ClientConnection | ServerConnection,
        context: Context,
        server_side: bool,
        server_hostname: str | None,
    ) -> None:
        self.connection = connection
        self.context = context
        self.server_side = server_side
        self.server_hostname = server_hostname

    def _info(self) -> Any:
        return self.connection.info

    def getpeercert(self, binary_form: bool = False) -> dict[str, Any] | bytes | None:
        """The peer's certificate: an ``ssl``-style dict, or DER with ``binary_form``.

        None if the peer sent none.  As in ``ssl``, the dict is empty when the
        certificate was not verified (verify_mode CERT_NONE).  ValueError before
        the handshake completes.
        """
        info = self._info()
        if info is None:
            raise ValueError("handshake not done yet")
        if not info.peer_certificates:
            return None
        der: bytes = info.peer_certificates[0]
        if binary_form:
            return der
        if self.context.verify_mode == 0:
            return {}
        from cryptography import x509

        from ..x509 import peercert_dict

        return peercert_dict(x509.load_der_x509_certificate(der))

    def cipher(self) -> tuple[str, str, int] | None:
        """(suite name, "TLSv1.3", secret bits), or None before the handshake."""
        info = self._info()
        if info is None:
            return None
        suite = info.cipher_suite
        return CipherSuite(suite).name, "TLSv1.3", SUITES[suite].key_len * 8

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        c = self.cipher()
        return None if c is None else [c]

    def version(self) -> str | None:
        """"TLSv1.3" once the handshake is done, else None."""
        info = self._info()
        return None if info is None else str(info.version)

    def selected_alpn_protocol(self) -> str | None:
        info = self._info()
        if info is None:
            return None
        alpn: str | None = info.alpn_protocol
        return alpn

    def compression(self) -> None:
        return None

    def export_keying_material(self, label: bytes | str, context: bytes | None, length: int) -> bytes:
        """TLS-Exporter (RFC 8446 section 7.5)."""
        if self._info() is None:
            raise UsageError("keying material can be exported only after the handshake")
        return self.connection.export_keying_material(label, context, length)
