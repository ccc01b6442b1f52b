"""The server side of the TLS 1.3 handshake (RFC 8446 section 2).

States: ``wait_ch`` (-> HelloRetryRequest -> ``wait_ch2``) -> the server's
flight (ServerHello ... Finished) -> ``wait_cert`` -> ``wait_cv`` ->
``wait_finished`` -> ``traffic``.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from ..config import ClientAuth, CertifiedKey
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
from ..keyschedule import EarlySecrets, resumption_psk
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
    encode_handshake,
)
from ..psk import ExternalPsk
from ..record import ContentType
from ..sign import certificate_verify_message, verify
from ..suites import SUITES, suite_info
from ..tickets import SessionState
from ..x509 import verifier_binding
from .common import HandshakeBase, version_name
from .policy import check_certificate, check_extensions

if TYPE_CHECKING:
    from ..config import ServerConfig
    from ..connection import Connection

__all__ = ["ServerHandshake"]

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

    @property
    def dhe(self) -> bool:
        return self.psk is None or self.psk_mode == PskKeyExchangeMode.PSK_DHE_KE


class ServerHandshake(HandshakeBase):
    """Drives one server handshake."""

    is_client = False
    TABLE = {
        "wait_ch": (frozenset({_HS.CLIENT_HELLO}), "on_client_hello"),
        "wait_ch2": (frozenset({_HS.CLIENT_HELLO}), "on_second_client_hello"),
        "wait_eoed": (frozenset({_HS.END_OF_EARLY_DATA}), "on_end_of_early_data"),
        "wait_cert": (frozenset({_HS.CERTIFICATE, _HS.COMPRESSED_CERTIFICATE}), "on_certificate"),
        "wait_cv": (frozenset({_HS.CERTIFICATE_VERIFY}), "on_certificate_verify"),
        "wait_finished": (frozenset({_HS.FINISHED}), "on_finished"),
        "traffic": (frozenset({_HS.KEY_UPDATE}), "handle_key_update"),
    }

    def __init__(self, conn: Connection, config: ServerConfig) -> None:
        super().__init__(conn, config)
        self.sconfig = config
        self.state = "wait_ch"
        self.ccs_sent = False
        self.first_offer: _Offer | None = None
        self.client_hs_secret = b""
        self.client_ap_secret = b""
        self.master: Any = None
        self.peer_leaf: Any = None
        self.request_sent = False
        self.offer: _Offer | None = None
        self.early_received = 0
        self.early_limit = 0
        for suite in config.cipher_suites:
            suite_info(suite)
        if not config.certificates and config.sni_callback is None and config.psk_callback is None:
            raise ValueError("a server needs at least one certificate (or an sni_callback or psk_callback)")

    # -- ClientHello ---------------------------------------------------------------

    def on_client_hello(self, hello: ClientHello, raw: bytes) -> None:
        self.note_client_hello(hello, raw)
        offer = self._examine(hello, raw)
        self.client_random = hello.random
        if offer.dhe and offer.share is None:
            self._send_hello_retry_request(offer)
            return
        self.transcript.start_hash(suite_info(offer.suite).hash_name)
        self.transcript.add(raw)
        self._respond(offer)

    def on_second_client_hello(self, hello: ClientHello, raw: bytes) -> None:
        first = self.first_offer
        assert first is not None
        if hello.legacy_session_id != first.hello.legacy_session_id or hello.random != first.hello.random:
            raise IllegalParameter("the second ClientHello changed random or legacy_session_id")
        shares = ext.get_extension(hello.extensions, ext.KeyShareClientHello)
        if first.dhe and (shares is None or [s.group for s in shares.client_shares] != [first.group]):
            raise IllegalParameter("the second ClientHello must hold one key share, for the group we asked for")
        self.conn._records.early_skip = 0  # no 0-RTT after a HelloRetryRequest
        if hello.has(ExtensionType.EARLY_DATA):
            raise IllegalParameter("early_data in the second ClientHello")
        offer = self._examine(hello, raw, forced_group=first.group if first.dhe else None)
        if offer.suite != first.suite:
            raise IllegalParameter("the second ClientHello no longer allows the cipher suite chosen")
        self.transcript.add(raw)
        self._respond(offer)

    def _examine(self, hello: ClientHello, raw: bytes, forced_group: int | None = None) -> _Offer:
        """Check a ClientHello and choose suite, group, certificate and ALPN."""
        config = self.sconfig
        exts = hello.extensions
        offer = _Offer(hello, raw)
        if hello.legacy_version <= 0x0300:  # RFC 8446 appendix D.5
            raise ProtocolVersionError(
                f"ClientHello.legacy_version 0x{hello.legacy_version:04x} (SSL 3.0 or older)"
            )
        check_extensions(exts, ext.Context.CH, config.limits)
        versions = ext.get_extension(exts, ext.SupportedVersionsClientHello)
        if versions is None or TLS13 not in versions.versions:
            offered = versions.versions if versions is not None else [hello.legacy_version]
            best = max((v for v in offered if 0x0300 <= v < 0x0304), default=hello.legacy_version)
            raise ProtocolVersionError(f"peer supports {version_name(best)} at most; ferrotls speaks TLS 1.3")
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
        offer.name = self._server_name(hello)
        psk_offer = hello.psk_offer()
        if psk_offer is not None:
            self._choose_psk(offer, psk_offer)
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

    @staticmethod
    def _server_name(hello: ClientHello) -> str | None:
        name_ext = ext.get_extension(hello.extensions, ext.ServerName)
        if name_ext is not None and name_ext.host_name is not None:
            try:
                return name_ext.host_name.decode("ascii").lower()
            except UnicodeDecodeError:
                raise DecodeError("server_name is not an ASCII host name") from None
        return None

    # -- PSKs (RFC 8446 section 4.2.11) ------------------------------------------------

    def _choose_psk(self, offer: _Offer, psk_offer: ext.PreSharedKeyClientHello) -> None:
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
            truncated = offer.raw[: len(offer.raw) - psk_offer.binders_length()]
            if self.transcript.hash_name is not None:  # second ClientHello
                if self.transcript.hash_name != hash_name:
                    continue
                binder_hash = self.transcript.digest_with(truncated)
            else:
                binder_hash = hashlib.new(hash_name, truncated).digest()
            early = EarlySecrets(self.backend, suite, key)
            expected = early.binder(early.binder_key(label=label), binder_hash)
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
                if not self._session_authentication_holds(state):
                    return None  # a full handshake authenticates the client afresh
                return state.psk, SUITES[state.cipher_suite].hash_name, b"res binder", state, None
        if config.psk_callback is not None:
            found = config.psk_callback(identity)
            if found is None:
                return None
            psk = found if isinstance(found, ExternalPsk) else ExternalPsk(identity, bytes(found))
            return psk.key, psk.hash_name, psk.binder_label, None, identity
        return None

    def _session_authentication_holds(self, state: SessionState) -> bool:
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

    def _accept_early_data(self, offer: _Offer) -> bool:
        """0-RTT policy: first identity, a ticket that allows it, same suite and ALPN,
        a fresh ticket age, and never seen before (RFC 8446 sections 4.2.10, 8)."""
        config = self.sconfig
        session = offer.session
        if (
            not config.early_data
            or self.first_offer is not None
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
                offer.scheme = int(
                    certified.choose_scheme(usable)
                )
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

    def _send_hello_retry_request(self, offer: _Offer) -> None:
        self.first_offer = offer
        self.stats.hello_retry = True
        self.transcript.start_hash(suite_info(offer.suite).hash_name)
        self.transcript.add(offer.raw)
        self.transcript.replace_with_message_hash()
        hrr = HelloRetryRequest(
            legacy_session_id_echo=offer.hello.legacy_session_id,
            cipher_suite=offer.suite,
            extensions=[
                ext.KeyShareHelloRetryRequest(offer.group),
                ext.SupportedVersionsServerHello(TLS13),
            ],
        )
        self.send_message(hrr)
        self._maybe_send_ccs(offer)
        if offer.hello.has(ExtensionType.EARLY_DATA):  # skip the 0-RTT records that follow
            self.conn._records.early_skip = max(1, self.sconfig.max_early_data_size)
        self.state = "wait_ch2"

    def _maybe_send_ccs(self, offer: _Offer) -> None:
        if self.config.middlebox_compat and offer.hello.legacy_session_id and not self.ccs_sent:
            self.conn._send_ccs()
            self.ccs_sent = True

    # -- the server's flight -------------------------------------------------------

    def _respond(self, offer: _Offer) -> None:
        config = self.sconfig
        assert offer.psk is not None or offer.certified is not None
        self.offer = offer
        self.suite = suite_info(offer.suite)
        sh_exts: list[ext.Extension] = []
        if offer.psk is not None:
            sh_exts.append(ext.PreSharedKeyServerHello(offer.psk_index))
            self.resumed = True
            self.psk_identity = offer.external
            if offer.session is not None and offer.session.client_certificate:
                self.peer_certificates = (offer.session.client_certificate,)
        shared_secret: bytes | None = None
        if offer.dhe:
            assert offer.share is not None
            server_share, shared_secret = server_exchange(
                self.backend, offer.group, offer.share, config.key_share_private_keys.get(offer.group)
            )
            self.group = int(offer.group)
            sh_exts.append(ext.KeyShareServerHello(ext.KeyShareEntry(offer.group, server_share)))
        sh_exts.append(ext.SupportedVersionsServerHello(TLS13))
        self.alpn = offer.alpn.decode("ascii", "replace") if offer.alpn is not None else None
        self.server_name = offer.name
        early = EarlySecrets(self.backend, self.suite, offer.psk)
        early_offered = offer.hello.has(ExtensionType.EARLY_DATA)
        early_secret = b""
        if early_offered and self._accept_early_data(offer):
            early_secret = early.client_early_traffic_secret(self.transcript.digest())
            self.key_log("CLIENT_EARLY_TRAFFIC_SECRET", early_secret)
            self.early_data_accepted = True
        hello = ServerHello(
            random=config.rng(32),
            legacy_session_id_echo=offer.hello.legacy_session_id,
            cipher_suite=offer.suite,
            extensions=sh_exts,
        )
        self.send_message(hello)
        self.hello_exchanged = True
        handshake = early.into_handshake(shared_secret)
        hello_hash = self.transcript.digest()
        self.client_hs_secret = handshake.client_handshake_traffic_secret(hello_hash)
        server_hs_secret = handshake.server_handshake_traffic_secret(hello_hash)
        self.key_log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", self.client_hs_secret)
        self.key_log("SERVER_HANDSHAKE_TRAFFIC_SECRET", server_hs_secret)
        self._maybe_send_ccs(offer)
        self.set_write_secret(server_hs_secret)
        if self.early_data_accepted:
            assert offer.session is not None
            self.set_read_secret(early_secret)
            self.early_read = True
            self.early_limit = offer.session.max_early_data
        else:
            self.set_read_secret(self.client_hs_secret)
            if early_offered and self.first_offer is None:  # rejected: skip what the client sent
                self.conn._records.early_skip = max(1, config.max_early_data_size)

        ee_exts: list[ext.Extension] = []
        if offer.alpn is not None:
            ee_exts.append(ext.ALPN([offer.alpn]))
        size_limit = ext.get_extension(offer.hello.extensions, ext.RecordSizeLimit)
        if size_limit is not None:  # RFC 8449: from EncryptedExtensions on
            self.apply_peer_record_size_limit(size_limit.limit)
            if config.record_size_limit is not None:
                ee_exts.append(ext.RecordSizeLimit(config.record_size_limit))
                self.own_record_size_limit = config.record_size_limit
                if not self.early_read:  # else from EndOfEarlyData on
                    self.enforce_record_size_limit()
        if offer.name is not None and (
            offer.certified.matches_name(offer.name) if offer.certified is not None else offer.psk is not None
        ):
            ee_exts.append(ext.ServerName())
        if self.early_data_accepted:
            ee_exts.append(ext.EarlyData())
        encrypted_extensions = EncryptedExtensions(extensions=ee_exts)
        if config.encrypted_extensions_hook is not None:
            encrypted_extensions = config.encrypted_extensions_hook(encrypted_extensions)
        self.send_message(encrypted_extensions)
        if offer.psk is not None:  # no certificates in PSK handshakes
            self._send_finished(handshake, server_hs_secret)
            return
        assert offer.certified is not None
        if config.client_auth is not ClientAuth.NONE:
            schemes = [s for s in config.signature_schemes if s not in _CV_FORBIDDEN]
            cr_exts: list[ext.Extension] = [ext.SignatureAlgorithms(schemes)]
            if config.certificate_compression:
                cr_exts.append(ext.CompressCertificate(list(config.certificate_compression)))
            self.send_message(CertificateRequest(certificate_request_context=b"", extensions=cr_exts))
            self.request_sent = True
        entries = [CertificateEntry(cert_data=der) for der in offer.certified.chain_der]
        compress = ext.get_extension(offer.hello.extensions, ext.CompressCertificate)
        self.send_certificate(
            Certificate(certificate_request_context=b"", certificate_list=entries),
            compress.algorithms if compress is not None else None,
        )
        content = certificate_verify_message(self.transcript.digest(), server=True)
        self.signature_scheme = offer.scheme
        self.send_message(CertificateVerify(algorithm=offer.scheme, signature=offer.certified.sign(offer.scheme, content)))
        self._send_finished(handshake, server_hs_secret)

    def _send_finished(self, handshake: Any, server_hs_secret: bytes) -> None:
        verify_data = self.finished_data(server_hs_secret, self.transcript.digest())
        self.send_message(Finished(verify_data=verify_data))
        self.master = handshake.into_master()
        c_ap, s_ap = self.application_secrets(self.master, self.transcript.digest())
        self.client_ap_secret = c_ap
        self.set_write_secret(s_ap)
        if self.early_read:
            self.state = "wait_eoed"
        else:
            self.state = "wait_cert" if self.request_sent else "wait_finished"

    # -- 0-RTT ------------------------------------------------------------------------

    def receive_early_data(self, data: bytes) -> None:
        if not self.early_read:
            raise UnexpectedMessage("0-RTT application data is not expected")
        self.early_received += len(data)
        if self.early_received > self.early_limit:
            raise UnexpectedMessage("more 0-RTT data than max_early_data_size")
        self.conn._events.append(EarlyData(data))

    def on_end_of_early_data(self, message: EndOfEarlyData, raw: bytes) -> None:
        self.transcript.add(raw)
        self.early_read = False
        self.set_read_secret(self.client_hs_secret)
        self.enforce_record_size_limit()
        self.state = "wait_cert" if self.request_sent else "wait_finished"

    # -- the client's second flight -----------------------------------------------------

    def on_certificate(self, cert: Certificate | CompressedCertificate, raw: bytes) -> None:
        if isinstance(cert, CompressedCertificate):
            cert = self.decompress_certificate(cert, bool(self.sconfig.certificate_compression))
        if cert.certificate_request_context:
            raise IllegalParameter("client Certificate with the wrong request context")
        # Our CertificateRequest carries signature_algorithms only (RFC 8446 4.4.2).
        check_certificate(cert, self.sconfig.limits, (ExtensionType.SIGNATURE_ALGORITHMS,))
        self.transcript.add(raw)
        if not cert.certificate_list:
            if self.sconfig.client_auth is ClientAuth.REQUIRED:
                raise CertificateRequired("a client certificate is required")
            self.state = "wait_finished"
            return
        chain = [entry.cert_data for entry in cert.certificate_list]
        verifier = self.sconfig.client_verifier
        if verifier is None:
            raise HandshakeFailure("no verifier configured for client certificates")
        now = datetime.datetime.fromtimestamp(self.sconfig.clock(), datetime.timezone.utc)
        verified = verifier.verify_client_chain(chain, now)
        self.peer_leaf = verified.leaf
        self.peer_certificates = tuple(chain)
        self.state = "wait_cv"

    def on_certificate_verify(self, cv: CertificateVerify, raw: bytes) -> None:
        content = certificate_verify_message(self.transcript.digest(), server=False)
        verify(
            self.peer_leaf, cv.algorithm, cv.signature, content,
            offered=self.sconfig.signature_schemes,
        )
        self.transcript.add(raw)
        self.state = "wait_finished"

    def on_finished(self, fin: Finished, raw: bytes) -> None:
        self.check_finished(fin.verify_data, self.client_hs_secret, self.transcript.digest())
        self.transcript.add(raw)
        self.peer_finished = True
        self.set_read_secret(self.client_ap_secret)
        self.resumption_master_secret = self.master.resumption_master_secret(self.transcript.digest())
        self.master = None
        self.finish()
        self._send_tickets()
        self.release_handshake_state()

    def release_handshake_state(self) -> None:
        super().release_handshake_state()
        self.offer = self.first_offer = None  # the ClientHello(s), raw and decoded
        self.peer_leaf = None
        self.client_hs_secret = self.client_ap_secret = b""

    # -- NewSessionTicket (RFC 8446 section 4.6.1) ---------------------------------------

    def _send_tickets(self) -> None:
        config = self.sconfig
        offer = self.offer
        count = min(1, config.ticket_count) if self.resumed else config.ticket_count
        if count <= 0 or offer is None or not config.session_resumption or self.suite is None:
            return
        modes = ext.get_extension(offer.hello.extensions, ext.PskKeyExchangeModes)
        if modes is None or not set(modes.modes) & set(config.psk_modes):
            return  # the client could not use a ticket
        now = config.clock()
        max_early = config.max_early_data_size if config.early_data else 0
        client_cert = self.peer_certificates[0] if self.peer_certificates else b""
        binding = verifier_binding(config.client_verifier) if client_cert else b""
        for i in range(count):
            nonce = i.to_bytes(1, "big")
            age_add = int.from_bytes(config.rng(4), "big")
            state = SessionState(
                cipher_suite=int(self.suite.suite),
                psk=resumption_psk(self.backend, self.suite, self.resumption_master_secret, nonce),
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
            nst = NewSessionTicket(
                ticket_lifetime=config.ticket_lifetime,
                ticket_age_add=age_add,
                ticket_nonce=nonce,
                ticket=ticket,
                extensions=extensions,
            )
            self.conn._records.write(ContentType.HANDSHAKE, encode_handshake(nst))
