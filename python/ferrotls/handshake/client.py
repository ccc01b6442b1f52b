"""The client side of the TLS 1.3 handshake (RFC 8446 section 2, figure 1).

States, each a type that owns what it needs::

    ExpectServerHello --HRR--> ExpectServerHello (once)
        -> ExpectEncryptedExtensions
        -> ExpectCertificateOrRequest -> [ExpectCertificate] -> ExpectCertificateVerify
        -> ExpectFinished                     (PSK handshakes skip the certificates)
        -> ClientTraffic (NewSessionTicket, KeyUpdate)

0-RTT runs beside the states as :class:`EarlyData` (an enum on the driver):
NONE, SENDING (offered, the server has not answered), ACCEPTED, REJECTED.
"""

from __future__ import annotations

import enum
import ipaddress
from typing import TYPE_CHECKING, Any

from ..errors import (
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    MissingExtension,
    ProtocolVersionError,
    UnexpectedMessage,
    UsageError,
)
from ..events import SessionTicket
from ..keyschedule import EarlySecrets, HandshakeSecrets, resumption_psk
from ..kx import ClientShare, start_exchange
from ..messages import extensions as ext
from ..messages.enums import ExtensionType, HandshakeType, PskKeyExchangeMode, SignatureScheme
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
    NewSessionTicket,
    ServerHello,
)
from ..messages.tls12 import HelloVerifyRequest
from ..sign import TLS12_SCHEMES, certificate_verify_message
from ..suites import SUITES, SuiteInfo, suite_info
from ..tickets import MAX_TICKET_LIFETIME, ClientSession
from ..transcript import Transcript
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
from .io import DatagramIO, HandshakeIO
from .client12 import answer_hello_verify_request, enter_tls12
from .machine import Handshake, State, Traffic
from .policy import check_extensions

if TYPE_CHECKING:
    from ..config import ClientConfig
    from ..psk import ExternalPsk

__all__ = ["ClientHandshake", "EarlyData"]

TLS12 = 0x0303
TLS13 = 0x0304
_DOWNGRADE_TLS12 = b"DOWNGRD\x01"
_DOWNGRADE_TLS11 = b"DOWNGRD\x00"
_HS = HandshakeType


