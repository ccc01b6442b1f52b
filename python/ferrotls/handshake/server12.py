"""The server side of a TLS 1.2 handshake (RFC 5246 section 7.3, RFC 8422, RFC 4279/5489).

Entered from :class:`~ferrotls.handshake.server.ExpectClientHello` when the
client offers nothing newer than TLS 1.2 (or the server is configured so)::

    full:     (ServerHello Certificate ServerKeyExchange [CertificateRequest] ServerHelloDone)
              -> [ExpectClientCertificate12] -> ExpectClientKeyExchange
              -> [ExpectCertificateVerify12] -> ExpectChangeCipherSpec -> ExpectFinished12
              -> ([NewSessionTicket] CCS Finished) -> ServerTraffic12
    resumed:  (ServerHello [NewSessionTicket] CCS Finished)
              -> ExpectChangeCipherSpec -> ExpectFinished12 -> ServerTraffic12

Protections (RFC 7627 extended_master_secret required by default, RFC 5746
renegotiation_info, RFC 7507 TLS_FALLBACK_SCSV, the RFC 8446 downgrade
sentinel) are applied here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import CertifiedKey, ClientAuth
from ..errors import (
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    InappropriateFallback,
    NoApplicationProtocol,
    UnknownPSKIdentity,
    UnrecognizedName,
)
from ..keyschedule12 import psk_pre_master_secret
from ..kx import start_exchange
from ..messages import extensions as ext
from ..messages.enums import ExtensionType, HandshakeType
from ..messages.handshake import CertificateVerify, ClientHello, ServerHello
from ..messages.tls12 import (
    Certificate12,
    CertificateRequest12,
    ClientKeyExchange,
    KeyExchange,
    NewSessionTicket12,
    ServerECDHParams,
    ServerHelloDone,
    ServerKeyExchange,
)
from ..psk import ExternalPsk
from ..sign import TLS12_SCHEMES, verify
from ..suites import TLS12_SUITES, Tls12SuiteInfo
from ..tickets import SessionState
from ..x509 import verifier_binding
from .client12 import TLS12_GROUPS
from .common import note_client_hello, utc
from .machine import State
from .tls12 import (
    DOWNGRADE_TLS12,
    TLS12,
    ExpectChangeCipherSpec,
    ServerTraffic12,
    Session12,
    State12,
    Transcript12,
    own_record_size_limit,
    peer_record_size_limit,
    require_ems,
    send_ccs_and_finished,
)

if TYPE_CHECKING:
    from .server import ServerHandshake

__all__ = ["respond12"]

_HS = HandshakeType
_E = ExtensionType
_FALLBACK_SCSV = 0x5600
_RENEGOTIATION_SCSV = 0x00FF
_KX = {"ECDHE": KeyExchange.ECDHE, "PSK": KeyExchange.PSK, "ECDHE_PSK": KeyExchange.ECDHE_PSK}


class _Plan:
    """What the server chose for one TLS 1.2 ClientHello."""

    __slots__ = ("suite", "kx", "group", "certified", "scheme", "alpn", "name", "ems", "reneg",
                 "points", "tickets", "size_limit")

    def __init__(self) -> None:
        self.suite: Tls12SuiteInfo | None = None
        self.kx = KeyExchange.ECDHE
        self.group = 0
        self.certified: CertifiedKey | None = None
        self.scheme = 0
        self.alpn: bytes | None = None
        self.name: str | None = None
        self.ems = True
        self.reneg = False
        self.points = False
        self.tickets = False
        self.size_limit: int | None = None


def respond12(hs: ServerHandshake, hello: ClientHello, raw: bytes, client_max: int) -> State:
    """Answer a ClientHello with TLS 1.2; ``client_max`` is the highest version the
    client offered (for TLS_FALLBACK_SCSV)."""
    config = hs.sconfig
    suites = set(hello.cipher_suites)
    if _FALLBACK_SCSV in suites and config.tls13 and client_max < 0x0304:
        raise InappropriateFallback("TLS_FALLBACK_SCSV from a client that could speak a newer version (RFC 7507)")
    if bytes(hello.legacy_compression_methods) != b"\x00" and 0 not in hello.legacy_compression_methods:
        raise IllegalParameter("the ClientHello does not offer the null compression method")
    note_client_hello(hs.io.stats, hello, raw)
    hs.client_random = hello.random
    plan = _Plan()
    exts = hello.extensions
    reneg = ext.get_extension(exts, ext.RenegotiationInfo)
    if reneg is not None and reneg.renegotiated_connection:
        raise HandshakeFailure("renegotiation_info is not empty in an initial ClientHello (RFC 5746)")
    plan.reneg = reneg is not None or _RENEGOTIATION_SCSV in suites
    plan.ems = require_ems(hs, hello.has(_E.EXTENDED_MASTER_SECRET))
    points = ext.get_extension(exts, ext.ECPointFormats)
    if points is not None and 0 not in points.formats:
        raise IllegalParameter("the client does not accept uncompressed EC points")
    plan.points = points is not None
    plan.name = _server_name(hello)
    plan.alpn = _choose_alpn(hs, hello)
    size = ext.get_extension(exts, ext.RecordSizeLimit)
    plan.size_limit = size.limit if size is not None else None
    ticket_ext = ext.get_extension(exts, ext.SessionTicket)
    plan.tickets = ticket_ext is not None and config.session_resumption and config.ticket_count > 0
    hs.io.use_tls12_records()
    if hs.datagram is not None:  # DTLS 1.2: the transcript's DTLS headers (RFC 6347 4.2.6)
        raw = hs.datagram.transcript_form(raw, False)
    # Resumption: a ticket (RFC 5077) or a session id from the cache.
    state = _find_session(hs, hello, ticket_ext, plan)
    if state is not None:
        return _resume(hs, hello, raw, plan, state, ticket_ext is not None and bool(ticket_ext.ticket))
    _choose_suite(hs, hello, plan)
    return _full(hs, hello, raw, plan)


def _server_name(hello: ClientHello) -> str | None:
    name_ext = ext.get_extension(hello.extensions, ext.ServerName)
    if name_ext is not None and name_ext.host_name is not None:
        try:
            return name_ext.host_name.decode("ascii").lower()
        except UnicodeDecodeError:
            raise DecodeError("server_name is not an ASCII host name") from None
    return None


def _choose_alpn(hs: ServerHandshake, hello: ClientHello) -> bytes | None:
    ours = [p.encode("ascii") if isinstance(p, str) else p for p in hs.sconfig.alpn_protocols]
    alpn = ext.get_extension(hello.extensions, ext.ALPN)
    if alpn is None or not ours:
        return None
    theirs = set(alpn.protocols)
    for protocol in ours:
        if protocol in theirs:
            return protocol
    raise NoApplicationProtocol("no application protocol (ALPN) in common")


def _client_schemes(hello: ClientHello) -> list[int]:
    sigalgs = ext.get_extension(hello.extensions, ext.SignatureAlgorithms)
    return [s for s in (sigalgs.schemes if sigalgs is not None else []) if s in TLS12_SCHEMES]


def _choose_suite(hs: ServerHandshake, hello: ClientHello, plan: _Plan) -> None:
    """Our most preferred TLS 1.2 suite the client offers and we can serve: a
    certificate of the suite's key type that can sign with a scheme the client
    accepts, a common group for ECDHE, a PSK callback for PSK suites."""
    config = hs.sconfig
    client_suites = set(hello.cipher_suites)
    groups_ext = ext.get_extension(hello.extensions, ext.SupportedGroups)
    client_groups = list(groups_ext.groups) if groups_ext is not None else [0x0017]  # RFC 8422: P-256 then
    ours = [g for g in config.groups if g in TLS12_GROUPS]
    group = next((g for g in ours if g in client_groups), 0)
    schemes = _client_schemes(hello)
    # RFC 5246 7.4.1.4.1 reads a missing signature_algorithms as {sha1, ...}; ferrotls
    # does not sign with SHA-1, and RFC 9155 says to abort then: no certificate suite
    sigalgs_sent = hello.has(_E.SIGNATURE_ALGORITHMS)
    candidates = _certificates(hs, plan.name)
    # RFC 8422 section 5.1: in TLS 1.2 the client's groups also name the curves its
    # ECDSA verification supports (absent: any curve)
    curves = set(groups_ext.groups) if groups_ext is not None else None
    for code in config.tls12_cipher_suites:
        if code not in client_suites:
            continue
        suite = TLS12_SUITES[code]
        needs_group = suite.kx != "PSK"
        if needs_group and not group:
            continue
        if suite.kx != "ECDHE":
            if config.psk_callback is None:
                continue
        else:
            if not sigalgs_sent:
                continue
            for certified in candidates:
                if not _fits(certified, suite) or not _curve_offered(certified, curves):
                    continue
                try:
                    plan.scheme = int(certified.choose_scheme(schemes, tls12=True))
                except HandshakeFailure:
                    continue
                plan.certified = certified
                break
            else:
                continue
        plan.suite, plan.kx, plan.group = suite, _KX[suite.kx], group
        return
    certificate_suites = any(
        TLS12_SUITES[c].kx == "ECDHE" for c in config.tls12_cipher_suites if c in client_suites
    )
    if certificate_suites and not sigalgs_sent:
        raise HandshakeFailure(
            "the ClientHello has no signature_algorithms extension: in TLS 1.2 that means "
            "SHA-1 signatures (RFC 5246 7.4.1.4.1), which ferrotls does not make (RFC 9155)"
        )
    if certificate_suites and not schemes:
        raise HandshakeFailure(
            "the client's signature_algorithms has no scheme ferrotls signs with in TLS 1.2 "
            "(SHA-1 and MD5 ones are not used: RFC 9155)"
        )
    raise HandshakeFailure("no TLS 1.2 cipher suite in common (with a certificate, group and signature that fit)")


def _certificates(hs: ServerHandshake, name: str | None) -> list[CertifiedKey]:
    config = hs.sconfig
    if config.sni_callback is not None:
        chosen = config.sni_callback(name)
        if chosen is not None:
            return [chosen]
    matching = [c for c in config.certificates if c.matches_name(name)]
    if not matching and name is not None and config.require_server_name:
        raise UnrecognizedName(f"no certificate for server name {name!r}")
    return matching or list(config.certificates)


def _fits(certified: CertifiedKey, suite: Tls12SuiteInfo) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, ed448, rsa

    key = certified.private_key
    if suite.auth == "RSA":
        return isinstance(key, rsa.RSAPrivateKey)
    return isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)


_CURVE_GROUPS = {"secp256r1": 0x0017, "secp384r1": 0x0018, "secp521r1": 0x0019}


def _curve_offered(certified: CertifiedKey, curves: set[int] | None) -> bool:
    """Whether an ECDSA certificate's curve is among the client's groups (other
    keys, Ed25519 included, have no curve there)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = certified.private_key
    if curves is None or not isinstance(key, ec.EllipticCurvePrivateKey):
        return True
    return _CURVE_GROUPS.get(key.curve.name) in curves


