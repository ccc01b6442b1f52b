"""The client side of the TLS 1.3 handshake (RFC 8446 section 2, figure 1).

States: ``wait_sh`` -> ``wait_ee`` -> ``wait_cert_cr`` -> ``wait_cert`` ->
``wait_cv`` -> ``wait_finished`` -> ``traffic``.  A HelloRetryRequest loops
back to ``wait_sh`` once.
"""

from __future__ import annotations

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
from ..keyschedule import EarlySecrets
from ..kx import ClientShare, start_exchange
from ..messages import extensions as ext
from ..messages.enums import ExtensionType, HandshakeType, PskKeyExchangeMode
from ..messages.handshake import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    NewSessionTicket,
    ServerHello,
)
from ..sign import certificate_verify_message, choose_scheme, verify
from ..suites import SUITES, suite_info
from .common import HandshakeBase
from .policy import check_certificate, check_extensions

if TYPE_CHECKING:
    from ..config import ClientConfig
    from ..connection import Connection

__all__ = ["ClientHandshake"]

TLS13 = 0x0304
_DOWNGRADE_TLS12 = b"DOWNGRD\x01"
_DOWNGRADE_TLS11 = b"DOWNGRD\x00"
_HS = HandshakeType



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
            frozenset({_HS.CERTIFICATE, _HS.CERTIFICATE_REQUEST}),
            "on_certificate_or_request",
        ),
        "wait_cert": (frozenset({_HS.CERTIFICATE}), "on_certificate"),
        "wait_cv": (frozenset({_HS.CERTIFICATE_VERIFY}), "on_certificate_verify"),
        "wait_finished": (frozenset({_HS.FINISHED}), "on_finished"),
        "traffic": (
            frozenset({_HS.NEW_SESSION_TICKET, _HS.KEY_UPDATE}),
            "on_post_handshake",
        ),
    }

    def __init__(self, conn: Connection, config: ClientConfig, server_hostname: str | None) -> None:
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

    # -- ClientHello -------------------------------------------------------------

    def start(self) -> None:
        config = self.cconfig
        for group in config.key_share_groups:
            if group not in config.groups:
                raise ValueError(f"key share group 0x{group:04x} is not in groups")
        for suite in config.cipher_suites:
            suite_info(suite)  # ValueError for suites we cannot run
        self.client_random = config.rng(32)
        session_id = config.rng(32) if config.middlebox_compat else b""
        for group in config.key_share_groups:
            self.shares[group] = start_exchange(
                self.backend, group, config.key_share_private_keys.get(group)
            )
        hello = ClientHello(
            random=self.client_random,
            legacy_session_id=session_id,
            cipher_suites=list(config.cipher_suites),
            extensions=self._hello_extensions(),
        )
        if config.client_hello_hook is not None:
            hello = config.client_hello_hook(hello)
        self.client_hello = hello
        self.send_message(hello, legacy_version=0x0301)
        self.state = "wait_sh"

    def _hello_extensions(self, cookie: bytes | None = None) -> list[ext.Extension]:
        config = self.cconfig
        out: list[ext.Extension] = []
        host = self.server_hostname
        if host and config.server_name_indication and not _is_ip(host):
            out.append(ext.ServerName.for_host(host.rstrip(".")))
        out.append(ext.SupportedGroups(list(config.groups)))
        out.append(ext.SignatureAlgorithms(list(config.signature_schemes)))
        if self.offered_alpn:
            out.append(ext.ALPN(list(self.offered_alpn)))
        out.append(
            ext.KeyShareClientHello(
                [ext.KeyShareEntry(g, s.public) for g, s in self.shares.items()]
            )
        )
        out.append(ext.PskKeyExchangeModes([PskKeyExchangeMode.PSK_DHE_KE]))
        out.append(ext.SupportedVersionsClientHello([TLS13]))
        if cookie is not None:
            out.append(ext.Cookie(cookie))
        return out

    # -- ServerHello / HelloRetryRequest --------------------------------------------------

    def on_server_hello(self, sh: ServerHello, raw: bytes) -> None:
        assert self.client_hello is not None
        exts = sh.extensions
        versions = ext.get_extension(exts, ext.SupportedVersionsServerHello)
        if versions is None:
            if sh.random[-8:] in (_DOWNGRADE_TLS12, _DOWNGRADE_TLS11):
                raise IllegalParameter("downgrade sentinel in ServerHello.random")
            raise ProtocolVersionError("the server does not support TLS 1.3")
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
        key_share = ext.get_extension(exts, ext.KeyShareServerHello)
        if key_share is None:
            raise MissingExtension("ServerHello has no key_share (PSK-only modes are not offered)")
        group = key_share.server_share.group
        share = self.shares.get(group)
        if share is None:
            raise IllegalParameter(f"server key share for group 0x{group:04x} we did not offer")
        shared_secret = share.finish(key_share.server_share.key_exchange)
        self.group = int(group)
        self.shares.clear()
        early = EarlySecrets(self.backend, self.suite)
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
        self.set_write_secret(self.client_hs_secret)
        self.state = "wait_ee"

    def _on_hello_retry_request(self, hrr: ServerHello, raw: bytes) -> None:
        assert self.client_hello is not None
        if self.retried:
            raise UnexpectedMessage("a second HelloRetryRequest")
        self.retried = True
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
        first = self.client_hello
        hello = ClientHello(
            random=first.random,
            legacy_session_id=first.legacy_session_id,
            cipher_suites=list(first.cipher_suites),
            extensions=self._hello_extensions(cookie.cookie if cookie is not None else None),
        )
        if self.cconfig.client_hello_hook is not None:
            hello = self.cconfig.client_hello_hook(hello)
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
        self.transcript.add(raw)
        self.state = "wait_cert_cr"

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

    def on_certificate(self, cert: Certificate, raw: bytes) -> None:
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
        # Our second flight: [Certificate CertificateVerify] Finished.
        if self.certificate_request is not None:
            self._send_client_certificate()
        verify_data = self.finished_data(self.client_hs_secret, self.transcript.digest())
        self.send_message(Finished(verify_data=verify_data))
        self.resumption_master_secret = master.resumption_master_secret(self.transcript.digest())
        self.set_write_secret(c_ap)
        self.handshake_secrets = None
        self.finish()

    def _send_client_certificate(self) -> None:
        request = self.certificate_request
        assert request is not None
        certified = self.cconfig.certificate
        scheme = None
        if certified is not None:
            offered = ext.get_extension(request.extensions, ext.SignatureAlgorithms)
            schemes = offered.schemes if offered is not None else []
            try:
                scheme = choose_scheme(certified.private_key, schemes, certificate=certified.chain[0])
            except HandshakeFailure:
                scheme = None  # no usable scheme: send an empty certificate
        if certified is None or scheme is None:
            self.send_message(Certificate(certificate_request_context=request.certificate_request_context, certificate_list=[]))
            return
        entries = [CertificateEntry(cert_data=der) for der in certified.chain_der]
        self.send_message(Certificate(certificate_request_context=request.certificate_request_context, certificate_list=entries))
        content = certificate_verify_message(self.transcript.digest(), server=False)
        self.send_message(CertificateVerify(algorithm=int(scheme), signature=certified.sign(int(scheme), content)))

    # -- after the handshake ---------------------------------------------------------

    def on_post_handshake(self, message: Any, raw: bytes) -> None:
        if isinstance(message, NewSessionTicket):
            check_extensions(message.extensions, ext.Context.NST, self.cconfig.limits)
            self.conn._events.append(SessionTicket(message))
            return
        self.handle_key_update(message, raw)