class EarlyData(enum.Enum):
    """Where the client's 0-RTT data stands."""

    NONE = "none"
    SENDING = "sending"
    """Offered with the ClientHello; data may be added until the server answers."""
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class _PskOffer:
    """One identity in our pre_shared_key extension."""

    __slots__ = ("identity", "key", "hash_name", "label", "session", "external", "suite")

    def __init__(
        self, identity: bytes, key: bytes, hash_name: str, label: bytes, suite: SuiteInfo,
        session: ClientSession | None = None, external: ExternalPsk | None = None,
    ) -> None:
        self.identity = identity
        self.key = key
        self.hash_name = hash_name
        self.label = label
        self.suite = suite
        self.session = session
        self.external = external


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class ClientHandshake(Handshake):
    """Drives one client handshake; the connection calls ``start()`` once."""

    is_client = True

    def __init__(
        self, io: HandshakeIO, config: ClientConfig, server_hostname: str | None,
        session: ClientSession | None = None, early_data: bytes | None = None,
        *, datagram: DatagramIO | None = None,
    ) -> None:
        super().__init__(io, config, datagram)
        if datagram is not None and early_data is not None:
            raise UsageError("0-RTT is not supported over DTLS")
        if config.check_hostname and not server_hostname:
            raise UsageError("check_hostname is on but no server_hostname was given")
        self.cconfig = config
        self.server_hostname = server_hostname
        self.outcome.server_name = server_hostname
        self.offered_alpn = [p.encode("ascii") if isinstance(p, str) else p for p in config.alpn_protocols]
        self.session = session
        self.early_data = early_data
        self.early = EarlyData.NONE
        self.early_sent = bytearray()
        self.early_limit = 0
        self.session12: ClientSession | None = None
        """A TLS 1.2 session offered in the ClientHello (ticket or session id)."""
        self.hello_verify_requests = 0
        """DTLS 1.2: HelloVerifyRequests answered."""
        self.session_established: ClientSession | None = None
        """The newest resumable session (ClientConnection.session): a TLS 1.3
        ticket's, or the TLS 1.2 session after the handshake (also in the session
        cache; tickets come as SessionTicket events too)."""

    # -- what the connection asks --------------------------------------------------------

    @property
    def early_data_open(self) -> bool:
        return self.early is EarlyData.SENDING and isinstance(
            self.state, (ExpectServerHello, ExpectEncryptedExtensions)
        )

    def send_early_data(self, data: bytes | bytearray | memoryview) -> None:
        if not self.early_data_open:
            raise UsageError("0-RTT data can be sent only after offering it, before the server answers")
        if len(self.early_sent) + len(data) > self.early_limit:
            raise UsageError(f"0-RTT data is limited to {self.early_limit} bytes by the ticket")
        self.early_sent += data
        self.io.write_application_data(data)

    @property
    def rejected_early_data(self) -> bytes:
        return bytes(self.early_sent) if self.complete and self.early is EarlyData.REJECTED else b""

    def reject_early_data(self) -> None:
        if self.early is EarlyData.SENDING:
            self.early = EarlyData.REJECTED
            self.outcome.early_data_rejected = len(self.early_sent)

    def signature_schemes12(self) -> list[int]:
        """What our ClientHello's signature_algorithms allows a TLS 1.2 server to sign with."""
        return [s for s in _signature_algorithms(self.cconfig) if s in TLS12_SCHEMES]

    def psk_for_tls12(self, hint: bytes | None) -> ExternalPsk:
        """The external PSK for a TLS 1.2 PSK suite: the one whose identity is the
        server's hint, else the first configured."""
        psks = self.cconfig.external_psks
        if not psks:
            raise HandshakeFailure("the server chose a PSK cipher suite but no external PSK is configured")
        for psk in psks:
            if hint and psk.identity == hint:
                return psk
        return psks[0]

    # -- ClientHello ---------------------------------------------------------------------

    def start(self) -> None:
        stats = self.io.stats
        stats.begin()
        try:
            self._start()
        finally:
            stats.end()

    def _start(self) -> None:
        config = self.cconfig
        for group in config.key_share_groups if config.tls13 else ():
            if group not in config.groups:
                raise ValueError(f"key share group 0x{group:04x} is not in groups")
        for suite in config.cipher_suites:
            suite_info(suite)  # ValueError for suites we cannot run
        self.client_random = config.rng(32)
        now = config.clock()
        psk_offers = self._collect_psks(now)
        session12 = self.session12
        if session12 is not None and session12.session_id:
            session_id = session12.session_id  # TLS 1.2 session-id resumption
        elif config.middlebox_compat and config.tls13 or session12 is not None:
            session_id = config.rng(32)  # (with a TLS 1.2 ticket: to see the server resume it)
        else:
            session_id = b""
        psk_only = bool(psk_offers) and tuple(config.psk_modes) == (PskKeyExchangeMode.PSK_KE,)
        shares: dict[int, ClientShare] = {}
        if not psk_only and config.tls13:
            for group in config.key_share_groups:
                shares[group] = start_exchange(self.backend, group, config.key_share_private_keys.get(group))
        first = psk_offers[0] if psk_offers else None
        want_early = (
            self.early_data is not None
            and first is not None
            and first.session is not None
            and first.session.max_early_data > 0
        )
        offer = _Offer(shares, psk_offers, psk_only)
        hello = ClientHello(
            legacy_version=self.wire(TLS12),
            legacy_cookie=b"" if self.datagram is not None else None,
            random=self.client_random,
            legacy_session_id=session_id,
            cipher_suites=_cipher_suites(config),
            extensions=self.hello_extensions(offer, now=now, early=want_early),
        )
        if config.client_hello_hook is not None:
            hello = config.client_hello_hook(hello)
        self.set_binders(hello, offer, None)
        transcript = Transcript()
        raw = self.send(transcript, hello, legacy_version=0x0301)
        offer.hello_raw = raw
        note_client_hello(self.io.stats, hello, raw)
        self.state = ExpectServerHello(hello, offer, transcript)
        if want_early and hello.has(ExtensionType.EARLY_DATA):
            assert first is not None
            self._start_early_data(first, raw)

    def _collect_psks(self, now: float) -> list[_PskOffer]:
        config = self.cconfig
        session = self.session
        host = self.server_hostname
        if session is None and config.session_cache is not None and host:
            session = config.session_cache.take(host, now)
        if session is not None and (
            not session.is_valid(now)
            or session.cipher_suite not in (config.cipher_suites if session.version != TLS12 else config.tls12_cipher_suites)
            or (session.server_name is not None and host is not None and session.server_name != host)
        ):
            session = None
        if session is not None and session.version == TLS12:
            # RFC 7627 section 5.3: a session made without extended_master_secret is
            # not offered (no legacy insecure resumption): a full handshake instead
            self.session12 = session if config.tls12 and session.extended_master_secret else None
            session = None
        self.session = session
        offers: list[_PskOffer] = []
        if not config.tls13:
            return offers
        if session is not None:
            offers.append(_PskOffer(session.ticket, session.psk, session.hash_name, b"res binder",
                                    suite_info(session.cipher_suite), session=session))
        for psk in config.external_psks:
            suites = [s for s in config.cipher_suites if s in SUITES and SUITES[s].hash_name == psk.hash_name]
            if suites:
                offers.append(_PskOffer(psk.identity, psk.key, psk.hash_name, psk.binder_label,
                                        suite_info(suites[0]), external=psk))
        return offers

    def hello_extensions(
        self, offer: _Offer, cookie: bytes | None = None, *, now: float = 0.0, early: bool = False
    ) -> list[ext.Extension]:
        config = self.cconfig
        out: list[ext.Extension] = []
        host = self.server_hostname
        if host and config.server_name_indication and not _is_ip(host):
            out.append(ext.ServerName.for_host(host.rstrip(".")))
        if not offer.psk_only:  # psk_ke only: no (EC)DHE, no certificates
            out.append(ext.SupportedGroups(list(config.groups)))
            out.append(ext.SignatureAlgorithms(_signature_algorithms(config)))
        if self.offered_alpn:
            out.append(ext.ALPN(list(self.offered_alpn)))
        if config.tls12:  # RFC 7627, 5746, 8422, 5077
            out.append(ext.ExtendedMasterSecret())
            out.append(ext.RenegotiationInfo(b""))
            out.append(ext.ECPointFormats([0]))
            # (an empty one asks for a ticket: the SessionTicket event carries it,
            # with or without a session cache, as TLS 1.3 tickets do)
            offered12 = self.session12
            out.append(ext.SessionTicket(offered12.ticket if offered12 is not None else b""))
        if config.tls13:
            if not offer.psk_only:
                out.append(ext.KeyShareClientHello([ext.KeyShareEntry(g, s.public) for g, s in offer.shares.items()]))
            if config.psk_modes:
                out.append(ext.PskKeyExchangeModes(list(config.psk_modes)))
            versions = [TLS13, TLS12] if config.tls12 else [TLS13]
            out.append(ext.SupportedVersionsClientHello([self.wire(v) for v in versions]))
        if config.certificate_compression and not offer.psk_only and config.tls13:
            out.append(ext.CompressCertificate(list(config.certificate_compression)))
        if config.record_size_limit is not None:
            out.append(ext.RecordSizeLimit(config.record_size_limit))
        if cookie is not None:
            out.append(ext.Cookie(cookie))
        if early:
            out.append(ext.EarlyData())
        if self.datagram is not None:
            out.extend(self.datagram.client_hello_extensions())
        if offer.psks:
            identities = [
                ext.PskIdentity(p.identity, p.session.obfuscated_ticket_age(now) if p.session is not None else 0)
                for p in offer.psks
            ]
            out.append(ext.PreSharedKeyClientHello(identities, [bytes(p.suite.hash_len) for p in offer.psks]))
        return out

    def set_binders(self, hello: ClientHello, offer: _Offer, transcript: Transcript | None) -> None:
        """Fill in the binders over Truncate(ClientHello) (RFC 8446 section 4.2.11.2);
        ``transcript``: the HelloRetryRequest's, for a second ClientHello."""
        if hello.psk_offer() is None or not offer.psks:
            return
        truncated = hello.encode_truncated()
        hello.set_binders([
            psk_binder(self.backend, p.suite, p.key, p.label, truncated, transcript) for p in offer.psks
        ])

    def _start_early_data(self, offer: _PskOffer, client_hello_raw: bytes) -> None:
        import hashlib

        session = offer.session
        assert session is not None
        early = EarlySecrets(self.backend, offer.suite, offer.key)
        secret = early.client_early_traffic_secret(hashlib.new(offer.hash_name, client_hello_raw).digest())
        self.key_log("CLIENT_EARLY_TRAFFIC_SECRET", secret)
        self.send_ccs_once()  # right after the ClientHello (RFC 8446 appendix D.4)
        self.set_write_secret(offer.suite, secret)
        self.early = EarlyData.SENDING
        self.early_limit = session.max_early_data
        if self.early_data:
            self.send_early_data(self.early_data)

    def session_from(self, traffic: ClientTraffic, nst: NewSessionTicket) -> ClientSession | None:
        """A ClientSession for a NewSessionTicket (stored in the session cache, if any)."""
        if nst.ticket_lifetime > MAX_TICKET_LIFETIME:
            raise IllegalParameter("ticket_lifetime exceeds seven days")
        if nst.ticket_lifetime == 0:
            return None
        info = ext.get_extension(nst.extensions, ext.TicketEarlyDataInfo)
        out = self.outcome
        session = ClientSession(
            ticket=nst.ticket,
            psk=resumption_psk(self.backend, traffic.suite, traffic.resumption_master_secret, nst.ticket_nonce),
            cipher_suite=int(traffic.suite.suite),
            received_at=self.cconfig.clock(),
            lifetime=nst.ticket_lifetime,
            age_add=nst.ticket_age_add,
            max_early_data=info.max_early_data_size if info is not None else 0,
            server_name=self.server_hostname,
            alpn=out.alpn,
            peer_certificates=out.peer_certificates,
        )
        cache = self.cconfig.session_cache
        if cache is not None and self.server_hostname:
            cache.add(self.server_hostname, session)
        self.session_established = session
        return session