def _server_random(hs: ServerHandshake) -> bytes:
    """A TLS 1.3-capable server negotiating TLS 1.2 marks its random (RFC 8446 4.1.3)."""
    random = hs.sconfig.rng(32)
    return random[:24] + DOWNGRADE_TLS12 if hs.sconfig.tls13 else random


def _sh_extensions(plan: _Plan, *, ticket: bool, name_acked: bool) -> list[ext.Extension]:
    out: list[ext.Extension] = []
    if plan.reneg:
        out.append(ext.RenegotiationInfo(b""))
    if plan.ems:
        out.append(ext.ExtendedMasterSecret())
    if plan.points and plan.kx is not KeyExchange.PSK:
        out.append(ext.ECPointFormats([0]))
    if name_acked:
        out.append(ext.ServerName())
    if plan.alpn is not None:
        out.append(ext.ALPN([plan.alpn]))
    if ticket:
        out.append(ext.SessionTicket(b""))
    return out


def _apply_size_limit(hs: ServerHandshake, plan: _Plan, sh_exts: list[ext.Extension]) -> None:
    if plan.size_limit is None:
        return
    peer_record_size_limit(hs, plan.size_limit)
    own = hs.sconfig.record_size_limit
    if own is not None:
        sh_exts.append(ext.RecordSizeLimit(own_record_size_limit(hs, own)))


