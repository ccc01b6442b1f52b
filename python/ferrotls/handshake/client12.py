"""The client side of a TLS 1.2 handshake (RFC 5246 section 7.3, RFC 8422, RFC 4279/5489).

Entered from the TLS 1.3 :class:`~ferrotls.handshake.client.ExpectServerHello`
when the server answers a ClientHello that offered TLS 1.2 too with a TLS 1.2
ServerHello (after the downgrade check of RFC 8446 section 4.1.3)::

    full:     ExpectCertificate12 -> ExpectServerKeyExchange
              -> ExpectCertificateRequestOrDone -> [ExpectServerHelloDone]
              -> (our flight: [Certificate] ClientKeyExchange [CertificateVerify] CCS Finished)
              -> [ExpectNewSessionTicket12] -> ExpectChangeCipherSpec -> ExpectFinished12
              -> ClientTraffic12
    PSK:      ExpectServerKeyExchangeOrDone (the server's identity hint is optional) ...
    resumed:  [ExpectNewSessionTicket12] -> ExpectChangeCipherSpec -> ExpectFinished12
              -> (our CCS Finished) -> ClientTraffic12
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import (
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    UnexpectedMessage,
    UnsupportedExtension,
)
from ..events import SessionTicket
from ..keyschedule12 import psk_pre_master_secret
from ..kx import ClientShare, start_exchange
from ..messages import extensions as ext
from ..messages.enums import ExtensionType, HandshakeType
from ..messages.handshake import CertificateVerify, ClientHello, ServerHello
from ..messages.tls12 import (
    Certificate12,
    CertificateRequest12,
    ClientKeyExchange,
    HelloVerifyRequest,
    KeyExchange,
    NewSessionTicket12,
    ServerHelloDone,
    ServerKeyExchange,
)
from ..sign import verify
from ..suites import TLS12_SUITES, Tls12SuiteInfo
from ..tickets import ClientSession
from ..transcript import Transcript
from .common import utc
from .machine import State
from .tls12 import (
    TLS12,
    ClientTraffic12,
    ExpectChangeCipherSpec,
    Session12,
    State12,
    Transcript12,
    own_record_size_limit,
    peer_record_size_limit,
    require_ems,
    send_ccs_and_finished,
)

if TYPE_CHECKING:
    from .client import ClientHandshake

__all__ = ["enter_tls12", "answer_hello_verify_request", "TLS12_GROUPS", "TLS12_SH_EXTENSIONS"]

_HS = HandshakeType
_E = ExtensionType

TLS12_GROUPS = frozenset({0x001D, 0x0017, 0x0018, 0x0019, 0x001E})
"""Groups usable with TLS 1.2 ECDHE (RFC 8422, RFC 7748): X25519, P-256, P-384, P-521, X448."""

TLS12_SH_EXTENSIONS = frozenset({
    _E.SERVER_NAME, _E.ALPN, _E.EXTENDED_MASTER_SECRET, _E.RENEGOTIATION_INFO,
    _E.EC_POINT_FORMATS, _E.SESSION_TICKET, _E.RECORD_SIZE_LIMIT, _E.STATUS_REQUEST,
    _E.MAX_FRAGMENT_LENGTH, _E.CONNECTION_ID,
})
"""What a TLS 1.2 ServerHello may answer with (of what we offer); TLS 1.3-only
ones (key_share, pre_shared_key, early_data ...) there are illegal_parameter."""

_KX = {"ECDHE": KeyExchange.ECDHE, "PSK": KeyExchange.PSK, "ECDHE_PSK": KeyExchange.ECDHE_PSK}


class _Flight:
    """What the client learns on the way to its second flight."""

    __slots__ = ("session", "transcript", "kx", "leaf", "group", "server_public", "hint", "request",
                 "ticket_expected")

    def __init__(self, session: Session12, transcript: Transcript12, kx: KeyExchange, ticket_expected: bool) -> None:
        self.session = session
        self.transcript = transcript
        self.kx = kx
        self.leaf: Any = None
        self.group = 0
        self.server_public = b""
        self.hint: bytes | None = None
        self.request: CertificateRequest12 | None = None
        self.ticket_expected = ticket_expected


def enter_tls12(
    hs: ClientHandshake, hello: ClientHello, hello_raw: bytes, sh: ServerHello, raw: bytes,
    offered_session: ClientSession | None,
) -> State:
    """Process a TLS 1.2 ServerHello and return the next state."""
    config = hs.cconfig
    out = hs.outcome
    if sh.cipher_suite not in config.tls12_cipher_suites or sh.cipher_suite not in TLS12_SUITES:
        raise IllegalParameter(f"server chose cipher suite 0x{sh.cipher_suite:04x} we did not offer")
    if sh.legacy_compression_method != 0:
        raise IllegalParameter("ServerHello.compression_method must be null")
    suite = TLS12_SUITES[sh.cipher_suite]
    offered = {e.ext_type for e in hello.extensions}
    seen = set()
    for e in sh.extensions:
        if e.ext_type not in offered:
            raise UnsupportedExtension(f"ServerHello has extension {e.ext_type} that was not requested")
        if e.ext_type not in TLS12_SH_EXTENSIONS:
            raise IllegalParameter(f"extension {e.ext_type} is not allowed in a TLS 1.2 ServerHello")
        seen.add(e.ext_type)
    reneg = ext.get_extension(sh.extensions, ext.RenegotiationInfo)
    if reneg is not None and reneg.renegotiated_connection:
        raise HandshakeFailure("renegotiation_info is not empty in an initial handshake (RFC 5746)")
    points = ext.get_extension(sh.extensions, ext.ECPointFormats)
    if points is not None and 0 not in points.formats:
        raise IllegalParameter("the server does not accept uncompressed EC points")
    ems = require_ems(hs, _E.EXTENDED_MASTER_SECRET in seen)
    alpn = ext.get_extension(sh.extensions, ext.ALPN)
    if alpn is not None:
        if len(alpn.protocols) != 1 or alpn.protocols[0] not in hs.offered_alpn:
            raise IllegalParameter("server selected an ALPN protocol we did not offer")
        out.alpn = alpn.protocols[0].decode("ascii", "replace")
    size_limit = ext.get_extension(sh.extensions, ext.RecordSizeLimit)
    if size_limit is not None:  # negotiated: each side's limit applies (RFC 8449)
        peer_record_size_limit(hs, size_limit.limit)
        if config.record_size_limit is not None:
            own_record_size_limit(hs, config.record_size_limit)
    hs.io.use_tls12_records()
    if hs.datagram is not None:  # DTLS 1.2: CIDs, and the transcript's DTLS headers (RFC 6347 4.2.6)
        hs.datagram.server_hello_received(sh)
        hello_raw, raw = hs.datagram.transcript_form(hello_raw, True), hs.datagram.transcript_form(raw, False)
    hs.reject_early_data()
    out.suite = suite
    session = Session12(suite, hello.random, sh.random, ems, sh.legacy_session_id_echo)
    transcript = Transcript12(hello_raw, raw)
    ticket_expected = _E.SESSION_TICKET in seen
    if (
        offered_session is not None
        and sh.legacy_session_id_echo
        and sh.legacy_session_id_echo == hello.legacy_session_id
    ):
        return _resume(hs, session, transcript, offered_session, ticket_expected)
    flight = _Flight(session, transcript, _KX[suite.kx], ticket_expected)
    if suite.kx == "ECDHE":
        return ExpectCertificate12(flight)
    if suite.kx == "PSK":
        return ExpectServerKeyExchangeOrDone(flight)
    return ExpectServerKeyExchange(flight)


_MAX_HELLO_VERIFY_REQUESTS = 3


def answer_hello_verify_request(
    hs: ClientHandshake, first: ClientHello, offer: Any, hvr: HelloVerifyRequest, hrr_suite: object,
) -> tuple[ClientHello, Transcript]:
    """DTLS 1.2 (RFC 6347 section 4.2.1): the server asks for our ClientHello again
    with its cookie.  Returns the ClientHello sent and the transcript that starts
    with it (neither the first ClientHello nor the HelloVerifyRequest is hashed)."""
    if hs.datagram is None or not hs.cconfig.tls12 or hrr_suite is not None:
        raise UnexpectedMessage("HelloVerifyRequest is not expected here")
    hs.hello_verify_requests += 1
    if hs.hello_verify_requests > _MAX_HELLO_VERIFY_REQUESTS:
        raise UnexpectedMessage(f"more than {_MAX_HELLO_VERIFY_REQUESTS} HelloVerifyRequests")
    if not hvr.cookie:
        raise IllegalParameter("a HelloVerifyRequest with an empty cookie")
    hello = replace(first, legacy_cookie=hvr.cookie)  # (the hook, if any, shaped ``first``)
    hs.set_binders(hello, offer, None)
    transcript = Transcript()
    offer.hello_raw = hs.send(transcript, hello)
    return hello, transcript


def _resume(
    hs: ClientHandshake, session: Session12, transcript: Transcript12, offered: ClientSession,
    ticket_expected: bool,
) -> State:
    """The server took our session: the abbreviated handshake (RFC 5246 figure 2)."""
    if offered.cipher_suite != session.suite.suite:
        raise IllegalParameter("the server resumed our session with a different cipher suite")
    if offered.extended_master_secret != session.ems:
        # RFC 7627 section 5.3: the resumed session's EMS must match the original's
        raise HandshakeFailure("the server resumed a session with a different extended_master_secret")
    session.master = offered.psk
    session.log(hs)
    out = hs.outcome
    out.resumed = True
    out.peer_certificates = offered.peer_certificates

    holder = _TicketHolder()

    def after_server_finished(hsx: ClientHandshake, s: Session12, t: Transcript12) -> State:
        send_ccs_and_finished(hsx, s, t)
        return _finish(hsx, s, holder.ticket, offered)

    wait_ccs = ExpectChangeCipherSpec(session, transcript, after_server_finished)
    return ExpectNewSessionTicket12(transcript, wait_ccs, holder) if ticket_expected else wait_ccs


class ExpectCertificate12(State12):
    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.CERTIFICATE})
    IGNORES_HELLO_REQUEST = True  # RFC 5246 7.4.1.1: the client is negotiating

    def __init__(self, flight: _Flight) -> None:
        self.flight = flight

    def handle(self, hs: ClientHandshake, cert: Certificate12, raw: bytes) -> State:
        config = hs.cconfig
        if not cert.certificate_list:
            raise DecodeError("the server sent an empty Certificate message")
        if len(cert.certificate_list) > config.limits.max_certificate_chain_length:
            from ..errors import CertificateUnknown

            raise CertificateUnknown("certificate chain longer than Limits.max_certificate_chain_length")
        hostname = hs.server_hostname if config.check_hostname else None
        verified = config.get_verifier().verify_server_chain(cert.certificate_list, hostname, utc(config.clock))
        _check_leaf_fits_suite(verified.leaf, self.flight.session.suite)
        hs.outcome.peer_certificates = tuple(cert.certificate_list)
        self.flight.leaf = verified.leaf
        self.flight.transcript.add(raw)
        return ExpectServerKeyExchange(self.flight)


def _check_leaf_fits_suite(leaf: Any, suite: Tls12SuiteInfo) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, ed448, rsa

    key = leaf.public_key()
    ok = (
        isinstance(key, rsa.RSAPublicKey) if suite.auth == "RSA"
        else isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    )
    if not ok:
        raise IllegalParameter(f"the server's certificate key does not fit {suite.openssl_name}")


class ExpectServerKeyExchange(State12):
    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.SERVER_KEY_EXCHANGE})
    IGNORES_HELLO_REQUEST = True  # RFC 5246 7.4.1.1: the client is negotiating

    def __init__(self, flight: _Flight) -> None:
        self.flight = flight

    def handle(self, hs: ClientHandshake, ske: ServerKeyExchange, raw: bytes) -> State:
        flight = self.flight
        config = hs.cconfig
        hint, params, algorithm, signature, signed = ske.parse(flight.kx)
        flight.hint = hint
        if params is not None:
            if params.group not in TLS12_GROUPS or params.group not in config.groups:
                raise IllegalParameter(f"the server chose group 0x{params.group:04x} we did not offer")
            flight.group = int(params.group)
            flight.server_public = params.public
        if flight.kx is KeyExchange.ECDHE:
            assert algorithm is not None
            content = flight.session.client_random + flight.session.server_random + signed
            verify(flight.leaf, algorithm, signature, content, offered=hs.signature_schemes12(), tls12=True)
            hs.outcome.signature_scheme = int(algorithm)
        flight.transcript.add(raw)
        return ExpectCertificateRequestOrDone(flight) if flight.kx is KeyExchange.ECDHE else ExpectServerHelloDone(flight)


class ExpectServerKeyExchangeOrDone(State12):
    """Plain PSK suites: the server's identity hint (ServerKeyExchange) is optional."""

    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.SERVER_KEY_EXCHANGE, _HS.SERVER_HELLO_DONE})
    IGNORES_HELLO_REQUEST = True  # RFC 5246 7.4.1.1: the client is negotiating

    def __init__(self, flight: _Flight) -> None:
        self.flight = flight

    def handle(self, hs: ClientHandshake, message: Any, raw: bytes) -> State:
        if isinstance(message, ServerHelloDone):
            return ExpectServerHelloDone(self.flight).handle(hs, message, raw)
        return ExpectServerKeyExchange(self.flight).handle(hs, message, raw)