class _Offer:
    """What our ClientHello offered that the server's answer is checked against."""

    __slots__ = ("shares", "psks", "psk_only", "hello_raw")

    def __init__(self, shares: dict[int, ClientShare], psks: list[_PskOffer], psk_only: bool) -> None:
        self.shares = shares
        self.psks = psks
        self.psk_only = psk_only
        self.hello_raw = b""
        """The first ClientHello as sent (a TLS 1.2 transcript starts with it)."""


def _cipher_suites(config: ClientConfig) -> list[int]:
    out = list(config.cipher_suites) if config.tls13 else []
    if config.tls12:
        out += config.tls12_cipher_suites
    return out


def _signature_algorithms(config: ClientConfig) -> list[int]:
    """signature_algorithms: ours, plus RSA PKCS#1 v1.5 when TLS 1.2 is offered (TLS 1.2
    servers may sign with it; TLS 1.3 allows it for certificates only)."""
    schemes = list(config.signature_schemes)
    if config.tls12:
        schemes += [s for s in _PKCS1 if s not in schemes]
    return schemes


_PKCS1 = (SignatureScheme.RSA_PKCS1_SHA256, SignatureScheme.RSA_PKCS1_SHA384, SignatureScheme.RSA_PKCS1_SHA512)


# --------------------------------------------------------------------------- states