# --------------------------------------------------------------------------- full handshake


def _full(hs: ServerHandshake, hello: ClientHello, raw: bytes, plan: _Plan) -> State:
    config = hs.sconfig
    out = hs.outcome
    suite = plan.suite
    assert suite is not None
    out.suite = suite
    out.alpn = plan.alpn.decode("ascii", "replace") if plan.alpn is not None else None
    out.server_name = plan.name
    session_id = b""
    if not plan.tickets and config.session_id_cache is not None and config.session_resumption:
        session_id = config.rng(32)
    session = Session12(suite, hello.random, _server_random(hs), plan.ems, session_id)
    transcript = Transcript12(raw)
    name_acked = plan.name is not None and (
        plan.certified.matches_name(plan.name) if plan.certified is not None else True
    )
    sh_exts = _sh_extensions(plan, ticket=plan.tickets, name_acked=name_acked)
    _apply_size_limit(hs, plan, sh_exts)
    if hs.datagram is not None:  # DTLS 1.2: connection IDs (RFC 9146)
        sh_exts.extend(hs.datagram.server_hello_extensions(hello))
    hs.send(transcript, ServerHello(
        legacy_version=hs.wire(TLS12), random=session.server_random, legacy_session_id_echo=session_id,
        cipher_suite=suite.suite, extensions=sh_exts,
    ))
    share = None
    if plan.kx is KeyExchange.ECDHE:
        assert plan.certified is not None
        hs.send(transcript, Certificate12(certificate_list=list(plan.certified.chain_der)))
    if plan.kx is not KeyExchange.PSK:
        fixed = config.key_share_private_keys.get(plan.group)  # tests replaying a trace
        share = start_exchange(hs.backend, plan.group, fixed)
        out.group = plan.group
        params = ServerECDHParams(group=plan.group, public=share.public)
        if plan.kx is KeyExchange.ECDHE:
            assert plan.certified is not None
            signed = _params_bytes(params)
            signature = plan.certified.sign(plan.scheme, session.client_random + session.server_random + signed,
                                            tls12=True)
            out.signature_scheme = plan.scheme
            hs.send(transcript, ServerKeyExchange.make(plan.kx, params=params, algorithm=plan.scheme,
                                                       signature=signature))
        else:
            hs.send(transcript, ServerKeyExchange.make(plan.kx, params=params, hint=b""))
    request = plan.kx is KeyExchange.ECDHE and config.client_auth is not ClientAuth.NONE
    if request:
        hs.send(transcript, CertificateRequest12(signature_algorithms=_client_schemes_accepted(hs)))
    hs.send(transcript, ServerHelloDone())
    flight = _ClientFlight(session, transcript, plan, share, request)
    return ExpectClientCertificate12(flight) if request else ExpectClientKeyExchange(flight)


