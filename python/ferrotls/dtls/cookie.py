"""Stateless cookies for a DTLS server: HelloRetryRequest cookies for DTLS 1.3
(RFC 9147 section 5.1), HelloVerifyRequest cookies for DTLS 1.2 (RFC 6347
section 4.2.1).

A server that creates a connection for every ClientHello can be made to keep
state for spoofed addresses, and to amplify: its first flight is many times
the size of a ClientHello.  :class:`CookieGate` stands in front: a ClientHello
without a valid cookie gets a HelloRetryRequest carrying one, built from the
datagram alone, and nothing is kept; only a ClientHello that returns a cookie
(proving the client receives at its address) gets a connection.

The cookie is authenticated with the gate's secret (HMAC-SHA256, 128-bit tag)
over the client's address and carries what the server needs to take the
handshake up again: the time it was made (cookies expire after ``lifetime``
seconds), the cipher suite and key-share group the HelloRetryRequest named and
the hash of ClientHello1, which the transcript holds in its place (RFC 8446
section 4.4.1).  The HelloRetryRequest is rebuilt from the cookie for the
transcript, byte for byte.

The HelloRetryRequest goes out with the ClientHello's message_seq and record
sequence number (section 5.1), so the server answering the second ClientHello
continues from that ClientHello's numbers.  A ClientHello split over several
records cannot be answered statelessly and is dropped.

A ClientHello for which the server would choose DTLS 1.2 gets a
HelloVerifyRequest instead, with the same message_seq and record sequence
rules (RFC 6347 section 4.2.1 asks for the record number; the message number
follows OpenSSL's and GnuTLS's practice).  Its cookie -- in the ClientHello's
legacy_cookie field when it returns -- is authenticated over the address, the
time and the ClientHello's random, session id and cipher suites, which the
second ClientHello repeats; neither the first ClientHello nor the
HelloVerifyRequest enters the transcript (section 4.2.1), so nothing else needs
remembering.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from ..config import ServerConfig
from ..errors import TLSError
from ..messages.enums import ContentType, HandshakeType
from ..messages.extensions import Cookie, get_extension
from ..messages.handshake import ClientHello, encode_handshake
from ..messages.tls12 import HelloVerifyRequest
from ..suites import suite_info
from ..handshake.server import cookie_hello_retry_request
from .config import DTLS_1_2, DTLS_1_3, DTLSConfig
from .connection import DTLSServerConnection
from .reliability import HEADER_LEN, dtls_header

__all__ = ["CookieGate", "CookieState", "GateResult"]

_VERSION = 1
_VERSION12 = 2
_TAG_LEN = 16
_LABEL = b"ferrotls dtls13 cookie"
_LABEL12 = b"ferrotls dtls12 cookie"


@dataclass(frozen=True, slots=True)
class CookieState:
    """What a valid cookie gives back: enough to take the handshake up again."""

    suite: int
    group: int
    hello1_hash: bytes
    cookie: bytes
    message_seq: int
    """The second ClientHello's message_seq (the server's ServerHello uses it too)."""
    record_sequence: int
    """The second ClientHello's record sequence number (the server's next plaintext record)."""
    version: int = DTLS_1_3
    """DTLS_1_3: a HelloRetryRequest cookie (``suite``, ``group``, ``hello1_hash``
    say what it asked for); DTLS_1_2: a HelloVerifyRequest cookie (they are 0, b"")."""

    def hello_retry_request(self) -> bytes:
        """The HelloRetryRequest as it was sent (4-byte header), for the transcript."""
        return encode_handshake(cookie_hello_retry_request(self.suite, self.group, self.cookie))


@dataclass(frozen=True, slots=True)
class GateResult:
    """``reply``: datagrams to send back (a HelloRetryRequest); ``state``: the
    cookie came back valid -- make the connection; neither: drop the datagram."""

    reply: tuple[bytes, ...] = ()
    state: CookieState | None = None


@dataclass(frozen=True, slots=True)
class _Hello:
    record_sequence: int
    message_seq: int
    raw: bytes
    """TLS-framed (4-byte header) as the transcript hashes it."""
    hello: ClientHello


def _parse(datagram: bytes) -> _Hello | None:
    """The ClientHello in the first record of ``datagram``, whole in one fragment."""
    if len(datagram) < 13 + HEADER_LEN or datagram[0] != ContentType.HANDSHAKE or datagram[1] != 0xFE:
        return None
    if datagram[3:5] != b"\x00\x00":
        return None
    seq = int.from_bytes(datagram[5:11], "big")
    length = int.from_bytes(datagram[11:13], "big")
    payload = datagram[13 : 13 + length]
    if len(payload) != length or payload[0] != HandshakeType.CLIENT_HELLO:
        return None
    msg_len = int.from_bytes(payload[1:4], "big")
    message_seq = int.from_bytes(payload[4:6], "big")
    offset = int.from_bytes(payload[6:9], "big")
    frag_len = int.from_bytes(payload[9:12], "big")
    if offset != 0 or frag_len != msg_len or len(payload) < HEADER_LEN + msg_len:
        return None
    body = payload[HEADER_LEN : HEADER_LEN + msg_len]
    try:
        hello = ClientHello.from_dtls_bytes(body)
    except TLSError:
        return None
    raw = bytes((HandshakeType.CLIENT_HELLO,)) + msg_len.to_bytes(3, "big") + body
    return _Hello(seq, message_seq, raw, hello)


class CookieGate:
    """Answers ClientHellos without a valid cookie statelessly (see the module docstring).

    ``secret``: the key cookies are authenticated with (default: 32 random bytes;
    servers behind one address share one to accept each other's cookies).
    """

    def __init__(
        self, config: ServerConfig, dtls: DTLSConfig | None = None, *, secret: bytes | None = None,
        lifetime: float = 30.0,
    ) -> None:
        self.config = config
        self.dtls = dtls or DTLSConfig()
        self._secret = secret if secret is not None else os.urandom(32)
        if len(self._secret) < 16:
            raise ValueError("the cookie secret needs at least 16 bytes")
        self.lifetime = lifetime
        self.answered = 0
        """HelloRetryRequests sent."""
        self.dropped = 0
        """Datagrams dropped (not a ClientHello we can answer, a bad or stale cookie)."""

    def __repr__(self) -> str:
        return f"CookieGate(lifetime={self.lifetime}, answered={self.answered}, dropped={self.dropped})"

    def handle(self, datagram: bytes, peer: bytes, now: float) -> GateResult:
        """Look at a datagram from an address with no connection (``peer``: the
        address as bytes, e.g. ``f"{host}:{port}".encode()``)."""
        parsed = _parse(bytes(datagram))
        if parsed is None:
            self.dropped += 1
            return GateResult()
        try:
            probe = DTLSServerConnection(self.config, dtls=self.dtls, now=now)  # discarded: no state is kept
            version = probe.version_for(parsed.hello)
        except TLSError:
            self.dropped += 1
            return GateResult()
        if version == DTLS_1_2:
            return self._dtls12(parsed, peer, now)
        cookie = get_extension(parsed.hello.extensions, Cookie)
        if cookie is not None:
            state = self._open(cookie.cookie, peer, now, parsed)
            if state is None:
                self.dropped += 1
            return GateResult(state=state)
        return self._retry(parsed, peer, now, probe)

    def _retry(self, parsed: _Hello, peer: bytes, now: float, probe: DTLSServerConnection) -> GateResult:
        try:
            suite, group = probe.hello_retry_choice(parsed.hello, parsed.raw)
        except TLSError:
            self.dropped += 1
            return GateResult()
        hello1_hash = hashlib.new(suite_info(suite).hash_name, parsed.raw).digest()
        fields = (
            bytes((_VERSION,)) + int(now).to_bytes(4, "big") + suite.to_bytes(2, "big") + group.to_bytes(2, "big")
            + bytes((len(hello1_hash),)) + hello1_hash
        )
        cookie = fields + self._tag(peer, fields)
        hrr = encode_handshake(cookie_hello_retry_request(suite, group, cookie))
        fragment = dtls_header(hrr[0], len(hrr) - 4, parsed.message_seq, 0, len(hrr) - 4) + hrr[4:]
        record = (
            bytes((ContentType.HANDSHAKE, 0xFE, 0xFD, 0, 0)) + parsed.record_sequence.to_bytes(6, "big")
            + len(fragment).to_bytes(2, "big") + fragment
        )
        self.answered += 1
        return GateResult(reply=(record,))

    def _dtls12(self, parsed: _Hello, peer: bytes, now: float) -> GateResult:
        """DTLS 1.2: a HelloVerifyRequest, or the state of a returned valid cookie."""
        hello = parsed.hello
        if hello.legacy_cookie:
            cookie = hello.legacy_cookie
            ok = len(cookie) == 5 + _TAG_LEN and cookie[0] == _VERSION12
            if ok:
                made = int.from_bytes(cookie[1:5], "big")
                ok = made - 1 <= now <= made + self.lifetime and hmac.compare_digest(
                    cookie[5:], self._tag12(peer, cookie[:5], hello))
            if not ok:
                self.dropped += 1
                return GateResult()
            return GateResult(state=CookieState(0, 0, b"", cookie, parsed.message_seq, parsed.record_sequence,
                                                version=DTLS_1_2))
        fields = bytes((_VERSION12,)) + int(now).to_bytes(4, "big")
        hvr = encode_handshake(HelloVerifyRequest(cookie=fields + self._tag12(peer, fields, hello)))
        fragment = dtls_header(hvr[0], len(hvr) - 4, parsed.message_seq, 0, len(hvr) - 4) + hvr[4:]
        record = (
            bytes((ContentType.HANDSHAKE, 0xFE, 0xFF, 0, 0)) + parsed.record_sequence.to_bytes(6, "big")
            + len(fragment).to_bytes(2, "big") + fragment
        )
        self.answered += 1
        return GateResult(reply=(record,))

    def _tag12(self, peer: bytes, fields: bytes, hello: ClientHello) -> bytes:
        """What a DTLS 1.2 cookie authenticates: the address, the time, and the
        ClientHello fields the second ClientHello must repeat (RFC 6347 4.2.1)."""
        params = hello.random + bytes((len(hello.legacy_session_id),)) + hello.legacy_session_id + b"".join(
            s.to_bytes(2, "big") for s in hello.cipher_suites)
        mac = hmac.new(self._secret, _LABEL12 + len(peer).to_bytes(2, "big") + peer + fields + params, "sha256")
        return mac.digest()[:_TAG_LEN]

    def _tag(self, peer: bytes, fields: bytes) -> bytes:
        mac = hmac.new(self._secret, _LABEL + len(peer).to_bytes(2, "big") + peer + fields, "sha256")
        return mac.digest()[:_TAG_LEN]

    def _open(self, cookie: bytes, peer: bytes, now: float, parsed: _Hello) -> CookieState | None:
        if len(cookie) < 10 + _TAG_LEN or cookie[0] != _VERSION:
            return None
        fields, tag = cookie[:-_TAG_LEN], cookie[-_TAG_LEN:]
        if not hmac.compare_digest(tag, self._tag(peer, fields)):
            return None
        made = int.from_bytes(fields[1:5], "big")
        if not made - 1 <= now <= made + self.lifetime:
            return None
        hash_len = fields[9]
        if len(fields) != 10 + hash_len:
            return None
        return CookieState(
            suite=int.from_bytes(fields[5:7], "big"),
            group=int.from_bytes(fields[7:9], "big"),
            hello1_hash=fields[10:],
            cookie=cookie,
            message_seq=parsed.message_seq,
            record_sequence=parsed.record_sequence,
        )