class ExpectServerHello(State):
    """Our ClientHello is out; a ServerHello or (once) a HelloRetryRequest comes back."""

    __slots__ = ("hello", "offer", "transcript", "hrr_suite")

    EXPECTS = frozenset({_HS.SERVER_HELLO, _HS.HELLO_VERIFY_REQUEST})

    def __init__(
        self, hello: ClientHello, offer: _Offer, transcript: Transcript, hrr_suite: SuiteInfo | None = None
    ) -> None:
        self.hello = hello
        self.offer = offer
        self.transcript = transcript
        self.hrr_suite = hrr_suite
        """The suite a HelloRetryRequest chose (the ServerHello must repeat it)."""

    def decode(self, msg_type: int, body: bytes) -> Any:
        if msg_type == _HS.HELLO_VERIFY_REQUEST:
            return HelloVerifyRequest.from_bytes(body)
        return super().decode(msg_type, body)

    def handle(self, hs: ClientHandshake, sh: ServerHello, raw: bytes) -> State:
        if isinstance(sh, HelloVerifyRequest):  # DTLS 1.2: repeat the ClientHello with the cookie
            hello, transcript = answer_hello_verify_request(hs, self.hello, self.offer, sh, self.hrr_suite)
            return ExpectServerHello(hello, self.offer, transcript)
        config = hs.cconfig
        exts = sh.extensions
        if sh.legacy_version <= 0x0300:  # RFC 8446 appendix D.5
            raise ProtocolVersionError(f"ServerHello.legacy_version 0x{sh.legacy_version:04x} (SSL 3.0 or older)")
        versions = ext.get_extension(exts, ext.SupportedVersionsServerHello)
        if versions is None:
            # RFC 8446 section 4.1.3: a TLS 1.3 server negotiating less says so in its
            # random; a TLS 1.3 client that sees it is being downgraded.
            if config.tls13 and sh.random[-8:] in (_DOWNGRADE_TLS12, _DOWNGRADE_TLS11):
                raise IllegalParameter("downgrade sentinel in ServerHello.random")
            if sh.legacy_version == hs.wire(TLS12) and config.tls12 and not sh.is_hrr:
                return enter_tls12(hs, self.hello, self.offer.hello_raw, sh, raw, hs.session12)
            if config.tls12:
                raise ProtocolVersionError(
                    f"peer supports {version_name(sh.legacy_version)} at most; "
                    "ferrotls speaks TLS 1.2 and 1.3"
                )
            raise ProtocolVersionError(
                f"peer supports {version_name(sh.legacy_version)} at most; ferrotls speaks TLS 1.3"
            )
        if versions.selected_version != hs.wire(TLS13):
            raise IllegalParameter(f"server selected version 0x{versions.selected_version:04x}, not TLS 1.3")
        if sh.legacy_version != hs.wire(TLS12):
            raise IllegalParameter(f"ServerHello.legacy_version 0x{sh.legacy_version:04x}")
        if sh.legacy_session_id_echo != self.hello.legacy_session_id:
            raise IllegalParameter("ServerHello does not echo our legacy_session_id")
        if sh.cipher_suite not in config.cipher_suites or sh.cipher_suite not in SUITES:
            raise IllegalParameter(f"server chose cipher suite 0x{sh.cipher_suite:04x} we did not offer")
        if sh.legacy_compression_method != 0:
            raise IllegalParameter("ServerHello.legacy_compression_method must be 0")
        if self.hrr_suite is not None and self.hrr_suite.suite != sh.cipher_suite:
            raise IllegalParameter("ServerHello cipher suite differs from HelloRetryRequest's")
        offered = {e.ext_type for e in self.hello.extensions}
        if sh.is_hrr:
            offered.add(ExtensionType.COOKIE)  # the one unrequested extension (RFC 8446 4.1.4)
        check_extensions(exts, ext.Context.HRR if sh.is_hrr else ext.Context.SH, config.limits, offered)
        suite = suite_info(sh.cipher_suite)
        self.transcript.start_hash(suite.hash_name)
        if sh.is_hrr:
            return self._hello_retry_request(hs, sh, raw, suite)
        return self._server_hello(hs, sh, raw, suite)

    def _server_hello(self, hs: ClientHandshake, sh: ServerHello, raw: bytes, suite: SuiteInfo) -> State:
        config = hs.cconfig
        out = hs.outcome
        out.suite = suite
        self.transcript.add(raw)
        if hs.datagram is not None:
            hs.datagram.server_hello_received(sh)
        chosen = self._selected_psk(ext.get_extension(sh.extensions, ext.PreSharedKeyServerHello), suite)
        key_share = ext.get_extension(sh.extensions, ext.KeyShareServerHello)
        shared_secret: bytes | None = None
        if key_share is None:
            if chosen is None:
                raise MissingExtension("ServerHello has no key_share and selects no PSK")
            if PskKeyExchangeMode.PSK_KE not in config.psk_modes:
                raise MissingExtension("ServerHello has no key_share but we offered only psk_dhe_ke")
        else:
            if chosen is not None and PskKeyExchangeMode.PSK_DHE_KE not in config.psk_modes:
                raise IllegalParameter("ServerHello has a key_share but we offered only psk_ke")
            group = key_share.server_share.group
            share = self.offer.shares.get(group)
            if share is None:
                raise IllegalParameter(f"server key share for group 0x{group:04x} we did not offer")
            shared_secret = share.finish(key_share.server_share.key_exchange)
            out.group = int(group)
        if chosen is not None:
            out.resumed = True
            if chosen.external is not None:
                out.psk_identity = chosen.identity
            elif chosen.session is not None:
                out.peer_certificates = chosen.session.peer_certificates
        if chosen is None or chosen is not self.offer.psks[0] or chosen.suite.suite != suite.suite:
            hs.reject_early_data()
        early = EarlySecrets(hs.backend, suite, chosen.key if chosen is not None else None)
        secrets = early.into_handshake(shared_secret)
        hello_hash = self.transcript.digest()
        client_hs = secrets.client_handshake_traffic_secret(hello_hash)
        server_hs = secrets.server_handshake_traffic_secret(hello_hash)
        hs.key_log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_hs)
        hs.key_log("SERVER_HANDSHAKE_TRAFFIC_SECRET", server_hs)
        hs.set_read_secret(suite, server_hs)
        # From here on our records (the second flight, or an alert) are protected.
        hs.send_ccs_once()
        if hs.early is not EarlyData.SENDING:  # else the 0-RTT keys stay until EE/Finished
            hs.set_write_secret(suite, client_hs)
        keys = _HandshakeKeys(suite, secrets, client_hs, server_hs)
        return ExpectEncryptedExtensions(self.hello, keys, self.transcript, chosen)

    def _selected_psk(self, psk: ext.PreSharedKeyServerHello | None, suite: SuiteInfo) -> _PskOffer | None:
        if psk is None:
            return None
        if psk.selected_identity >= len(self.offer.psks):
            raise IllegalParameter("the server selected a PSK identity we did not offer")
        chosen = self.offer.psks[psk.selected_identity]
        if chosen.hash_name != suite.hash_name:
            raise IllegalParameter("the server selected a PSK whose hash differs from the cipher suite's")
        return chosen

    def _hello_retry_request(self, hs: ClientHandshake, hrr: ServerHello, raw: bytes, suite: SuiteInfo) -> State:
        config = hs.cconfig
        if self.hrr_suite is not None:
            raise UnexpectedMessage("a second HelloRetryRequest")
        hs.io.stats.hello_retry = True
        key_share = ext.get_extension(hrr.extensions, ext.KeyShareHelloRetryRequest)
        cookie = ext.get_extension(hrr.extensions, ext.Cookie)
        if key_share is None and cookie is None:
            raise IllegalParameter("HelloRetryRequest would not change the ClientHello")
        shares = self.offer.shares
        if key_share is not None:
            group = key_share.selected_group
            if group not in config.groups:
                raise IllegalParameter(f"HelloRetryRequest selected group 0x{group:04x} we do not support")
            if group in shares:
                raise IllegalParameter("HelloRetryRequest asks for a key share we already sent")
            shares = {group: start_exchange(hs.backend, group)}
        self.transcript.replace_with_message_hash()
        self.transcript.add(raw)
        if hs.early is EarlyData.SENDING:  # 0-RTT is rejected by a HelloRetryRequest
            hs.reject_early_data()
            hs.io.set_write_protector(None)
        offer = _Offer(shares, [p for p in self.offer.psks if p.hash_name == suite.hash_name],
                       self.offer.psk_only)
        first = self.hello
        hello = ClientHello(
            legacy_version=first.legacy_version,
            legacy_cookie=first.legacy_cookie,
            random=first.random,
            legacy_session_id=first.legacy_session_id,
            cipher_suites=list(first.cipher_suites),
            extensions=hs.hello_extensions(offer, cookie.cookie if cookie is not None else None, now=config.clock()),
        )
        if config.client_hello_hook is not None:
            hello = config.client_hello_hook(hello)
        hs.set_binders(hello, offer, self.transcript)
        hs.send_ccs_once()
        hs.send(self.transcript, hello)
        return ExpectServerHello(hello, offer, self.transcript, hrr_suite=suite)