def _client_schemes_accepted(hs: ServerHandshake) -> list[int]:
    """What a TLS 1.2 client may sign its CertificateVerify with: the configured
    signature_schemes that TLS 1.2 allows (RSA PKCS#1 v1.5 only if configured; the
    default list has it)."""
    schemes = [s for s in hs.sconfig.signature_schemes if s in TLS12_SCHEMES]
    if not schemes:
        raise HandshakeFailure(
            "signature_schemes has no TLS 1.2 scheme to ask a client certificate signature with"
        )
    return schemes


def _params_bytes(params: ServerECDHParams) -> bytes:
    from ..messages.codec import Writer

    w = Writer()
    params.write(w)
    return w.getvalue()


class _ClientFlight:
    """What reading the client's flight needs."""

    __slots__ = ("session", "transcript", "plan", "share", "requested", "leaf")

    def __init__(self, session: Session12, transcript: Transcript12, plan: _Plan, share: Any, requested: bool) -> None:
        self.session = session
        self.transcript = transcript
        self.plan = plan
        self.share = share
        self.requested = requested
        self.leaf: Any = None


class ExpectClientCertificate12(State12):
    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.CERTIFICATE})

    def __init__(self, flight: _ClientFlight) -> None:
        self.flight = flight

    def handle(self, hs: ServerHandshake, cert: Certificate12, raw: bytes) -> State:
        config = hs.sconfig
        self.flight.transcript.add(raw)
        if not cert.certificate_list:
            if config.client_auth is ClientAuth.REQUIRED:
                # RFC 5246 7.4.6: handshake_failure (certificate_required is TLS 1.3's)
                raise HandshakeFailure("a client certificate is required")
            return ExpectClientKeyExchange(self.flight)
        if len(cert.certificate_list) > config.limits.max_certificate_chain_length:
            from ..errors import CertificateUnknown

            raise CertificateUnknown("certificate chain longer than Limits.max_certificate_chain_length")
        verifier = config.client_verifier
        if verifier is None:
            raise HandshakeFailure("no verifier configured for client certificates")
        verified = verifier.verify_client_chain(cert.certificate_list, utc(config.clock))
        self.flight.leaf = verified.leaf
        hs.outcome.peer_certificates = tuple(cert.certificate_list)
        return ExpectClientKeyExchange(self.flight)


