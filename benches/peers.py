"""In-memory full-handshake drivers for the peers ferrotls is compared with.

* ``SslPeer``: Python's ``ssl`` module (OpenSSL), client and server on
  ``ssl.MemoryBIO`` pairs pumped by one thread (``ferrotls.apps.sslpeer``, the
  driver every bench and ``ferrotls bench`` share).
* ``TlsLitePeer``: tlslite-ng 0.8.2 (pure Python) through its async generator
  API over a fake non-blocking socket pair, one thread.

The method is the one of ``shared/anchors/measure.py`` (so the numbers are
comparable with shared/anchors/RESULTS.md): one "full handshake" is new client
and server objects, ClientHello to server Finished, the server's
NewSessionTickets (if any) and the client processing them.  Client certificate
verification is on for ``ssl`` (PROTOCOL_TLS_CLIENT, trustme CA,
server_hostname set); tlslite-ng does no X.509 path validation (it checks the
CertificateVerify signature with the leaf key only).  The server certificate is
an ECDSA P-256 leaf from an ECDSA P-256 trustme CA; pass the *same* ``CA`` and
``LeafCert`` to the ferrotls bench so the certificate bytes on the wire match.

Each ``handshake()`` returns a ``Wire`` record of the bytes sent in each
direction (the counting costs two additions per flight).
"""

from __future__ import annotations

import errno
import os
import ssl
from dataclasses import dataclass
from typing import Any

from ferrotls.apps import sslpeer

HOST = "test.example"
TLS_AES_256_GCM_SHA384 = "TLS_AES_256_GCM_SHA384"


@dataclass(frozen=True)
class Wire:
    """Bytes on the wire for one full handshake."""

    c2s: int
    """client -> server, all records (ClientHello, CCS, client Finished)."""
    s2c: int
    """server -> client, all records (including NewSessionTickets)."""
    s2c_flight: int
    """server -> client before the client had its Finished ready (the handshake flight)."""

    @property
    def s2c_after(self) -> int:
        """server -> client after the handshake flight (NewSessionTickets)."""
        return self.s2c - self.s2c_flight

    def as_extra_info(self) -> dict[str, int]:
        return {
            "wire_c2s": self.c2s,
            "wire_s2c": self.s2c,
            "wire_s2c_flight": self.s2c_flight,
            "wire_s2c_after": self.s2c_after,
        }


def make_pki(host: str = HOST) -> tuple[Any, Any]:
    """A trustme ECDSA P-256 CA and an ECDSA P-256 leaf for ``host``."""
    import trustme

    ca = trustme.CA()  # trustme's default key type is ECDSA P-256
    return ca, ca.issue_cert(host)


# ----------------------------------------------------------------------------- ssl


class SslPeer:
    """Python's ``ssl`` module in memory (``ferrotls.apps.sslpeer``); contexts are built once."""

    def __init__(self, ca: Any, leaf: Any, *, num_tickets: int | None = None, host: str = HOST) -> None:
        self.host = host
        c = sslpeer.client_context(ca.cert_pem.bytes())  # CERT_REQUIRED + check_hostname
        assert c.verify_mode == ssl.CERT_REQUIRED and c.check_hostname
        chain = b"".join(p.bytes() for p in leaf.cert_chain_pems)
        s = sslpeer.server_context(chain, leaf.private_key_pem.bytes(), num_tickets=num_tickets)
        self.peer = sslpeer.SslPeer(c, s, host)
        self.client_ctx, self.server_ctx = c, s
        self.num_tickets = s.num_tickets
        self.last: tuple[Any, Any] | None = None

    def handshake(self) -> Wire:
        pair = self.peer.handshake()
        self.last = (pair.client, pair.server)
        return Wire(pair.c2s, pair.s2c, pair.s2c_flight)

    def check(self) -> dict[str, Any]:
        """One handshake with assertions; returns what was negotiated."""
        wire = self.handshake()
        assert self.last is not None
        c, s = self.last
        assert c.version() == "TLSv1.3", c.version()
        assert c.cipher()[0] == TLS_AES_256_GCM_SHA384, c.cipher()
        assert c.getpeercert()["subjectAltName"] == (("DNS", self.host),)
        return {"cipher": c.cipher()[0], "version": c.version(), "wire": wire}


# ----------------------------------------------------------------------------- tlslite-ng


class MemSock:
    """Non-blocking socket stand-in: ``send`` appends to the peer's inbox."""

    def __init__(self) -> None:
        self.inbox = bytearray()
        self.peer: MemSock | None = None
        self.sent = 0

    def send(self, data: bytes) -> int:
        assert self.peer is not None
        self.peer.inbox += data
        self.sent += len(data)
        return len(data)

    def sendall(self, data: bytes) -> None:
        self.send(data)

    def recv(self, n: int) -> bytes:
        if not self.inbox:
            raise BlockingIOError(errno.EWOULDBLOCK, "would block")
        d = bytes(self.inbox[:n])
        del self.inbox[:n]
        return d

    def close(self) -> None:
        pass


class TlsLitePeer:
    """tlslite-ng in memory: x25519 key share only, ECDSA P-256 certificate, its default suite."""

    def __init__(self, ca: Any, leaf: Any, *, host: str = HOST) -> None:
        from tlslite import HandshakeSettings, X509CertChain, parsePEMKey

        self.host = host
        self.chain = X509CertChain()
        self.chain.parsePemList(b"".join(p.bytes() for p in leaf.cert_chain_pems).decode())
        self.key = parsePEMKey(leaf.private_key_pem.bytes().decode(), private=True)
        ticket_key = os.urandom(32)

        def settings(server: bool) -> Any:
            st = HandshakeSettings()
            st.minVersion = st.maxVersion = (3, 4)
            if server:
                st.ticketKeys = [ticket_key]
            st.keyShares = ["x25519"]
            st.eccCurves = ["x25519", "secp256r1"]
            return st

        self.client_settings, self.server_settings = settings(False), settings(True)
        self.last: Any = None

    def handshake(self) -> Wire:
        from tlslite import TLSConnection

        a, b = MemSock(), MemSock()
        a.peer, b.peer = b, a
        c, s = TLSConnection(a), TLSConnection(b)
        gc = c.handshakeClientCert(settings=self.client_settings, serverName=self.host, async_=True)
        gs = s.handshakeServerAsync(
            certChain=self.chain, privateKey=self.key, settings=self.server_settings
        )
        cdone = sdone = False
        s2c_flight = -1
        for _ in range(10000):
            if not cdone:
                try:
                    next(gc)
                except StopIteration:
                    cdone = True
                    s2c_flight = b.sent
            if not sdone:
                try:
                    next(gs)
                except StopIteration:
                    sdone = True
            if cdone and sdone:
                break
        else:
            raise RuntimeError("tlslite handshake stuck")
        # read until the client would block: processes the NewSessionTicket(s)
        g = c.readAsync(1, 1)
        for r in g:
            if r == 0:
                break
            raise RuntimeError(f"unexpected tlslite read result {r!r}")
        g.close()
        self.last = (c, s)
        return Wire(a.sent, b.sent, s2c_flight)

    def check(self) -> dict[str, Any]:
        wire = self.handshake()
        c, _ = self.last
        assert c.version == (3, 4), c.version
        assert c.getCipherName() == "aes256gcm", c.getCipherName()
        return {"cipher": TLS_AES_256_GCM_SHA384, "version": "TLSv1.3", "wire": wire}