class _HandshakeKeys:
    """The handshake-stage key schedule and both handshake traffic secrets."""

    __slots__ = ("suite", "secrets", "client", "server")

    def __init__(self, suite: SuiteInfo, secrets: HandshakeSecrets, client: bytes, server: bytes) -> None:
        self.suite = suite
        self.secrets = secrets
        self.client = client
        self.server = server

    def __repr__(self) -> str:
        return f"_HandshakeKeys({self.suite.suite.name}, <redacted>)"


class ExpectEncryptedExtensions(State):
    __slots__ = ("hello", "keys", "transcript", "psk")

    EXPECTS = frozenset({_HS.ENCRYPTED_EXTENSIONS})

    def __init__(self, hello: ClientHello, keys: _HandshakeKeys, transcript: Transcript,
                 psk: _PskOffer | None) -> None:
        self.hello = hello
        self.keys = keys
        self.transcript = transcript
        self.psk = psk

    def handle(self, hs: ClientHandshake, ee: EncryptedExtensions, raw: bytes) -> State:
        config = hs.cconfig
        out = hs.outcome
        offered = {e.ext_type for e in self.hello.extensions}
        check_extensions(ee.extensions, ext.Context.EE, config.limits, offered)
        alpn = ext.get_extension(ee.extensions, ext.ALPN)
        if alpn is not None:
            if len(alpn.protocols) != 1 or alpn.protocols[0] not in hs.offered_alpn:
                raise IllegalParameter("server selected an ALPN protocol we did not offer")
            out.alpn = alpn.protocols[0].decode("ascii", "replace")
        size_limit = ext.get_extension(ee.extensions, ext.RecordSizeLimit)
        if size_limit is not None:  # we offered ours (else check_extensions refused it)
            hs.apply_peer_record_size_limit(size_limit.limit)
            if config.record_size_limit is not None:  # (a hook may have sent the extension)
                hs.enforce_record_size_limit(config.record_size_limit)
        if ext.get_extension(ee.extensions, ext.EarlyData) is not None:
            session = self.psk.session if self.psk is not None else None
            if hs.early is not EarlyData.SENDING or session is None:
                raise IllegalParameter("the server accepted 0-RTT data we did not send")
            if (session.alpn or None) != out.alpn:
                raise IllegalParameter("0-RTT accepted with a different ALPN protocol than the session's")
            hs.early = EarlyData.ACCEPTED
            out.early_data_accepted = True
        elif hs.early is EarlyData.SENDING:
            hs.reject_early_data()
            hs.set_write_secret(self.keys.suite, self.keys.client)
        self.transcript.add(raw)
        if self.psk is not None:  # no certificates in PSK handshakes
            return ExpectFinished(self.keys, self.transcript, None)
        compress = self.hello.has(ExtensionType.COMPRESS_CERTIFICATE)
        return ExpectCertificateOrRequest(offered, compress, self.keys, self.transcript)