class ExpectClientKeyExchange(State12):
    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.CLIENT_KEY_EXCHANGE})

    def __init__(self, flight: _ClientFlight) -> None:
        self.flight = flight

    def handle(self, hs: ServerHandshake, cke: ClientKeyExchange, raw: bytes) -> State:
        flight = self.flight
        plan = flight.plan
        identity, public = cke.parse(plan.kx)
        shared: bytes | None = None
        if public is not None:
            shared = flight.share.finish(public)
        if plan.kx is KeyExchange.ECDHE:
            assert shared is not None
            pre_master = shared
        else:
            assert identity is not None
            psk = _lookup_psk(hs, identity)
            hs.outcome.psk_identity = identity
            pre_master = psk_pre_master_secret(psk.key, shared)
        flight.transcript.add(raw)
        flight.session.derive_master(hs, pre_master, flight.transcript)
        if flight.leaf is not None:
            return ExpectCertificateVerify12(flight)
        return _wait_client_finished(hs, flight.session, flight.transcript, plan)


def _lookup_psk(hs: ServerHandshake, identity: bytes) -> ExternalPsk:
    callback = hs.sconfig.psk_callback
    found = callback(identity) if callback is not None else None
    if found is None:
        raise UnknownPSKIdentity("unknown PSK identity")
    return found if isinstance(found, ExternalPsk) else ExternalPsk(identity, bytes(found))


class ExpectCertificateVerify12(State12):
    __slots__ = ("flight",)

    EXPECTS = frozenset({_HS.CERTIFICATE_VERIFY})

    def __init__(self, flight: _ClientFlight) -> None:
        self.flight = flight

    def handle(self, hs: ServerHandshake, cv: CertificateVerify, raw: bytes) -> State:
        flight = self.flight
        offered = _client_schemes_accepted(hs)
        verify(flight.leaf, cv.algorithm, cv.signature, flight.transcript.messages, offered=offered, tls12=True)
        flight.transcript.add(raw)
        return _wait_client_finished(hs, flight.session, flight.transcript, flight.plan)


def _wait_client_finished(hs: ServerHandshake, session: Session12, transcript: Transcript12, plan: _Plan) -> State:
    def after_client_finished(hsx: ServerHandshake, s: Session12, t: Transcript12) -> State:
        if plan.tickets:
            _send_ticket(hsx, s, t, plan)
        elif s.session_id and hsx.sconfig.session_id_cache is not None:
            hsx.sconfig.session_id_cache.add(s.session_id, _session_state(hsx, s, plan))
        send_ccs_and_finished(hsx, s, t)
        return hsx.finish(ServerTraffic12(s), version="TLSv1.2")

    return ExpectChangeCipherSpec(session, transcript, after_client_finished)


def _session_state(hs: ServerHandshake, session: Session12, plan: _Plan) -> SessionState:
    config = hs.sconfig
    out = hs.outcome
    client_cert = out.peer_certificates[0] if out.peer_certificates else b""
    return SessionState(
        cipher_suite=int(session.suite.suite),
        psk=session.master,
        created=config.clock(),
        lifetime=config.ticket_lifetime,
        age_add=0,
        alpn=plan.alpn,
        server_name=plan.name,
        client_certificate=client_cert,
        client_auth_binding=verifier_binding(config.client_verifier) if client_cert else b"",
        version=TLS12,
        extended_master_secret=session.ems,
    )