class ExpectCertificateRequestOrDone(State12):
    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.CERTIFICATE_REQUEST, _HS.SERVER_HELLO_DONE})
    IGNORES_HELLO_REQUEST = True  # RFC 5246 7.4.1.1: the client is negotiating

    def __init__(self, flight: _Flight) -> None:
        self.flight = flight

    def handle(self, hs: ClientHandshake, message: Any, raw: bytes) -> State:
        if isinstance(message, CertificateRequest12):
            self.flight.request = message
            self.flight.transcript.add(raw)
            return ExpectServerHelloDone(self.flight)
        return ExpectServerHelloDone(self.flight).handle(hs, message, raw)


class ExpectServerHelloDone(State12):
    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.SERVER_HELLO_DONE})
    IGNORES_HELLO_REQUEST = True  # RFC 5246 7.4.1.1: the client is negotiating

    def __init__(self, flight: _Flight) -> None:
        self.flight = flight

    def handle(self, hs: ClientHandshake, done: ServerHelloDone, raw: bytes) -> State:
        flight = self.flight
        flight.transcript.add(raw)
        return _send_flight(hs, flight)


def _send_flight(hs: ClientHandshake, flight: _Flight) -> State:
    """[Certificate] ClientKeyExchange [CertificateVerify] ChangeCipherSpec Finished."""
    config = hs.cconfig
    session, transcript = flight.session, flight.transcript
    certified = config.certificate if flight.request is not None else None
    scheme = None
    if flight.request is not None:
        if certified is not None:
            try:
                scheme = certified.choose_scheme(flight.request.signature_algorithms, tls12=True)
            except HandshakeFailure:
                scheme = None  # no usable scheme: send an empty certificate
        chain = list(certified.chain_der) if certified is not None and scheme is not None else []
        hs.send(transcript, Certificate12(certificate_list=chain))
    shared: bytes | None = None
    public: bytes | None = None
    if flight.kx is not KeyExchange.PSK:
        fixed = config.key_share_private_keys.get(flight.group)  # tests replaying a trace
        share: ClientShare = start_exchange(hs.backend, flight.group, fixed)
        shared = share.finish(flight.server_public)
        public = share.public
        hs.outcome.group = flight.group
    identity: bytes | None = None
    if flight.kx is KeyExchange.ECDHE:
        assert shared is not None
        pre_master = shared
    else:
        psk = hs.psk_for_tls12(flight.hint)
        identity = psk.identity
        hs.outcome.psk_identity = psk.identity
        pre_master = psk_pre_master_secret(psk.key, shared)
    hs.send(transcript, ClientKeyExchange.make(flight.kx, public=public, identity=identity))
    session.derive_master(hs, pre_master, transcript)
    if certified is not None and scheme is not None:
        signature = certified.sign(int(scheme), transcript.messages, tls12=True)
        hs.send(transcript, CertificateVerify(algorithm=int(scheme), signature=signature))
    send_ccs_and_finished(hs, session, transcript)
    holder = _TicketHolder()

    def after_server_finished(hsx: ClientHandshake, s: Session12, t: Transcript12) -> State:
        return _finish(hsx, s, holder.ticket, None)

    wait_ccs = ExpectChangeCipherSpec(session, transcript, after_server_finished)
    if flight.ticket_expected:
        return ExpectNewSessionTicket12(transcript, wait_ccs, holder)
    return wait_ccs