class ExpectCertificateOrRequest(State):
    """The server may ask for our certificate before sending its own (rustls's
    ExpectCertificateOrCertReq): the branch point of a certificate handshake."""

    __slots__ = ("offered", "compress", "keys", "transcript")

    EXPECTS = frozenset({_HS.CERTIFICATE, _HS.COMPRESSED_CERTIFICATE, _HS.CERTIFICATE_REQUEST})

    def __init__(self, offered: set[int], compress: bool, keys: _HandshakeKeys, transcript: Transcript) -> None:
        self.offered = offered
        self.compress = compress
        self.keys = keys
        self.transcript = transcript

    def handle(self, hs: ClientHandshake, message: Any, raw: bytes) -> State:
        following = ExpectCertificate(self.offered, self.compress, self.keys, self.transcript, None)
        if isinstance(message, CertificateRequest):
            return ExpectCertificateRequest(following).handle(hs, message, raw)
        return following.handle(hs, message, raw)


class ExpectCertificateRequest(State):
    __slots__ = ("following",)

    EXPECTS = frozenset({_HS.CERTIFICATE_REQUEST})

    def __init__(self, following: ExpectCertificate) -> None:
        self.following = following

    def handle(self, hs: ClientHandshake, request: CertificateRequest, raw: bytes) -> State:
        if request.certificate_request_context:
            raise IllegalParameter("certificate_request_context must be empty in the handshake")
        check_extensions(request.extensions, ext.Context.CR, hs.cconfig.limits)
        if ext.get_extension(request.extensions, ext.SignatureAlgorithms) is None:
            raise MissingExtension("CertificateRequest without signature_algorithms")
        self.following.transcript.add(raw)
        self.following.request = request
        return self.following


