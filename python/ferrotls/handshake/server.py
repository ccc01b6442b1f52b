"""The server side of the TLS 1.3 handshake (RFC 8446 section 2).

States: ``wait_ch`` (-> HelloRetryRequest -> ``wait_ch2``) -> the server's
flight (ServerHello ... Finished) -> ``wait_cert`` -> ``wait_cv`` ->
``wait_finished`` -> ``traffic``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ..config import ClientAuth, CertifiedKey
from ..errors import (
    CertificateRequired,
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    MissingExtension,
    NoApplicationProtocol,
    ProtocolVersionError,
    UnrecognizedName,
)
from ..keyschedule import EarlySecrets
from ..kx import SUPPORTED_GROUPS, server_exchange
from ..messages import extensions as ext
from ..messages.enums import ExtensionType, HandshakeType
from ..messages.handshake import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    HelloRetryRequest,
    ServerHello,
)
from ..sign import certificate_verify_message, choose_scheme, verify
from ..suites import SUITES, suite_info
from .common import HandshakeBase
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

    __slots__ = ("hello", "raw", "suite", "group", "share", "certified", "scheme", "alpn", "name")

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


class ServerHandshake(HandshakeBase):
    """Drives one server handshake."""

    is_client = False
    TABLE = {
        "wait_ch": (frozenset({_HS.CLIENT_HELLO}), "on_client_hello"),
        "wait_ch2": (frozenset({_HS.CLIENT_HELLO}), "on_second_client_hello"),
        "wait_cert": (frozenset({_HS.CERTIFICATE}), "on_certificate"),
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
        for suite in config.cipher_suites:
            suite_info(suite)
        if not config.certificates and config.sni_callback is None:
            raise ValueError("a server needs at least one certificate (or an sni_callback)")

    # -- ClientHello ---------------------------------------------------------------

    def on_client_hello(self, hello: ClientHello, raw: bytes) -> None:
        offer = self._examine(hello, raw)
        self.client_random = hello.random
        if offer.share is None:
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
        if shares is None or [s.group for s in shares.client_shares] != [first.group]:
            raise IllegalParameter("the second ClientHello must hold one key share, for the group we asked for")
        offer = self._examine(hello, raw, forced_group=first.group)
        if offer.suite != first.suite:
            raise IllegalParameter("the second ClientHello no longer allows the cipher suite chosen")
        self.transcript.add(raw)
        self._respond(offer)

    def _examine(self, hello: ClientHello, raw: bytes, forced_group: int | None = None) -> _Offer:
        """Check a ClientHello and choose suite, group, certificate and ALPN."""
        config = self.sconfig
        exts = hello.extensions
        offer = _Offer(hello, raw)
        check_extensions(exts, ext.Context.CH, config.limits)
        versions = ext.get_extension(exts, ext.SupportedVersionsClientHello)
        if versions is None or TLS13 not in versions.versions:
            raise ProtocolVersionError("the client does not offer TLS 1.3")
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
        sigalgs = ext.get_extension(exts, ext.SignatureAlgorithms)
        if sigalgs is None:
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
        self._choose_certificate(offer, list(sigalgs.schemes))
        self._choose_alpn(offer)
        return offer

    def _choose_certificate(self, offer: _Offer, client_schemes: list[int]) -> None:
        config = self.sconfig
        name_ext = ext.get_extension(offer.hello.extensions, ext.ServerName)
        if name_ext is not None and name_ext.host_name is not None:
            try:
                offer.name = name_ext.host_name.decode("ascii").lower()
            except UnicodeDecodeError:
                raise DecodeError("server_name is not an ASCII host name") from None
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
                    choose_scheme(certified.private_key, usable, certificate=certified.chain[0])
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
        self.state = "wait_ch2"

    def _maybe_send_ccs(self, offer: _Offer) -> None:
        if self.config.middlebox_compat and offer.hello.legacy_session_id and not self.ccs_sent:
            self.conn._send_ccs()
            self.ccs_sent = True

    # -- the server's flight -------------------------------------------------------

    def _respond(self, offer: _Offer) -> None:
        config = self.sconfig
        assert offer.share is not None and offer.certified is not None
        self.suite = suite_info(offer.suite)
        server_share, shared_secret = server_exchange(
            self.backend, offer.group, offer.share, config.key_share_private_keys.get(offer.group)
        )
        self.group = int(offer.group)
        self.alpn = offer.alpn.decode("ascii", "replace") if offer.alpn is not None else None
        self.server_name = offer.name
        hello = ServerHello(
            random=config.rng(32),
            legacy_session_id_echo=offer.hello.legacy_session_id,
            cipher_suite=offer.suite,
            extensions=[
                ext.KeyShareServerHello(ext.KeyShareEntry(offer.group, server_share)),
                ext.SupportedVersionsServerHello(TLS13),
            ],
        )
        self.send_message(hello)
        self.hello_exchanged = True
        handshake = EarlySecrets(self.backend, self.suite).into_handshake(shared_secret)
        hello_hash = self.transcript.digest()
        self.client_hs_secret = handshake.client_handshake_traffic_secret(hello_hash)
        server_hs_secret = handshake.server_handshake_traffic_secret(hello_hash)
        self.key_log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", self.client_hs_secret)
        self.key_log("SERVER_HANDSHAKE_TRAFFIC_SECRET", server_hs_secret)
        self._maybe_send_ccs(offer)
        self.set_write_secret(server_hs_secret)
        self.set_read_secret(self.client_hs_secret)

        ee_exts: list[ext.Extension] = []
        if offer.alpn is not None:
            ee_exts.append(ext.ALPN([offer.alpn]))
        if offer.name is not None and offer.certified.matches_name(offer.name):
            ee_exts.append(ext.ServerName())
        encrypted_extensions = EncryptedExtensions(extensions=ee_exts)
        if config.encrypted_extensions_hook is not None:
            encrypted_extensions = config.encrypted_extensions_hook(encrypted_extensions)
        self.send_message(encrypted_extensions)
        if config.client_auth is not ClientAuth.NONE:
            schemes = [s for s in config.signature_schemes if s not in _CV_FORBIDDEN]
            self.send_message(CertificateRequest(certificate_request_context=b"", extensions=[ext.SignatureAlgorithms(schemes)]))
            self.request_sent = True
        entries = [CertificateEntry(cert_data=der) for der in offer.certified.chain_der]
        self.send_message(Certificate(certificate_request_context=b"", certificate_list=entries))
        content = certificate_verify_message(self.transcript.digest(), server=True)
        self.signature_scheme = offer.scheme
        self.send_message(CertificateVerify(algorithm=offer.scheme, signature=offer.certified.sign(offer.scheme, content)))
        verify_data = self.finished_data(server_hs_secret, self.transcript.digest())
        self.send_message(Finished(verify_data=verify_data))
        self.master = handshake.into_master()
        c_ap, s_ap = self.application_secrets(self.master, self.transcript.digest())
        self.client_ap_secret = c_ap
        self.set_write_secret(s_ap)
        self.state = "wait_cert" if self.request_sent else "wait_finished"

    # -- the client's second flight -----------------------------------------------------

    def on_certificate(self, cert: Certificate, raw: bytes) -> None:
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
