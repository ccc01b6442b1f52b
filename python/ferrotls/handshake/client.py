"""The client side of the TLS 1.3 handshake (RFC 8446 section 2, figure 1).

States: ``wait_sh`` -> ``wait_ee`` -> ``wait_cert_cr`` -> ``wait_cert`` ->
``wait_cv`` -> ``wait_finished`` -> ``traffic``.  A HelloRetryRequest loops
back to ``wait_sh`` once.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import TYPE_CHECKING, Any

from ..errors import (
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    MissingExtension,
    ProtocolVersionError,
    UnexpectedMessage,
)
from ..events import SessionTicket
from ..keyschedule import EarlySecrets, resumption_psk
from ..kx import ClientShare, start_exchange
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
    NewSessionTicket,
    ServerHello,
)
from ..record import ContentType
from ..sign import certificate_verify_message, verify
from ..suites import SUITES, SuiteInfo, suite_info
from ..tickets import MAX_TICKET_LIFETIME, ClientSession
from .common import HandshakeBase, version_name
from .policy import check_certificate, check_extensions

if TYPE_CHECKING:
    from ..config import ClientConfig
    from ..connection import Connection
    from ..psk import ExternalPsk

__all__ = ["ClientHandshake"]

TLS13 = 0x0304
_DOWNGRADE_TLS12 = b"DOWNGRD\x01"
_DOWNGRADE_TLS11 = b"DOWNGRD\x00"
_HS = HandshakeType


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


class ClientHandshake(HandshakeBase):
    """Drives one client handshake."""

    is_client = True
    TABLE = {
        "wait_sh": (frozenset({_HS.SERVER_HELLO}), "on_server_hello"),
        "wait_ee": (frozenset({_HS.ENCRYPTED_EXTENSIONS}), "on_encrypted_extensions"),
        "wait_cert_cr": (
            frozenset({_HS.CERTIFICATE, _HS.COMPRESSED_CERTIFICATE, _HS.CERTIFICATE_REQUEST}),
            "on_certificate_or_request",
        ),
        "wait_cert": (frozenset({_HS.CERTIFICATE, _HS.COMPRESSED_CERTIFICATE}), "on_certificate"),
        "wait_cv": (frozenset({_HS.CERTIFICATE_VERIFY}), "on_certificate_verify"),
        "wait_finished": (frozenset({_HS.FINISHED}), "on_finished"),
        "traffic": (
            frozenset({_HS.NEW_SESSION_TICKET, _HS.KEY_UPDATE}),
            "on_post_handshake",
        ),
    }

    def __init__(
        self, conn: Connection, config: ClientConfig, server_hostname: str | None,
        session: ClientSession | None = None, early_data: bytes | None = None,
    ) -> None:
        super().__init__(conn, config)
        if config.check_hostname and not server_hostname:
            from ..errors import UsageError

            raise UsageError("check_hostname is on but no server_hostname was given")
        self.cconfig = config
        self.server_hostname = server_hostname
        self.server_name = server_hostname
        self.shares: dict[int, ClientShare] = {}
        self.client_hello: ClientHello | None = None
        self.retried = False
        self.ccs_sent = False
        self.handshake_secrets: Any = None
        self.server_hs_secret = b""
        self.client_hs_secret = b""
        self.certificate_request: CertificateRequest | None = None
        self.peer_leaf: Any = None
        self.offered_alpn = [p.encode("ascii") if isinstance(p, str) else p for p in config.alpn_protocols]
        self.session = session
        self.early_data = early_data
        self.psk_offers: list[_PskOffer] = []
        self.chosen_psk: _PskOffer | None = None
        self.psk_only = False
        self.early_state = "none"  # none -> sending -> accepted | rejected
        self.early_sent = bytearray()
        self.early_limit = 0

    # -- ClientHello -------------------------------------------------------------

    def start(self) -> None:
        self.stats.begin()
        try:
            self._start()
        finally:
            self.stats.end()

    def _start(self) -> None:
        config = self.cconfig
        for group in config.key_share_groups:
            if group not in config.groups:
                raise ValueError(f"key share group 0x{group:04x} is not in groups")
        for suite in config.cipher_suites:
            suite_info(suite)  # ValueError for suites we cannot run
        self.client_random = config.rng(32)
        session_id = config.rng(32) if config.middlebox_compat else b""
        now = config.clock()
        self._collect_psks(now)
        self.psk_only = bool(self.psk_offers) and tuple(config.psk_modes) == (PskKeyExchangeMode.PSK_KE,)
        if not self.psk_only:
            for group in config.key_share_groups:
                self.shares[group] = start_exchange(
                    self.backend, group, config.key_share_private_keys.get(group)
                )
        first = self.psk_offers[0] if self.psk_offers else None
        want_early = (
            self.early_data is not None
            and first is not None
            and first.session is not None
            and first.session.max_early_data > 0
        )
        hello = ClientHello(
            random=self.client_random,
            legacy_session_id=session_id,
            cipher_suites=list(config.cipher_suites),
            extensions=self._hello_extensions(now=now, early=want_early),
        )
        if config.client_hello_hook is not None:
            hello = config.client_hello_hook(hello)
        self._set_binders(hello)
        self.client_hello = hello
        raw = self.send_message(hello, legacy_version=0x0301)
        self.note_client_hello(hello, raw)
        self.state = "wait_sh"
        if want_early and hello.has(ExtensionType.EARLY_DATA):
            assert first is not None and first.session is not None
            self._start_early_data(first, raw)

    # -- PSKs and 0-RTT --------------------------------------------------------------

    def _collect_psks(self, now: float) -> None:
        config = self.cconfig
        session = self.session
        host = self.server_hostname
        if session is None and config.session_cache is not None and host:
            session = config.session_cache.take(host, now)
        if session is not None and (
            not session.is_valid(now)
            or session.cipher_suite not in config.cipher_suites
            or session.cipher_suite not in SUITES
            or (session.server_name is not None and host is not None and session.server_name != host)
        ):
            session = None
        self.session = session
        if session is not None:
            self.psk_offers.append(
                _PskOffer(session.ticket, session.psk, session.hash_name, b"res binder",
                          suite_info(session.cipher_suite), session=session)
            )
        for psk in config.external_psks:
            suites = [s for s in config.cipher_suites if s in SUITES and SUITES[s].hash_name == psk.hash_name]
            if suites:
                self.psk_offers.append(
                    _PskOffer(psk.identity, psk.key, psk.hash_name, psk.binder_label,
                              suite_info(suites[0]), external=psk)
                )

    def _psk_extension(self, now: float) -> ext.PreSharedKeyClientHello:
        identities = [
            ext.PskIdentity(
                p.identity, p.session.obfuscated_ticket_age(now) if p.session is not None else 0
            )
            for p in self.psk_offers
        ]
        binders = [bytes(p.suite.hash_len) for p in self.psk_offers]
        return ext.PreSharedKeyClientHello(identities, binders)

    def _set_binders(self, hello: ClientHello) -> None:
        """Fill in the binders over Truncate(ClientHello) (RFC 8446 section 4.2.11.2)."""
        if hello.psk_offer() is None or not self.psk_offers:
            return
        truncated = hello.encode_truncated()
        binders = []
        for p in self.psk_offers:
            if self.transcript.hash_name is not None:  # after a HelloRetryRequest
                binder_hash = self.transcript.digest_with(truncated)
            else:
                binder_hash = hashlib.new(p.hash_name, truncated).digest()
            early = EarlySecrets(self.backend, p.suite, p.key)
            binders.append(early.binder(early.binder_key(label=p.label), binder_hash))
        hello.set_binders(binders)

    def _start_early_data(self, offer: _PskOffer, client_hello_raw: bytes) -> None:
        session = offer.session
        assert session is not None
        early = EarlySecrets(self.backend, offer.suite, offer.key)
        secret = early.client_early_traffic_secret(
            hashlib.new(offer.hash_name, client_hello_raw).digest()
        )
        self.key_log("CLIENT_EARLY_TRAFFIC_SECRET", secret)
        if self.cconfig.middlebox_compat and not self.ccs_sent:
            self.conn._send_ccs()  # right after the ClientHello (RFC 8446 appendix D.4)
            self.ccs_sent = True
        self.conn._records.write_protector = self.protector_for(offer.suite, secret)
        self.early_state = "sending"
        self.early_limit = session.max_early_data
        data = self.early_data or b""
        if data:
            self.send_early_data(data)

    def send_early_data(self, data: bytes | bytearray | memoryview) -> None:
        from ..errors import UsageError

        if self.early_state != "sending" or self.state not in ("wait_sh", "wait_ee"):
            raise UsageError("0-RTT data can be sent only after offering it, before the server answers")
        if len(self.early_sent) + len(data) > self.early_limit:
            raise UsageError(
                f"0-RTT data is limited to {self.early_limit} bytes by the ticket"
            )
        self.early_sent += data
        self.conn._records.write(ContentType.APPLICATION_DATA, data)

    @property
    def early_data_open(self) -> bool:
        return self.early_state == "sending" and self.state in ("wait_sh", "wait_ee")

    def _reject_early_data(self) -> None:
        if self.early_state == "sending":
            self.early_state = "rejected"
            self.early_data_rejected = len(self.early_sent)

    def _hello_extensions(
        self, cookie: bytes | None = None, *, now: float = 0.0, early: bool = False
    ) -> list[ext.Extension]:
        config = self.cconfig
        out: list[ext.Extension] = []
        host = self.server_hostname
        if host and config.server_name_indication and not _is_ip(host):
            out.append(ext.ServerName.for_host(host.rstrip(".")))
        if not self.psk_only:  # psk_ke only: no (EC)DHE, no certificates
            out.append(ext.SupportedGroups(list(config.groups)))
            out.append(ext.SignatureAlgorithms(list(config.signature_schemes)))
        if self.offered_alpn:
            out.append(ext.ALPN(list(self.offered_alpn)))
        if not self.psk_only:
            out.append(
                ext.KeyShareClientHello(
                    [ext.KeyShareEntry(g, s.public) for g, s in self.shares.items()]
                )
            )
        if config.psk_modes:
            out.append(ext.PskKeyExchangeModes(list(config.psk_modes)))
        out.append(ext.SupportedVersionsClientHello([TLS13]))
        if config.certificate_compression and not self.psk_only:
            out.append(ext.CompressCertificate(list(config.certificate_compression)))
        if config.record_size_limit is not None:
            out.append(ext.RecordSizeLimit(config.record_size_limit))
        if cookie is not None:
            out.append(ext.Cookie(cookie))
        if early:
            out.append(ext.EarlyData())
        if self.psk_offers:
            out.append(self._psk_extension(now))  # must be last
        return out

    # -- ServerHello / HelloRetryRequest --------------------------------------------------

    def on_server_hello(self, sh: ServerHello, raw: bytes) -> None:
        assert self.client_hello is not None
        exts = sh.extensions
        if sh.legacy_version <= 0x0300:  # RFC 8446 appendix D.5
            raise ProtocolVersionError(f"ServerHello.legacy_version 0x{sh.legacy_version:04x} (SSL 3.0 or older)")
        versions = ext.get_extension(exts, ext.SupportedVersionsServerHello)
        if versions is None:
            if sh.random[-8:] in (_DOWNGRADE_TLS12, _DOWNGRADE_TLS11):
                raise IllegalParameter("downgrade sentinel in ServerHello.random")
            raise ProtocolVersionError(
                f"peer supports {version_name(sh.legacy_version)} at most; ferrotls speaks TLS 1.3"
            )
        if versions.selected_version != TLS13:
            raise IllegalParameter(
                f"server selected version 0x{versions.selected_version:04x}, not TLS 1.3"
            )
        if sh.legacy_version != 0x0303:
            raise IllegalParameter(f"ServerHello.legacy_version 0x{sh.legacy_version:04x}")
        if sh.legacy_session_id_echo != self.client_hello.legacy_session_id:
            raise IllegalParameter("ServerHello does not echo our legacy_session_id")
        if sh.cipher_suite not in self.cconfig.cipher_suites or sh.cipher_suite not in SUITES:
            raise IllegalParameter(f"server chose cipher suite 0x{sh.cipher_suite:04x} we did not offer")
        if sh.legacy_compression_method != 0:
            raise IllegalParameter("ServerHello.legacy_compression_method must be 0")
        if self.suite is not None and self.suite.suite != sh.cipher_suite:
            raise IllegalParameter("ServerHello cipher suite differs from HelloRetryRequest's")
        offered = {e.ext_type for e in self.client_hello.extensions}
        if sh.is_hrr:
            offered.add(ExtensionType.COOKIE)  # the one unrequested extension (RFC 8446 4.1.4)
        check_extensions(exts, ext.Context.HRR if sh.is_hrr else ext.Context.SH, self.cconfig.limits, offered)
        self.suite = suite_info(sh.cipher_suite)
        self.transcript.start_hash(self.suite.hash_name)
        if sh.is_hrr:
            self._on_hello_retry_request(sh, raw)
            return
        self.hello_exchanged = True
        self.transcript.add(raw)
        chosen = self._selected_psk(ext.get_extension(exts, ext.PreSharedKeyServerHello))
        key_share = ext.get_extension(exts, ext.KeyShareServerHello)
        shared_secret: bytes | None = None
        if key_share is None:
            if chosen is None:
                raise MissingExtension("ServerHello has no key_share and selects no PSK")
            if PskKeyExchangeMode.PSK_KE not in self.cconfig.psk_modes:
                raise MissingExtension("ServerHello has no key_share but we offered only psk_dhe_ke")
        else:
            if chosen is not None and PskKeyExchangeMode.PSK_DHE_KE not in self.cconfig.psk_modes:
                raise IllegalParameter("ServerHello has a key_share but we offered only psk_ke")
            group = key_share.server_share.group
            share = self.shares.get(group)
            if share is None:
                raise IllegalParameter(f"server key share for group 0x{group:04x} we did not offer")
            shared_secret = share.finish(key_share.server_share.key_exchange)
            self.group = int(group)
        self.shares.clear()
        self.chosen_psk = chosen
        if chosen is not None:
            self.resumed = True
            if chosen.external is not None:
                self.psk_identity = chosen.identity
            elif chosen.session is not None:
                self.peer_certificates = chosen.session.peer_certificates
        if chosen is None or chosen is not self.psk_offers[0] or chosen.suite.suite != self.suite.suite:
            self._reject_early_data()
        early = EarlySecrets(self.backend, self.suite, chosen.key if chosen is not None else None)
        handshake = early.into_handshake(shared_secret)
        self.handshake_secrets = handshake
        hello_hash = self.transcript.digest()
        self.client_hs_secret = handshake.client_handshake_traffic_secret(hello_hash)
        self.server_hs_secret = handshake.server_handshake_traffic_secret(hello_hash)
        self.key_log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", self.client_hs_secret)
        self.key_log("SERVER_HANDSHAKE_TRAFFIC_SECRET", self.server_hs_secret)
        self.set_read_secret(self.server_hs_secret)
        # From here on our records (the second flight, or an alert) are protected.
        if self.cconfig.middlebox_compat and not self.ccs_sent:
            self.conn._send_ccs()
            self.ccs_sent = True
        if self.early_state != "sending":  # else the 0-RTT keys stay until EE/Finished
            self.set_write_secret(self.client_hs_secret)
        self.state = "wait_ee"

    def _selected_psk(self, psk: ext.PreSharedKeyServerHello | None) -> _PskOffer | None:
        if psk is None:
            return None
        if psk.selected_identity >= len(self.psk_offers):
            raise IllegalParameter("the server selected a PSK identity we did not offer")
        chosen = self.psk_offers[psk.selected_identity]
        assert self.suite is not None
        if chosen.hash_name != self.suite.hash_name:
            raise IllegalParameter("the server selected a PSK whose hash differs from the cipher suite's")
        return chosen

    def _on_hello_retry_request(self, hrr: ServerHello, raw: bytes) -> None:
        assert self.client_hello is not None
        if self.retried:
            raise UnexpectedMessage("a second HelloRetryRequest")
        self.retried = True
        self.stats.hello_retry = True
        key_share = ext.get_extension(hrr.extensions, ext.KeyShareHelloRetryRequest)
        cookie = ext.get_extension(hrr.extensions, ext.Cookie)
        if key_share is None and cookie is None:
            raise IllegalParameter("HelloRetryRequest would not change the ClientHello")
        if key_share is not None:
            group = key_share.selected_group
            if group not in self.cconfig.groups:
                raise IllegalParameter(f"HelloRetryRequest selected group 0x{group:04x} we do not support")
            if group in self.shares:
                raise IllegalParameter("HelloRetryRequest asks for a key share we already sent")
            self.shares = {group: start_exchange(self.backend, group)}
        self.transcript.replace_with_message_hash()
        self.transcript.add(raw)
        if self.early_state == "sending":  # 0-RTT is rejected by a HelloRetryRequest
            self._reject_early_data()
            self.conn._records.write_protector = None
        assert self.suite is not None
        hash_name = self.suite.hash_name
        self.psk_offers = [p for p in self.psk_offers if p.hash_name == hash_name]
        first = self.client_hello
        hello = ClientHello(
            random=first.random,
            legacy_session_id=first.legacy_session_id,
            cipher_suites=list(first.cipher_suites),
            extensions=self._hello_extensions(
                cookie.cookie if cookie is not None else None, now=self.cconfig.clock()
            ),
        )
        if self.cconfig.client_hello_hook is not None:
            hello = self.cconfig.client_hello_hook(hello)
        self._set_binders(hello)
        self.client_hello = hello
        if self.cconfig.middlebox_compat and not self.ccs_sent:
            self.conn._send_ccs()
            self.ccs_sent = True
        self.send_message(hello)
        self.state = "wait_sh"

    # -- server's encrypted flight --------------------------------------------------

    def on_encrypted_extensions(self, ee: EncryptedExtensions, raw: bytes) -> None:
        assert self.client_hello is not None
        offered = {e.ext_type for e in self.client_hello.extensions}
        check_extensions(ee.extensions, ext.Context.EE, self.cconfig.limits, offered)
        alpn = ext.get_extension(ee.extensions, ext.ALPN)
        if alpn is not None:
            if len(alpn.protocols) != 1 or alpn.protocols[0] not in self.offered_alpn:
                raise IllegalParameter("server selected an ALPN protocol we did not offer")
            self.alpn = alpn.protocols[0].decode("ascii", "replace")
        size_limit = ext.get_extension(ee.extensions, ext.RecordSizeLimit)
        if size_limit is not None:  # we offered ours (else check_extensions refused it)
            self.apply_peer_record_size_limit(size_limit.limit)
            self.own_record_size_limit = self.cconfig.record_size_limit
            self.enforce_record_size_limit()
        if ext.get_extension(ee.extensions, ext.EarlyData) is not None:
            session = self.chosen_psk.session if self.chosen_psk is not None else None
            if self.early_state != "sending" or session is None:
                raise IllegalParameter("the server accepted 0-RTT data we did not send")
            if (session.alpn or None) != self.alpn:
                raise IllegalParameter("0-RTT accepted with a different ALPN protocol than the session's")
            self.early_state = "accepted"
            self.early_data_accepted = True
        elif self.early_state == "sending":
            self._reject_early_data()
            self.set_write_secret(self.client_hs_secret)
        self.transcript.add(raw)
        self.state = "wait_finished" if self.chosen_psk is not None else "wait_cert_cr"

    def on_certificate_or_request(self, message: Any, raw: bytes) -> None:
        if isinstance(message, CertificateRequest):
            if message.certificate_request_context:
                raise IllegalParameter("certificate_request_context must be empty in the handshake")
            check_extensions(message.extensions, ext.Context.CR, self.cconfig.limits)
            if ext.get_extension(message.extensions, ext.SignatureAlgorithms) is None:
                raise MissingExtension("CertificateRequest without signature_algorithms")
            self.certificate_request = message
            self.transcript.add(raw)
            self.state = "wait_cert"
            return
        self.on_certificate(message, raw)

    def on_certificate(self, cert: Certificate | CompressedCertificate, raw: bytes) -> None:
        if isinstance(cert, CompressedCertificate):
            assert self.client_hello is not None
            cert = self.decompress_certificate(cert, self.client_hello.has(ExtensionType.COMPRESS_CERTIFICATE))
        if cert.certificate_request_context:
            raise IllegalParameter("server Certificate with a non-empty request context")
        if not cert.certificate_list:
            raise DecodeError("the server sent an empty Certificate message")
        assert self.client_hello is not None
        check_certificate(cert, self.cconfig.limits, {e.ext_type for e in self.client_hello.extensions})
        chain = [entry.cert_data for entry in cert.certificate_list]
        verifier = self.cconfig.get_verifier()
        hostname = self.server_hostname if self.cconfig.check_hostname else None
        verified = verifier.verify_server_chain(chain, hostname, self._now())
        self.peer_leaf = verified.leaf
        self.peer_certificates = tuple(chain)
        self.transcript.add(raw)
        self.state = "wait_cv"

    def _now(self) -> Any:
        import datetime

        return datetime.datetime.fromtimestamp(self.cconfig.clock(), datetime.timezone.utc)

    def on_certificate_verify(self, cv: CertificateVerify, raw: bytes) -> None:
        content = certificate_verify_message(self.transcript.digest(), server=True)
        verify(
            self.peer_leaf, cv.algorithm, cv.signature, content,
            offered=self.cconfig.signature_schemes,
        )
        self.signature_scheme = int(cv.algorithm)
        self.transcript.add(raw)
        self.state = "wait_finished"

    def on_finished(self, fin: Finished, raw: bytes) -> None:
        self.check_finished(fin.verify_data, self.server_hs_secret, self.transcript.digest())
        self.transcript.add(raw)
        self.peer_finished = True
        master = self.handshake_secrets.into_master()
        server_finished_hash = self.transcript.digest()
        c_ap, s_ap = self.application_secrets(master, server_finished_hash)
        self.set_read_secret(s_ap)
        if self.early_state == "accepted":  # EndOfEarlyData under the 0-RTT keys
            self.send_message(EndOfEarlyData())
            self.set_write_secret(self.client_hs_secret)
        # Our second flight: [Certificate CertificateVerify] Finished.
        if self.certificate_request is not None:
            self._send_client_certificate()
        verify_data = self.finished_data(self.client_hs_secret, self.transcript.digest())
        self.send_message(Finished(verify_data=verify_data))
        self.resumption_master_secret = master.resumption_master_secret(self.transcript.digest())
        self.set_write_secret(c_ap)
        self.handshake_secrets = None
        self.finish()
        self.release_handshake_state()

    def release_handshake_state(self) -> None:
        super().release_handshake_state()
        self.client_hello = None
        self.shares = {}
        self.peer_leaf = None  # the parsed certificate (peer_certificates keeps the DER)
        self.certificate_request = None
        self.psk_offers = []
        self.chosen_psk = None
        self.client_hs_secret = self.server_hs_secret = b""

    def _send_client_certificate(self) -> None:
        request = self.certificate_request
        assert request is not None
        certified = self.cconfig.certificate
        scheme = None
        if certified is not None:
            offered = ext.get_extension(request.extensions, ext.SignatureAlgorithms)
            schemes = offered.schemes if offered is not None else []
            try:
                scheme = certified.choose_scheme(schemes)
            except HandshakeFailure:
                scheme = None  # no usable scheme: send an empty certificate
        if certified is None or scheme is None:
            self.send_message(Certificate(certificate_request_context=request.certificate_request_context, certificate_list=[]))
            return
        entries = [CertificateEntry(cert_data=der) for der in certified.chain_der]
        compress = ext.get_extension(request.extensions, ext.CompressCertificate)
        self.send_certificate(
            Certificate(certificate_request_context=request.certificate_request_context, certificate_list=entries),
            compress.algorithms if compress is not None else None,
        )
        content = certificate_verify_message(self.transcript.digest(), server=False)
        self.send_message(CertificateVerify(algorithm=int(scheme), signature=certified.sign(int(scheme), content)))

    # -- after the handshake ---------------------------------------------------------

    def on_post_handshake(self, message: Any, raw: bytes) -> None:
        if isinstance(message, NewSessionTicket):
            check_extensions(message.extensions, ext.Context.NST, self.cconfig.limits)
            self.conn._events.append(SessionTicket(message, self._session_from(message)))
            return
        self.handle_key_update(message, raw)


    def _session_from(self, nst: NewSessionTicket) -> ClientSession | None:
        """A ClientSession for a NewSessionTicket (stored in the session cache, if any)."""
        if nst.ticket_lifetime > MAX_TICKET_LIFETIME:
            raise IllegalParameter("ticket_lifetime exceeds seven days")
        if nst.ticket_lifetime == 0 or self.suite is None:
            return None
        info = ext.get_extension(nst.extensions, ext.TicketEarlyDataInfo)
        session = ClientSession(
            ticket=nst.ticket,
            psk=resumption_psk(self.backend, self.suite, self.resumption_master_secret, nst.ticket_nonce),
            cipher_suite=int(self.suite.suite),
            received_at=self.cconfig.clock(),
            lifetime=nst.ticket_lifetime,
            age_add=nst.ticket_age_add,
            max_early_data=info.max_early_data_size if info is not None else 0,
            server_name=self.server_hostname,
            alpn=self.alpn,
            peer_certificates=self.peer_certificates,
        )
        cache = self.cconfig.session_cache
        if cache is not None and self.server_hostname:
            cache.add(self.server_hostname, session)
        return session