class ExpectCertificate(State):
    __slots__ = ("offered", "compress", "keys", "transcript", "request")

    EXPECTS = frozenset({_HS.CERTIFICATE, _HS.COMPRESSED_CERTIFICATE})

    def __init__(self, offered: set[int], compress: bool, keys: _HandshakeKeys, transcript: Transcript,
                 request: CertificateRequest | None) -> None:
        self.offered = offered
        self.compress = compress
        self.keys = keys
        self.transcript = transcript
        self.request = request

    def handle(self, hs: ClientHandshake, message: Certificate | CompressedCertificate, raw: bytes) -> State:
        config = hs.cconfig
        cert = receive_certificate(
            hs, message, compression_offered=self.compress, requested=self.offered, context=b""
        )
        if not cert.certificate_list:
            raise DecodeError("the server sent an empty Certificate message")
        chain = [entry.cert_data for entry in cert.certificate_list]
        hostname = hs.server_hostname if config.check_hostname else None
        verified = config.get_verifier().verify_server_chain(chain, hostname, utc(config.clock))
        hs.outcome.peer_certificates = tuple(chain)
        self.transcript.add(raw)
        return ExpectCertificateVerify(verified.leaf, self.keys, self.transcript, self.request)


class ExpectCertificateVerify(State):
    __slots__ = ("leaf", "keys", "transcript", "request")

    EXPECTS = frozenset({_HS.CERTIFICATE_VERIFY})

    def __init__(self, leaf: Any, keys: _HandshakeKeys, transcript: Transcript,
                 request: CertificateRequest | None) -> None:
        self.leaf = leaf
        self.keys = keys
        self.transcript = transcript
        self.request = request

    def handle(self, hs: ClientHandshake, cv: CertificateVerify, raw: bytes) -> State:
        check_certificate_verify(self.leaf, cv, self.transcript, server=True, offered=hs.cconfig.signature_schemes)
        hs.outcome.signature_scheme = int(cv.algorithm)
        self.transcript.add(raw)
        return ExpectFinished(self.keys, self.transcript, self.request)