class _TicketHolder:
    """Where ExpectNewSessionTicket12 leaves the ticket for the end of the handshake."""

    __slots__ = ("ticket",)

    def __init__(self) -> None:
        self.ticket: NewSessionTicket12 | None = None


class ExpectNewSessionTicket12(State12):
    """RFC 5077: the server acknowledged SessionTicket and sends a ticket before its CCS."""

    __slots__ = ("transcript", "following", "holder")

    EXPECTS = frozenset({_HS.NEW_SESSION_TICKET})

    def __init__(self, transcript: Transcript12, following: ExpectChangeCipherSpec, holder: _TicketHolder) -> None:
        self.transcript = transcript
        self.following = following
        self.holder = holder

    def handle(self, hs: ClientHandshake, nst: NewSessionTicket12, raw: bytes) -> State:
        self.transcript.add(raw)
        self.holder.ticket = nst
        return self.following


def _finish(hs: ClientHandshake, session: Session12, nst: NewSessionTicket12 | None,
            resumed: ClientSession | None) -> State:
    """The server's Finished verified: the connection is established; remember the
    session (a ticket, or the server's session id) for resumption."""
    traffic = hs.finish(ClientTraffic12(session), version="TLSv1.2")
    config = hs.cconfig
    ticket = nst.ticket if nst is not None else b""
    if nst is not None and not ticket:
        return traffic  # an empty ticket: the server will not resume (RFC 5077 3.3)
    if not ticket and not session.session_id:
        return traffic
    if not session.ems:
        # RFC 7627 section 5.3: a session made without extended_master_secret is not
        # resumable (we never offer it): not cached, and the ticket event has no session
        if nst is not None:
            hs.io.emit(SessionTicket(nst, None))
        return traffic
    if resumed is not None and nst is None:
        # a TLS 1.2 session (id or unrenewed ticket) may resume again (RFC 5246 F.1.4;
        # unlike TLS 1.3 tickets): it goes back to the cache it was taken from
        cache = config.session_cache
        if cache is not None and hs.server_hostname:
            cache.add(hs.server_hostname, resumed)
        hs.session_established = resumed
        return traffic
    now = config.clock()
    out = hs.outcome
    lifetime = nst.lifetime_hint if nst is not None and nst.lifetime_hint else 7200
    stored = ClientSession(
        ticket=ticket,
        psk=session.master,
        cipher_suite=int(session.suite.suite),
        received_at=now,
        lifetime=min(lifetime, 7 * 24 * 3600),
        age_add=0,
        server_name=hs.server_hostname,
        alpn=out.alpn,
        peer_certificates=out.peer_certificates,
        version=TLS12,
        session_id=b"" if ticket else session.session_id,
        extended_master_secret=session.ems,
    )
    cache = config.session_cache
    if cache is not None and hs.server_hostname:
        cache.add(hs.server_hostname, stored)
    hs.session_established = stored
    if nst is not None:  # a session id is no ticket: it goes to the cache only
        hs.io.emit(SessionTicket(nst, stored))
    return traffic
