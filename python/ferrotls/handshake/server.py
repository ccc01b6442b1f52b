"""The server side of the TLS 1.3 handshake (RFC 8446 section 2).

States, each a type that owns what it needs::

    ExpectClientHello --HRR--> ExpectSecondClientHello
        -> (the server's flight: ServerHello ... Finished)
        -> [ExpectEndOfEarlyData]                       (0-RTT accepted)
        -> [ExpectCertificate -> [ExpectCertificateVerify]]   (client auth)
        -> ExpectFinished
        -> ServerTraffic (KeyUpdate; NewSessionTickets are sent on entry)
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from ..config import CertifiedKey, ClientAuth
from ..errors import (
    CertificateRequired,
    DecodeError,
    DecryptError,
    HandshakeFailure,
    IllegalParameter,
    MissingExtension,
    NoApplicationProtocol,
    ProtocolVersionError,
    UnexpectedMessage,
    UnknownPSKIdentity,
    UnrecognizedName,
)
from ..events import EarlyData
from ..keyschedule import EarlySecrets, HandshakeSecrets, MasterSecrets, resumption_psk
from ..kx import SUPPORTED_GROUPS, server_exchange
from ..messages import extensions as ext
from ..messages.enums import ExtensionType, HandshakeType, PskKeyExchangeMode
from ..messages.handshake import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HelloRetryRequest,
    NewSessionTicket,
    ServerHello,
)
from ..psk import ExternalPsk
from ..sign import certificate_verify_message
from ..suites import SUITES, SuiteInfo, suite_info
from ..tickets import SessionState
from ..transcript import Transcript
from ..x509 import verifier_binding
from .common import (
    application_secrets,
    check_certificate_verify,
    check_finished,
    finished_data,
    note_client_hello,
    psk_binder,
    receive_certificate,
    send_certificate,
    utc,
    version_name,
)
from .datagram import DTLS_TO_TLS
from .io import DatagramIO, HandshakeIO
from .machine import Handshake, State, Traffic
from .server12 import respond12
from .policy import check_extensions

if TYPE_CHECKING:
    from ..config import ServerConfig

__all__ = ["ServerHandshake"]

TLS12 = 0x0303
TLS13 = 0x0304
_HS = HandshakeType
# Signature schemes never allowed in CertificateVerify (RFC 8446 section 4.2.3).
_CV_FORBIDDEN = frozenset({0x0201, 0x0203, 0x0401, 0x0501, 0x0601})


class _Offer:
    """What we took from a ClientHello."""

    __slots__ = (
        "hello", "raw", "suite", "group", "share", "certified", "scheme", "alpn", "name",
        "psk", "psk_index", "psk_mode", "session", "external", "ticket_age",
    )

    def __init__(self, hello: ClientHello, raw: bytes) -> None:
        self.hello = hello
        self.raw = raw
        self.suite = 0
        self.group = 0
        self.share: bytes | None = None
        self.certified: CertifiedKey | None = None
        self.scheme = 0
        self.alpn: bytes | None = None
        self.name: str | None = None
        self.psk: bytes | None = None
        self.psk_index = 0
        self.psk_mode: int = PskKeyExchangeMode.PSK_DHE_KE
        self.session: SessionState | None = None
        self.external: bytes | None = None
        self.ticket_age = 0

    def __repr__(self) -> str:
        return f"_Offer(suite=0x{self.suite:04x}, group=0x{self.group:04x}, psk={self.psk is not None})"

    @property
    def dhe(self) -> bool:
        return self.psk is None or self.psk_mode == PskKeyExchangeMode.PSK_DHE_KE


class ServerHandshake(Handshake):
    """Drives one server handshake."""

    is_client = False

    def __init__(self, io: HandshakeIO, config: ServerConfig, *, datagram: DatagramIO | None = None) -> None:
        super().__init__(io, config, datagram)
        self.sconfig = config
        for suite in config.cipher_suites:
            suite_info(suite)
        if not config.certificates and config.sni_callback is None and config.psk_callback is None:
            raise ValueError("a server needs at least one certificate (or an sni_callback or psk_callback)")
        self.state = ExpectClientHello()

    @property
    def reading_early_data(self) -> bool:
        return isinstance(self.state, ExpectEndOfEarlyData)

    def receive_early_data(self, data: bytes) -> None:
        state = self.state
        if not isinstance(state, ExpectEndOfEarlyData):
            raise UnexpectedMessage("0-RTT application data is not expected")
        state.receive(self, data)

    # -- examining a ClientHello ---------------------------------------------------------

    def examine(self, hello: ClientHello, raw: bytes, hrr: Transcript | None = None,
                forced_group: int | None = None) -> _Offer:
        """Check a ClientHello and choose suite, group, certificate and ALPN; ``hrr``
        is the transcript so far for a second ClientHello."""
        config = self.sconfig
        exts = hello.extensions
        offer = _Offer(hello, raw)
        check_extensions(exts, ext.Context.CH, config.limits)
        if bytes(hello.legacy_compression_methods) != b"\x00":
            raise IllegalParameter("legacy_compression_methods must be exactly [null]")
        if exts and exts[-1].ext_type != ExtensionType.PRE_SHARED_KEY and any(
            e.ext_type == ExtensionType.PRE_SHARED_KEY for e in exts
        ):
            raise IllegalParameter("pre_shared_key must be the last extension")
        client_suites = set(hello.cipher_suites)
        for suite in config.cipher_suites:
            if suite in client_suites and suite in SUITES:
                offer.suite = suite
                break
        else:
            raise HandshakeFailure("no cipher suite in common")
        offer.name = _server_name(hello)
        psk_offer = hello.psk_offer()
        if psk_offer is not None:
            self._choose_psk(offer, psk_offer, hrr)
        if offer.psk is not None:
            self._choose_alpn(offer)
            if not offer.dhe:
                return offer
        sigalgs = ext.get_extension(exts, ext.SignatureAlgorithms)
        if sigalgs is None and offer.psk is None:
            raise MissingExtension("ClientHello without signature_algorithms")
        groups_ext = ext.get_extension(exts, ext.SupportedGroups)
        shares_ext = ext.get_extension(exts, ext.KeyShareClientHello)
        if groups_ext is None or shares_ext is None:
            raise MissingExtension("ClientHello needs supported_groups and key_share")
        client_groups = list(groups_ext.groups)
        shares: dict[int, bytes] = {}
        for entry in shares_ext.client_shares:
            if entry.group in shares:
                raise IllegalParameter(f"two key shares for group 0x{entry.group:04x}")
            if entry.group not in client_groups:
                raise IllegalParameter(f"key share for group 0x{entry.group:04x} not in supported_groups")
            shares[entry.group] = entry.key_exchange
        ours = [g for g in config.groups if g in SUPPORTED_GROUPS]
        if forced_group is not None:
            offer.group = forced_group
            offer.share = shares[forced_group]
        else:
            for group in ours:
                if group in shares:
                    offer.group, offer.share = group, shares[group]
                    break
            else:
                for group in ours:
                    if group in client_groups:
                        offer.group = group
                        break
                else:
                    raise HandshakeFailure("no key exchange group in common")
        if offer.psk is None:
            assert sigalgs is not None
            self._choose_certificate(offer, list(sigalgs.schemes))
            self._choose_alpn(offer)
        return offer

    # -- PSKs (RFC 8446 section 4.2.11) ------------------------------------------------

    def _choose_psk(self, offer: _Offer, psk_offer: ext.PreSharedKeyClientHello, hrr: Transcript | None) -> None:
        """Select the first usable identity and verify its binder (bad binder: decrypt_error)."""
        config = self.sconfig
        modes_ext = ext.get_extension(offer.hello.extensions, ext.PskKeyExchangeModes)
        if modes_ext is None:
            raise MissingExtension("pre_shared_key without psk_key_exchange_modes")
        modes = [m for m in config.psk_modes if m in modes_ext.modes]
        if not modes:
            return
        now = config.clock()
        client_suites = set(offer.hello.cipher_suites)
        unknown_external = False
        for index, identity in enumerate(psk_offer.identities):
            found = self._lookup_psk(identity.identity, offer, now)
            if found is None:
                unknown_external = unknown_external or config.psk_callback is not None
                continue
            key, hash_name, label, session, external = found
            suites = [
                s for s in config.cipher_suites
                if s in client_suites and s in SUITES and SUITES[s].hash_name == hash_name
            ]
            if session is not None and session.cipher_suite in suites:
                suites.insert(0, session.cipher_suite)  # same suite: 0-RTT stays possible
            if not suites:
                continue
            suite = suite_info(suites[0])
            if hrr is not None and hrr.hash_name != hash_name:
                continue  # a second ClientHello: the PSK must suit the HRR's hash
            truncated = offer.raw[: len(offer.raw) - psk_offer.binders_length()]
            expected = psk_binder(self.backend, suite, key, label, truncated, hrr)
            if not hmac.compare_digest(expected, psk_offer.binders[index]):
                raise DecryptError("the PSK binder does not verify")
            offer.psk, offer.psk_index, offer.psk_mode = key, index, modes[0]
            offer.suite, offer.session, offer.external = int(suite.suite), session, external
            offer.ticket_age = identity.obfuscated_ticket_age
            return
        if unknown_external and not config.unknown_psk_fallback:
            raise UnknownPSKIdentity("no offered PSK identity is known")

    def _lookup_psk(
        self, identity: bytes, offer: _Offer, now: float
    ) -> tuple[bytes, str, bytes, SessionState | None, bytes | None] | None:
        config = self.sconfig
        if config.session_resumption:
            plain = config.ticket_keys.open(self.backend, identity, now)
            if plain is not None:
                try:
                    state = SessionState.decode(plain)
                except (DecodeError, UnicodeDecodeError):
                    return None
                if not (state.created - config.ticket_age_tolerance <= now < state.created + state.lifetime):
                    return None  # expired (or from the future)
                if state.server_name != offer.name or state.cipher_suite not in SUITES:
                    return None
                if not self.session_authentication_holds(state):
                    return None  # a full handshake authenticates the client afresh
                return state.psk, SUITES[state.cipher_suite].hash_name, b"res binder", state, None
        if config.psk_callback is not None:
            found = config.psk_callback(identity)
            if found is None:
                return None
            psk = found if isinstance(found, ExternalPsk) else ExternalPsk(identity, bytes(found))
            return psk.key, psk.hash_name, psk.binder_label, None, identity
        return None

    def session_authentication_holds(self, state: SessionState) -> bool:
        """Whether a resumed session's client authentication satisfies this server:
        a server requiring client certificates resumes only sessions with a client
        certificate, and a session with one only under the verifier (trust anchors
        and policy) that accepted it.  Otherwise the ticket (perhaps issued by
        another server sharing the ticket keys, or before client_auth was
        tightened) is not resumed."""
        config = self.sconfig
        if not state.client_certificate:
            return config.client_auth is not ClientAuth.REQUIRED
        return hmac.compare_digest(state.client_auth_binding, verifier_binding(config.client_verifier))

    def accept_early_data(self, offer: _Offer, after_hrr: bool) -> bool:
        """0-RTT policy: first identity, a ticket that allows it, same suite and ALPN,
        a fresh ticket age, and never seen before (RFC 8446 sections 4.2.10, 8)."""
        config = self.sconfig
        session = offer.session
        if (
            not config.early_data
            or after_hrr
            or session is None
            or offer.psk_index != 0
            or session.max_early_data == 0
            or offer.suite != session.cipher_suite
            or offer.alpn != session.alpn
        ):
            return False
        now = config.clock()
        client_age_ms = (offer.ticket_age - session.age_add) & 0xFFFFFFFF
        server_age_ms = (now - session.created) * 1000
        if abs(server_age_ms - client_age_ms) > config.ticket_age_tolerance * 1000:
            return False
        ticket = offer.hello.psk_offer()
        assert ticket is not None
        key = hashlib.sha256(ticket.identities[0].identity).digest()
        return config.replay_store.check_and_add(key, session.created + session.lifetime, now)

    def _choose_certificate(self, offer: _Offer, client_schemes: list[int]) -> None:
        config = self.sconfig
        usable = [s for s in client_schemes if s not in _CV_FORBIDDEN]
        candidates: list[CertifiedKey] = []
        if config.sni_callback is not None:
            chosen = config.sni_callback(offer.name)
            if chosen is not None:
                candidates.append(chosen)
        if not candidates:
            matching = [c for c in config.certificates if c.matches_name(offer.name)]
            if not matching and offer.name is not None and config.require_server_name:
                raise UnrecognizedName(f"no certificate for server name {offer.name!r}")
            candidates = matching or list(config.certificates)
        for certified in candidates:
            try:
                offer.scheme = int(certified.choose_scheme(usable))
            except HandshakeFailure:
                continue
            offer.certified = certified
            return
        raise HandshakeFailure("no certificate can sign with a scheme the client accepts")

    def _choose_alpn(self, offer: _Offer) -> None:
        ours = [p.encode("ascii") if isinstance(p, str) else p for p in self.sconfig.alpn_protocols]
        alpn = ext.get_extension(offer.hello.extensions, ext.ALPN)
        if alpn is None or not ours:
            return
        theirs = set(alpn.protocols)
        for protocol in ours:
            if protocol in theirs:
                offer.alpn = protocol
                return
        raise NoApplicationProtocol("no application protocol (ALPN) in common")

    def session_id_echo(self, hello: ClientHello) -> bytes:
        """legacy_session_id_echo: the client's, except in DTLS 1.3, whose servers
        echo none (RFC 9147 section 5.3)."""
        return b"" if self.datagram is not None else hello.legacy_session_id

    # -- DTLS: a stateless HelloRetryRequest (RFC 9147 section 5.1) ---------------------

    def hello_retry_choice(self, hello: ClientHello, raw: bytes) -> tuple[int, int]:
        """What a HelloRetryRequest to ``hello`` names: (cipher suite, the group whose
        key share we want, 0 when the client's share will do).  Raises as the first
        ClientHello would; changes nothing."""
        choose_version(self.sconfig, hello, self.datagram is not None)
        offer = self.examine(hello, raw)
        return offer.suite, (offer.group if offer.dhe and offer.share is None else 0)

    def start_after_cookie(self, suite: int, group: int, hello1_hash: bytes, hrr_raw: bytes) -> None:
        """Take up a handshake whose first ClientHello was answered by a stateless
        HelloRetryRequest: the transcript is message_hash(Hash(ClientHello1)) and the
        HelloRetryRequest as sent (``hrr_raw``, rebuilt from the cookie); the second
        ClientHello comes next."""
        transcript = Transcript()
        transcript.start_hash(suite_info(suite).hash_name)
        transcript.add(bytes((254, 0, 0, len(hello1_hash))) + hello1_hash)
        transcript.add(hrr_raw)
        self.io.stats.hello_retry = True
        self.state = ExpectCookieClientHello(suite, group, transcript)

    def maybe_send_ccs(self, offer: _Offer) -> None:
        """The middlebox CCS goes out only to a client that sent a legacy session id."""
        if offer.hello.legacy_session_id:
            self.send_ccs_once()

    # -- the server's flight -------------------------------------------------------

    def respond(self, offer: _Offer, transcript: Transcript, after_hrr: bool) -> State:
        """ServerHello, EncryptedExtensions, [CertificateRequest, Certificate,
        CertificateVerify], Finished; returns the state that waits for the client."""
        config = self.sconfig
        out = self.outcome
        assert offer.psk is not None or offer.certified is not None
        suite = out.suite = suite_info(offer.suite)
        sh_exts: list[ext.Extension] = []
        if offer.psk is not None:
            sh_exts.append(ext.PreSharedKeyServerHello(offer.psk_index))
            out.resumed = True
            out.psk_identity = offer.external
            if offer.session is not None and offer.session.client_certificate:
                out.peer_certificates = (offer.session.client_certificate,)
        shared_secret: bytes | None = None
        if offer.dhe:
            assert offer.share is not None
            server_share, shared_secret = server_exchange(
                self.backend, offer.group, offer.share, config.key_share_private_keys.get(offer.group)
            )
            out.group = int(offer.group)
            sh_exts.append(ext.KeyShareServerHello(ext.KeyShareEntry(offer.group, server_share)))
        if self.datagram is not None:
            sh_exts.extend(self.datagram.server_hello_extensions(offer.hello))
        sh_exts.append(ext.SupportedVersionsServerHello(self.wire(TLS13)))
        out.alpn = offer.alpn.decode("ascii", "replace") if offer.alpn is not None else None
        out.server_name = offer.name
        early = EarlySecrets(self.backend, suite, offer.psk)
        early_offered = offer.hello.has(ExtensionType.EARLY_DATA)
        early_secret = b""
        if early_offered and self.accept_early_data(offer, after_hrr):
            early_secret = early.client_early_traffic_secret(transcript.digest())
            self.key_log("CLIENT_EARLY_TRAFFIC_SECRET", early_secret)
            out.early_data_accepted = True
        self.send(transcript, ServerHello(
            legacy_version=self.wire(TLS12),
            random=config.rng(32),
            legacy_session_id_echo=self.session_id_echo(offer.hello),
            cipher_suite=offer.suite,
            extensions=sh_exts,
        ))
        secrets = early.into_handshake(shared_secret)
        hello_hash = transcript.digest()
        client_hs = secrets.client_handshake_traffic_secret(hello_hash)
        server_hs = secrets.server_handshake_traffic_secret(hello_hash)
        self.key_log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_hs)
        self.key_log("SERVER_HANDSHAKE_TRAFFIC_SECRET", server_hs)
        self.maybe_send_ccs(offer)
        self.set_write_secret(suite, server_hs)
        if out.early_data_accepted:
            self.set_read_secret(suite, early_secret)
        else:
            self.set_read_secret(suite, client_hs)
            if early_offered and not after_hrr:  # rejected: skip what the client sent
                self.io.skip_early_data(max(1, config.max_early_data_size))

        ee_exts: list[ext.Extension] = []
        if offer.alpn is not None:
            ee_exts.append(ext.ALPN([offer.alpn]))
        size_limit = ext.get_extension(offer.hello.extensions, ext.RecordSizeLimit)
        own_limit: int | None = None
        if size_limit is not None:  # RFC 8449: from EncryptedExtensions on
            self.apply_peer_record_size_limit(size_limit.limit)
            if config.record_size_limit is not None:
                ee_exts.append(ext.RecordSizeLimit(config.record_size_limit))
                own_limit = config.record_size_limit
                if not out.early_data_accepted:  # else from EndOfEarlyData on
                    self.enforce_record_size_limit(own_limit)
        if offer.name is not None and (
            offer.certified.matches_name(offer.name) if offer.certified is not None else offer.psk is not None
        ):
            ee_exts.append(ext.ServerName())
        if out.early_data_accepted:
            ee_exts.append(ext.EarlyData())
        encrypted_extensions = EncryptedExtensions(extensions=ee_exts)
        if config.encrypted_extensions_hook is not None:
            encrypted_extensions = config.encrypted_extensions_hook(encrypted_extensions)
        self.send(transcript, encrypted_extensions)
        request_sent = False
        if offer.psk is None:  # no certificates in PSK handshakes
            assert offer.certified is not None
            if config.client_auth is not ClientAuth.NONE:
                schemes = [s for s in config.signature_schemes if s not in _CV_FORBIDDEN]
                cr_exts: list[ext.Extension] = [ext.SignatureAlgorithms(schemes)]
                if config.certificate_compression:
                    cr_exts.append(ext.CompressCertificate(list(config.certificate_compression)))
                self.send(transcript, CertificateRequest(certificate_request_context=b"", extensions=cr_exts))
                request_sent = True
            entries = [CertificateEntry(cert_data=der) for der in offer.certified.chain_der]
            compress = ext.get_extension(offer.hello.extensions, ext.CompressCertificate)
            send_certificate(
                self, transcript, Certificate(certificate_request_context=b"", certificate_list=entries),
                compress.algorithms if compress is not None else None,
            )
            content = certificate_verify_message(transcript.digest(), server=True)
            out.signature_scheme = offer.scheme
            self.send(transcript, CertificateVerify(
                algorithm=offer.scheme, signature=offer.certified.sign(offer.scheme, content)))
        self.send(transcript, Finished(verify_data=finished_data(self.backend, suite, server_hs, transcript)))
        master = secrets.into_master()
        c_ap, s_ap, exporter = application_secrets(self, master, transcript.digest())
        self.set_write_secret(suite, s_ap)
        keys = _FlightKeys(suite, master, client_hs, c_ap, s_ap, exporter)
        if request_sent:
            following: State = ExpectCertificate(keys, transcript, offer)
        else:
            following = ExpectFinished(keys, transcript, offer)
        if out.early_data_accepted:
            assert offer.session is not None
            return ExpectEndOfEarlyData(keys, transcript, following, offer.session.max_early_data, own_limit)
        return following

    # -- NewSessionTicket (RFC 8446 section 4.6.1) ---------------------------------------

    def send_tickets(self, traffic: Traffic, offer: _Offer) -> None:
        config = self.sconfig
        out = self.outcome
        count = min(1, config.ticket_count) if out.resumed else config.ticket_count
        if count <= 0 or not config.session_resumption:
            return
        modes = ext.get_extension(offer.hello.extensions, ext.PskKeyExchangeModes)
        if modes is None or not set(modes.modes) & set(config.psk_modes):
            return  # the client could not use a ticket
        now = config.clock()
        max_early = config.max_early_data_size if config.early_data else 0
        client_cert = out.peer_certificates[0] if out.peer_certificates else b""
        binding = verifier_binding(config.client_verifier) if client_cert else b""
        suite = traffic.suite
        for i in range(count):
            nonce = i.to_bytes(1, "big")
            age_add = int.from_bytes(config.rng(4), "big")
            state = SessionState(
                cipher_suite=int(suite.suite),
                psk=resumption_psk(self.backend, suite, traffic.resumption_master_secret, nonce),
                created=now,
                lifetime=config.ticket_lifetime,
                age_add=age_add,
                max_early_data=max_early,
                alpn=offer.alpn,
                server_name=offer.name,
                client_certificate=client_cert,
                client_auth_binding=binding,
            )
            ticket = config.ticket_keys.seal(self.backend, state.encode(), now, config.rng)
            extensions: list[ext.Extension] = [ext.TicketEarlyDataInfo(max_early)] if max_early else []
            self.send(None, NewSessionTicket(
                ticket_lifetime=config.ticket_lifetime,
                ticket_age_add=age_add,
                ticket_nonce=nonce,
                ticket=ticket,
                extensions=extensions,
            ))


_MAY_CHANGE = frozenset({
    ExtensionType.KEY_SHARE, ExtensionType.EARLY_DATA, ExtensionType.COOKIE,
    ExtensionType.PRE_SHARED_KEY, ExtensionType.PADDING,
})
"""What a second ClientHello may change (RFC 8446 section 4.1.2)."""


def _unchangeable(hello: ClientHello, any_order: bool = False) -> tuple[object, ...]:
    """What must be the same in both ClientHellos: the version, suites, compression
    methods and every other extension, type and body, in order (``any_order``: in
    any order -- over DTLS, where wolfSSL's second ClientHello reorders them)."""
    extensions = [(e.ext_type, e.to_bytes()) for e in hello.extensions if e.ext_type not in _MAY_CHANGE]
    return (
        hello.legacy_version, list(hello.cipher_suites), bytes(hello.legacy_compression_methods),
        sorted(extensions) if any_order else extensions,
    )


def choose_version(config: ServerConfig, hello: ClientHello, datagram: bool = False) -> tuple[int, int]:
    """(the version to speak, the highest the client offers): TLS 1.3 when both
    sides have it, else TLS 1.2 when both have that; protocol_version otherwise.
    ``datagram``: the ClientHello is DTLS's, whose versions are read as the TLS
    ones they stand for (DTLS 1.3 = TLS 1.3, DTLS 1.2 = TLS 1.2)."""
    if datagram:
        if hello.legacy_cookie:  # RFC 9147 section 5.3 (DTLS 1.2's cookie: not yet)
            raise IllegalParameter("a DTLS 1.3 ClientHello with a non-empty legacy_cookie")
        versions = ext.get_extension(hello.extensions, ext.SupportedVersionsClientHello)
        offered = {DTLS_TO_TLS.get(v, 0) for v in versions.versions} if versions is not None else (
            {TLS12} if hello.legacy_version == 0xFEFD else set()
        )
        offered.discard(0)
        if TLS13 in offered and config.tls13:
            return TLS13, TLS13
        raise ProtocolVersionError("the client offers no DTLS version ferrotls speaks (DTLS 1.3)")
    if hello.legacy_version <= 0x0300:  # RFC 8446 appendix D.5
        raise ProtocolVersionError(f"ClientHello.legacy_version 0x{hello.legacy_version:04x} (SSL 3.0 or older)")
    versions = ext.get_extension(hello.extensions, ext.SupportedVersionsClientHello)
    offered = set(versions.versions) if versions is not None else {min(hello.legacy_version, TLS12)}
    known = [v for v in offered if 0x0300 <= v <= TLS13]
    client_max = max(known, default=hello.legacy_version)
    if TLS13 in offered and config.tls13:
        return TLS13, client_max
    if TLS12 in offered and config.tls12:
        return TLS12, client_max
    speaks = "TLS 1.2 and 1.3" if config.tls12 and config.tls13 else ("TLS 1.2" if config.tls12 else "TLS 1.3")
    raise ProtocolVersionError(f"peer supports {version_name(client_max)} at most; ferrotls speaks {speaks}")


def _server_name(hello: ClientHello) -> str | None:
    name_ext = ext.get_extension(hello.extensions, ext.ServerName)
    if name_ext is not None and name_ext.host_name is not None:
        try:
            return name_ext.host_name.decode("ascii").lower()
        except UnicodeDecodeError:
            raise DecodeError("server_name is not an ASCII host name") from None
    return None


class _FlightKeys:
    """What reading the client's flight needs: its handshake secret, the master
    secret and the application secrets (the server's sending key is installed)."""

    __slots__ = ("suite", "master", "client_hs", "client_ap", "server_ap", "exporter")

    def __init__(self, suite: SuiteInfo, master: MasterSecrets, client_hs: bytes, client_ap: bytes,
                 server_ap: bytes, exporter: bytes) -> None:
        self.suite = suite
        self.master = master
        self.client_hs = client_hs
        self.client_ap = client_ap
        self.server_ap = server_ap
        self.exporter = exporter

    def __repr__(self) -> str:
        return f"_FlightKeys({self.suite.suite.name}, <redacted>)"


# --------------------------------------------------------------------------- states


class ExpectClientHello(State):
    __slots__ = ()

    EXPECTS = frozenset({_HS.CLIENT_HELLO})
    ACCEPTS_CCS = False  # not before the first ClientHello (RFC 8446 section 5)

    def handle(self, hs: ServerHandshake, hello: ClientHello, raw: bytes) -> State:
        version, client_max = choose_version(hs.sconfig, hello, hs.datagram is not None)
        if version == TLS12:
            malformed = ext.malformed_extension(hello.extensions)
            if malformed is not None:  # ignored in TLS 1.3, meaningful here
                raise DecodeError(malformed.error)
            return respond12(hs, hello, raw, client_max)
        note_client_hello(hs.io.stats, hello, raw)
        offer = hs.examine(hello, raw)
        hs.client_random = hello.random
        transcript = Transcript()
        transcript.start_hash(suite_info(offer.suite).hash_name)
        transcript.add(raw)
        if offer.dhe and offer.share is None:
            return self._hello_retry_request(hs, offer, transcript)
        return hs.respond(offer, transcript, after_hrr=False)

    def _hello_retry_request(self, hs: ServerHandshake, offer: _Offer, transcript: Transcript) -> State:
        hs.io.stats.hello_retry = True
        transcript.replace_with_message_hash()
        hs.send(transcript, HelloRetryRequest(
            legacy_version=hs.wire(TLS12),
            legacy_session_id_echo=hs.session_id_echo(offer.hello),
            cipher_suite=offer.suite,
            extensions=[ext.KeyShareHelloRetryRequest(offer.group), ext.SupportedVersionsServerHello(hs.wire(TLS13))],
        ))
        hs.maybe_send_ccs(offer)
        if offer.hello.has(ExtensionType.EARLY_DATA):  # skip the 0-RTT records that follow
            hs.io.skip_early_data(max(1, hs.sconfig.max_early_data_size))
        return ExpectSecondClientHello(offer, transcript)


class ExpectSecondClientHello(State):
    __slots__ = ("first", "transcript")

    EXPECTS = frozenset({_HS.CLIENT_HELLO})

    def __init__(self, first: _Offer, transcript: Transcript) -> None:
        self.first = first
        self.transcript = transcript

    def handle(self, hs: ServerHandshake, hello: ClientHello, raw: bytes) -> State:
        first = self.first
        if hello.legacy_session_id != first.hello.legacy_session_id or hello.random != first.hello.random:
            raise IllegalParameter("the second ClientHello changed random or legacy_session_id")
        shares = ext.get_extension(hello.extensions, ext.KeyShareClientHello)
        if first.dhe and (shares is None or [s.group for s in shares.client_shares] != [first.group]):
            raise IllegalParameter("the second ClientHello must hold one key share, for the group we asked for")
        hs.io.skip_early_data(0)  # no 0-RTT after a HelloRetryRequest
        if hello.has(ExtensionType.EARLY_DATA):
            raise IllegalParameter("early_data in the second ClientHello")
        if _unchangeable(hello, hs.datagram is not None) != _unchangeable(first.hello, hs.datagram is not None):
            raise IllegalParameter("the second ClientHello differs from the first beyond what RFC 8446 4.1.2 allows")
        offer = hs.examine(hello, raw, self.transcript, forced_group=first.group if first.dhe else None)
        if offer.suite != first.suite:
            raise IllegalParameter("the second ClientHello no longer allows the cipher suite chosen")
        self.transcript.add(raw)
        return hs.respond(offer, self.transcript, after_hrr=True)


def cookie_hello_retry_request(suite: int, group: int, cookie: bytes) -> HelloRetryRequest:
    """The HelloRetryRequest of a stateless DTLS 1.3 server: ``cookie``, the key
    share of ``group`` when it is not 0, DTLS 1.3 (RFC 9147 section 5.1)."""
    extensions: list[ext.Extension] = [ext.KeyShareHelloRetryRequest(group)] if group else []
    extensions += [ext.SupportedVersionsServerHello(0xFEFC), ext.Cookie(cookie)]
    return HelloRetryRequest(legacy_version=0xFEFD, legacy_session_id_echo=b"", cipher_suite=suite,
                             extensions=extensions)


class ExpectCookieClientHello(State):
    """DTLS: the second ClientHello after a stateless HelloRetryRequest, whose cookie
    the endpoint checked; the first ClientHello is known only by its hash."""

    __slots__ = ("suite", "group", "transcript")

    EXPECTS = frozenset({_HS.CLIENT_HELLO})
    ACCEPTS_CCS = False

    def __init__(self, suite: int, group: int, transcript: Transcript) -> None:
        self.suite = suite
        self.group = group
        self.transcript = transcript

    def handle(self, hs: ServerHandshake, hello: ClientHello, raw: bytes) -> State:
        choose_version(hs.sconfig, hello, hs.datagram is not None)
        if not hello.has(ExtensionType.COOKIE):
            raise MissingExtension("the second ClientHello has no cookie")
        if hello.has(ExtensionType.EARLY_DATA):
            raise IllegalParameter("early_data in the second ClientHello")
        shares = ext.get_extension(hello.extensions, ext.KeyShareClientHello)
        if self.group and (shares is None or [s.group for s in shares.client_shares] != [self.group]):
            raise IllegalParameter("the second ClientHello must hold one key share, for the group we asked for")
        note_client_hello(hs.io.stats, hello, raw)
        hs.client_random = hello.random
        offer = hs.examine(hello, raw, self.transcript, forced_group=self.group or None)
        if offer.suite != self.suite:
            raise IllegalParameter("the second ClientHello no longer allows the cipher suite chosen")
        if offer.dhe and offer.share is None:
            raise IllegalParameter("the second ClientHello has no key share we can use")
        self.transcript.add(raw)
        return hs.respond(offer, self.transcript, after_hrr=True)


class ExpectEndOfEarlyData(State):
    """0-RTT data accepted: EarlyData events until the client's EndOfEarlyData."""

    __slots__ = ("keys", "transcript", "following", "limit", "received", "own_limit")

    EXPECTS = frozenset({_HS.END_OF_EARLY_DATA})

    def __init__(self, keys: _FlightKeys, transcript: Transcript, following: State, limit: int,
                 own_limit: int | None) -> None:
        self.keys = keys
        self.transcript = transcript
        self.following = following
        self.limit = limit
        self.received = 0
        self.own_limit = own_limit

    def receive(self, hs: ServerHandshake, data: bytes) -> None:
        self.received += len(data)
        if self.received > self.limit:
            raise UnexpectedMessage("more 0-RTT data than max_early_data_size")
        hs.io.emit(EarlyData(data))

    def handle(self, hs: ServerHandshake, message: EndOfEarlyData, raw: bytes) -> State:
        self.transcript.add(raw)
        hs.set_read_secret(self.keys.suite, self.keys.client_hs)
        if self.own_limit is not None:
            hs.enforce_record_size_limit(self.own_limit)
        return self.following


class ExpectCertificate(State):
    __slots__ = ("keys", "transcript", "offer")

    EXPECTS = frozenset({_HS.CERTIFICATE, _HS.COMPRESSED_CERTIFICATE})

    def __init__(self, keys: _FlightKeys, transcript: Transcript, offer: _Offer) -> None:
        self.keys = keys
        self.transcript = transcript
        self.offer = offer

    def handle(self, hs: ServerHandshake, message: Certificate | CompressedCertificate, raw: bytes) -> State:
        config = hs.sconfig
        # Our CertificateRequest carries signature_algorithms only (RFC 8446 4.4.2).
        cert = receive_certificate(
            hs, message, compression_offered=bool(config.certificate_compression),
            requested=(ExtensionType.SIGNATURE_ALGORITHMS,), context=b"",
        )
        self.transcript.add(raw)
        if not cert.certificate_list:
            if config.client_auth is ClientAuth.REQUIRED:
                raise CertificateRequired("a client certificate is required")
            return ExpectFinished(self.keys, self.transcript, self.offer)
        chain = [entry.cert_data for entry in cert.certificate_list]
        verifier = config.client_verifier
        if verifier is None:
            raise HandshakeFailure("no verifier configured for client certificates")
        verified = verifier.verify_client_chain(chain, utc(config.clock))
        hs.outcome.peer_certificates = tuple(chain)
        return ExpectCertificateVerify(verified.leaf, self.keys, self.transcript, self.offer)


class ExpectCertificateVerify(State):
    __slots__ = ("leaf", "keys", "transcript", "offer")

    EXPECTS = frozenset({_HS.CERTIFICATE_VERIFY})

    def __init__(self, leaf: Any, keys: _FlightKeys, transcript: Transcript, offer: _Offer) -> None:
        self.leaf = leaf
        self.keys = keys
        self.transcript = transcript
        self.offer = offer

    def handle(self, hs: ServerHandshake, cv: CertificateVerify, raw: bytes) -> State:
        check_certificate_verify(self.leaf, cv, self.transcript, server=False,
                                 offered=hs.sconfig.signature_schemes)
        self.transcript.add(raw)
        return ExpectFinished(self.keys, self.transcript, self.offer)


class ExpectFinished(State):
    __slots__ = ("keys", "transcript", "offer")

    EXPECTS = frozenset({_HS.FINISHED})

    def __init__(self, keys: _FlightKeys, transcript: Transcript, offer: _Offer) -> None:
        self.keys = keys
        self.transcript = transcript
        self.offer = offer

    def handle(self, hs: ServerHandshake, fin: Finished, raw: bytes) -> State:
        keys = self.keys
        check_finished(hs.backend, keys.suite, fin.verify_data, keys.client_hs, self.transcript)
        self.transcript.add(raw)
        hs.set_read_secret(keys.suite, keys.client_ap)
        resumption = keys.master.resumption_master_secret(self.transcript.digest())
        traffic = ServerTraffic(keys.suite, keys.client_ap, keys.server_ap, keys.exporter, resumption)
        hs.finish(traffic)
        hs.send_tickets(traffic, self.offer)
        return traffic


class ServerTraffic(Traffic):
    """After the handshake: KeyUpdates from the client (tickets went out on entry)."""

    __slots__ = ()