class ExpectFinished(State):
    __slots__ = ("keys", "transcript", "request")

    EXPECTS = frozenset({_HS.FINISHED})

    def __init__(self, keys: _HandshakeKeys, transcript: Transcript, request: CertificateRequest | None) -> None:
        self.keys = keys
        self.transcript = transcript
        self.request = request

    def handle(self, hs: ClientHandshake, fin: Finished, raw: bytes) -> State:
        keys, transcript = self.keys, self.transcript
        suite = keys.suite
        check_finished(hs.backend, suite, fin.verify_data, keys.server, transcript)
        transcript.add(raw)
        master = keys.secrets.into_master()
        c_ap, s_ap, exporter = application_secrets(hs, master, transcript.digest())
        hs.set_read_secret(suite, s_ap)
        if hs.early is EarlyData.ACCEPTED:  # EndOfEarlyData under the 0-RTT keys
            hs.send(transcript, EndOfEarlyData())
            hs.set_write_secret(suite, keys.client)
        # Our second flight: [Certificate CertificateVerify] Finished.
        if self.request is not None:
            self._send_client_certificate(hs, self.request)
        hs.send(transcript, Finished(verify_data=finished_data(hs.backend, suite, keys.client, transcript)))
        resumption = master.resumption_master_secret(transcript.digest())
        hs.set_write_secret(suite, c_ap)
        return hs.finish(ClientTraffic(suite, s_ap, c_ap, exporter, resumption))

    def _send_client_certificate(self, hs: ClientHandshake, request: CertificateRequest) -> None:
        certified = hs.cconfig.certificate
        context = request.certificate_request_context
        scheme = None
        if certified is not None:
            offered = ext.get_extension(request.extensions, ext.SignatureAlgorithms)
            try:
                scheme = certified.choose_scheme(offered.schemes if offered is not None else [])
            except HandshakeFailure:
                scheme = None  # no usable scheme: send an empty certificate
        if certified is None or scheme is None:
            hs.send(self.transcript, Certificate(certificate_request_context=context, certificate_list=[]))
            return
        entries = [CertificateEntry(cert_data=der) for der in certified.chain_der]
        compress = ext.get_extension(request.extensions, ext.CompressCertificate)
        send_certificate(
            hs, self.transcript, Certificate(certificate_request_context=context, certificate_list=entries),
            compress.algorithms if compress is not None else None,
        )
        content = certificate_verify_message(self.transcript.digest(), server=False)
        hs.send(self.transcript, CertificateVerify(algorithm=int(scheme), signature=certified.sign(int(scheme), content)))


class ClientTraffic(Traffic):
    """After the handshake: NewSessionTickets and KeyUpdates from the server."""

    __slots__ = ()

    EXPECTS = frozenset({_HS.NEW_SESSION_TICKET, _HS.KEY_UPDATE})

    def handle(self, hs: ClientHandshake, message: Any, raw: bytes) -> State:
        if isinstance(message, NewSessionTicket):
            check_extensions(message.extensions, ext.Context.NST, hs.cconfig.limits)
            hs.io.emit(SessionTicket(message, hs.session_from(self, message)))
            return self
        return self.on_key_update(hs, message)
