"""``dtls_iot_profile()``: DTLS for constrained devices (RFC 7925 and its TLS 1.3
successor, draft-ietf-uta-tls13-iot-profile).

The TLS settings are those of :mod:`ferrotls.profiles` -- PSK (psk_dhe_ke) or
ECDHE-ECDSA P-256 certificates, AES-128-CCM_8 first, X25519, one ticket, a small
record_size_limit -- and the datagram side adds a small MTU (RFC 7925 section
11: links such as 6LoWPAN carry a few hundred bytes; 512 keeps a certificate
flight in a handful of datagrams) and connection IDs, so a device behind a NAT
that rebinds keeps its session (RFC 9146, RFC 9147 section 9).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..config import ClientConfig, ServerConfig
from ..profiles import iot_client_config, iot_server_config
from .config import DTLSConfig

__all__ = ["DtlsIotProfile", "dtls_iot_profile", "IOT_MTU"]

IOT_MTU = 512


@dataclass(frozen=True)
class DtlsIotProfile:
    """The TLS config and the DTLS config of one side."""

    config: ClientConfig | ServerConfig
    dtls: DTLSConfig


def dtls_iot_profile(server: bool = False, *, mtu: int = IOT_MTU, connection_id: bytes | None = None,
                     **options: Any) -> DtlsIotProfile:
    """The IoT profile for a DTLS client (default) or server.

    ``options`` go to :func:`ferrotls.profiles.iot_client_config` /
    ``iot_server_config`` (``psk=`` / ``psks=``, ``certificate=``, ``verifier=`` ...).
    ``connection_id``: the CID to ask the peer for (default: 4 random bytes for a
    client -- short, as a device's records carry it -- and 8 for a server; an
    endpoint gives each of its sessions its own).
    """
    if connection_id is None:
        connection_id = os.urandom(8 if server else 4)
    dtls = DTLSConfig(mtu=mtu, connection_id=connection_id, initial_timeout=1.0)
    config: ClientConfig | ServerConfig = iot_server_config(**options) if server else iot_client_config(**options)
    return DtlsIotProfile(config, dtls)
