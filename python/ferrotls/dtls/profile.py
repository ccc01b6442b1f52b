"""``dtls_iot_profile()``: DTLS for constrained devices (RFC 7925 and its TLS 1.3
successor, draft-ietf-uta-tls13-iot-profile).

The TLS settings are those of :mod:`ferrotls.profiles` -- PSK (psk_dhe_ke) or
ECDHE-ECDSA P-256 certificates, AES-128-CCM_8 first, X25519, one ticket, a small
record_size_limit -- and the datagram side adds a small MTU (RFC 7925 section
11: links such as 6LoWPAN carry a few hundred bytes; 512 keeps a certificate
flight in a handful of datagrams) and connection IDs, so a device behind a NAT
that rebinds keeps its session (RFC 9146, RFC 9147 section 9).

DTLS 1.3 comes first and DTLS 1.2 (RFC 6347) is the fallback, for the many
devices that speak only 1.2, with RFC 7925's two mandatory suites:
TLS_PSK_WITH_AES_128_CCM_8 (section 4.2) when a PSK is configured and
TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (section 4.4) when certificates are in use
(a client: when it has no PSK, or a verifier or certificate beside it).
With certificates and the DTLS 1.2 fallback, ``groups`` is X25519 then P-256:
TLS 1.2 names the curves of ECDSA certificates in supported_groups too (RFC
8422 section 5.1), and RFC 7925 section 4.4 makes secp256r1 the curve of its
ECDHE_ECDSA suite (``check_iot_profile`` names this departure from the TLS 1.3
profile's X25519 alone); the key share stays X25519 alone, so DTLS 1.3 needs no
HelloRetryRequest.  ``versions=(DTLS_1_3,)`` turns the fallback off;
``tls12_cipher_suites=`` or ``groups=`` among the options override the choice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..config import ClientConfig, ServerConfig
from ..profiles import iot_client_config, iot_server_config
from ..suites import NamedGroup, Tls12CipherSuite
from .config import DTLS_1_2, DTLS_1_3, DTLSConfig

__all__ = ["DtlsIotProfile", "dtls_iot_profile", "IOT_MTU", "IOT_TLS12_PSK_SUITES", "IOT_TLS12_CERTIFICATE_SUITES",
           "IOT_TLS12_GROUPS"]

IOT_MTU = 512
IOT_TLS12_PSK_SUITES: tuple[int, ...] = (Tls12CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,)
"""RFC 7925 section 4.2: the DTLS 1.2 suite of PSK-authenticated devices."""
IOT_TLS12_CERTIFICATE_SUITES: tuple[int, ...] = (Tls12CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,)
"""RFC 7925 section 4.4: the DTLS 1.2 suite of certificate-authenticated devices."""
IOT_TLS12_GROUPS: tuple[int, ...] = (NamedGroup.X25519, NamedGroup.SECP256R1)
"""supported_groups with certificates and the DTLS 1.2 fallback (P-256 for ECDSA)."""


@dataclass(frozen=True)
class DtlsIotProfile:
    """The TLS config and the DTLS config of one side."""

    config: ClientConfig | ServerConfig
    dtls: DTLSConfig


def _tls12_suites(server: bool, options: dict[str, Any]) -> tuple[int, ...]:
    if server:
        psk, certificates = bool(options.get("psks")), bool(options.get("certificates"))
    else:
        psk = options.get("psk") is not None
        certificates = not psk or options.get("verifier") is not None or options.get("certificate") is not None
    return (IOT_TLS12_PSK_SUITES if psk else ()) + (IOT_TLS12_CERTIFICATE_SUITES if certificates else ())


def dtls_iot_profile(server: bool = False, *, mtu: int = IOT_MTU, connection_id: bytes | None = None,
                     versions: tuple[int, ...] = (DTLS_1_3, DTLS_1_2), **options: Any) -> DtlsIotProfile:
    """The IoT profile for a DTLS client (default) or server.

    ``options`` go to :func:`ferrotls.profiles.iot_client_config` /
    ``iot_server_config`` (``psk=`` / ``psks=``, ``certificate=``, ``verifier=`` ...).
    ``connection_id``: the CID to ask the peer for (default: 4 random bytes for a
    client -- short, as a device's records carry it -- and 8 for a server; an
    endpoint gives each of its sessions its own).  ``versions``: DTLS 1.3 with
    the DTLS 1.2 fallback (default), or one of them.
    """
    if connection_id is None:
        connection_id = os.urandom(8 if server else 4)
    if DTLS_1_2 in versions:
        suites = options.setdefault("tls12_cipher_suites", _tls12_suites(server, options))
        if any(s in IOT_TLS12_CERTIFICATE_SUITES for s in suites):
            options.setdefault("groups", IOT_TLS12_GROUPS)
    dtls = DTLSConfig(mtu=mtu, connection_id=connection_id, initial_timeout=1.0, versions=versions)
    config: ClientConfig | ServerConfig = iot_server_config(**options) if server else iot_client_config(**options)
    return DtlsIotProfile(config, dtls)