def _send_ticket(hs: ServerHandshake, session: Session12, transcript: Transcript12, plan: _Plan) -> None:
    config = hs.sconfig
    state = _session_state(hs, session, plan)
    ticket = config.ticket_keys.seal(hs.backend, state.encode(), config.clock(), config.rng)
    hs.send(transcript, NewSessionTicket12(lifetime_hint=config.ticket_lifetime, ticket=ticket))


# --------------------------------------------------------------------------- resumption


def _find_session(
    hs: ServerHandshake, hello: ClientHello, ticket_ext: ext.SessionTicket | None, plan: _Plan
) -> SessionState | None:
    """The TLS 1.2 session the client offers, if we can and may resume it."""
    config = hs.sconfig
    if not config.session_resumption:
        return None
    now = config.clock()
    state: SessionState | None = None
    if ticket_ext is not None and ticket_ext.ticket:
        plain = config.ticket_keys.open(hs.backend, ticket_ext.ticket, now)
        if plain is not None:
            try:
                state = SessionState.decode(plain)
            except (DecodeError, UnicodeDecodeError, ValueError):
                state = None
            if state is not None and not (state.created - config.ticket_age_tolerance <= now < state.created + state.lifetime):
                state = None
    elif hello.legacy_session_id and config.session_id_cache is not None:
        state = config.session_id_cache.get(hello.legacy_session_id, now)
    if state is None or state.version != TLS12:
        return None
    if state.extended_master_secret and not plan.ems:
        # RFC 7627 section 5.3: a session made with EMS, a ClientHello without it
        raise HandshakeFailure(
            "the client resumes an extended_master_secret session without the extension"
        )
    if not state.extended_master_secret and not plan.ems:
        # RFC 7627 section 5.3: neither the session nor the ClientHello has EMS (both
        # sides relaxed): no legacy insecure resumption, a full handshake instead
        return None
    if (
        state.cipher_suite not in hello.cipher_suites
        or state.cipher_suite not in config.tls12_cipher_suites
        or state.server_name != plan.name
        or state.extended_master_secret != plan.ems  # RFC 7627 section 5.3
        or (state.alpn or None) != plan.alpn
        or not hs.session_authentication_holds(state)
    ):
        return None
    return state


def _resume(hs: ServerHandshake, hello: ClientHello, raw: bytes, plan: _Plan, state: SessionState,
            by_ticket: bool) -> State:
    """The abbreviated handshake: ServerHello [NewSessionTicket] CCS Finished."""
    out = hs.outcome
    suite = TLS12_SUITES[state.cipher_suite]
    plan.suite, plan.kx = suite, _KX[suite.kx]
    out.suite = suite
    out.resumed = True
    out.alpn = plan.alpn.decode("ascii", "replace") if plan.alpn is not None else None
    out.server_name = plan.name
    if state.client_certificate:
        out.peer_certificates = (state.client_certificate,)
    # RFC 5077 3.4: resuming by ticket, echo the client's session id
    session = Session12(suite, hello.random, _server_random(hs), plan.ems, hello.legacy_session_id)
    session.master = state.psk
    session.log(hs)
    transcript = Transcript12(raw)
    renew = by_ticket and plan.tickets
    sh_exts = _sh_extensions(plan, ticket=renew, name_acked=False)
    _apply_size_limit(hs, plan, sh_exts)
    if hs.datagram is not None:  # DTLS 1.2: connection IDs (RFC 9146)
        sh_exts.extend(hs.datagram.server_hello_extensions(hello))
    hs.send(transcript, ServerHello(
        legacy_version=hs.wire(TLS12), random=session.server_random,
        legacy_session_id_echo=hello.legacy_session_id, cipher_suite=suite.suite, extensions=sh_exts,
    ))
    if renew:
        _send_ticket(hs, session, transcript, plan)
    send_ccs_and_finished(hs, session, transcript)

    def after_client_finished(hsx: ServerHandshake, s: Session12, t: Transcript12) -> State:
        return hsx.finish(ServerTraffic12(s), version="TLSv1.2")

    return ExpectChangeCipherSpec(session, transcript, after_client_finished)

