"""Configuration presets: the constrained-device (IoT) profile.

Guidance: RFC 7925 (TLS/DTLS profiles for the IoT, written for TLS 1.2) and its
TLS 1.3 update in the UTA working group (draft-ietf-uta-tls13-iot-profile):

* cipher suites: TLS_AES_128_CCM_8_SHA256 (and TLS_AES_128_CCM_SHA256), with
  TLS_AES_128_GCM_SHA256, the suite every TLS 1.3 peer implements;
* (EC)DHE over X25519 only, one key share, so no HelloRetryRequest;
* authentication by external PSK (psk_dhe_ke: forward secrecy) or certificates
  with ECDSA P-256 / Ed25519 signatures;
* no 0-RTT unless the application asks for it (replay, RFC 8446 section 8);
* a small record_size_limit (RFC 8449) so a device can size its buffers;
* no middlebox-compatibility mode (saves the 32-byte legacy_session_id and the
  change_cipher_spec records), one ticket per connection, and certificate
  compression (RFC 8879) when certificates are used.

``check_iot_profile(config)`` names each setting that departs from this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .certcompress import AVAILABLE as _COMPRESSION
from .config import PSK_DHE_KE, PSK_KE, CertifiedKey, ClientConfig, ServerConfig
from .psk import ExternalPsk
from .suites import SUITES, CipherSuite, NamedGroup, SignatureScheme

__all__ = [
    "IOT_CIPHER_SUITES",
    "IOT_GROUPS",
    "IOT_SIGNATURE_SCHEMES",
    "IOT_RECORD_SIZE_LIMIT",
    "IOT_MAX_RECORD_SIZE_LIMIT",
    "iot_client_config",
    "iot_server_config",
    "check_iot_profile",
]

_PROFILE_SUITES = (
    CipherSuite.TLS_AES_128_CCM_8_SHA256,
    CipherSuite.TLS_AES_128_CCM_SHA256,
    CipherSuite.TLS_AES_128_GCM_SHA256,
)
IOT_CIPHER_SUITES: tuple[int, ...] = tuple(int(s) for s in _PROFILE_SUITES if s in SUITES)
"""The profile's suites this build can run: the CCM suites are listed only when
suites.SUITES has them (both backends implement them), else the preset falls back
to TLS_AES_128_GCM_SHA256 alone."""
IOT_GROUPS: tuple[int, ...] = (NamedGroup.X25519,)
IOT_SIGNATURE_SCHEMES: tuple[int, ...] = (SignatureScheme.ECDSA_SECP256R1_SHA256, SignatureScheme.ED25519)
IOT_RECORD_SIZE_LIMIT = 512
"""RFC 7925 section 4.4 suggests 2^9-byte fragments for constrained devices."""
IOT_MAX_RECORD_SIZE_LIMIT = 1024
"""check_iot_profile accepts limits up to this."""


def _common(record_size_limit: int) -> dict[str, Any]:
    return {
        "cipher_suites": IOT_CIPHER_SUITES,
        "groups": IOT_GROUPS,
        "signature_schemes": IOT_SIGNATURE_SCHEMES,
        "record_size_limit": record_size_limit,
        "middlebox_compat": False,
    }


def iot_client_config(
    *,
    psk: ExternalPsk | None = None,
    verifier: Any = None,
    certificate: CertifiedKey | None = None,
    record_size_limit: int = IOT_RECORD_SIZE_LIMIT,
    **overrides: Any,
) -> ClientConfig:
    """A client for the IoT profile: authenticate the server by ``psk`` or by
    certificates (``verifier``; None: the system trust store); ``certificate`` for
    client authentication.  ``overrides`` are any other ClientConfig fields (they win)."""
    kw = _common(record_size_limit)
    kw.update(
        key_share_groups=IOT_GROUPS,
        psk_modes=(PSK_DHE_KE,),
        certificate_compression=() if psk is not None and certificate is None else _COMPRESSION,
    )
    if psk is not None:
        kw["external_psks"] = (psk,)
    if verifier is not None:
        kw["verifier"] = verifier
    if certificate is not None:
        kw["certificate"] = certificate
    kw.update(overrides)
    return ClientConfig(**kw)


def iot_server_config(
    *,
    psks: Mapping[bytes, ExternalPsk] | Sequence[ExternalPsk] | None = None,
    certificates: Sequence[CertifiedKey] = (),
    early_data: bool = False,
    record_size_limit: int = IOT_RECORD_SIZE_LIMIT,
    **overrides: Any,
) -> ServerConfig:
    """A server for the IoT profile: external PSKs (by identity) and/or certificates.
    0-RTT stays off unless ``early_data=True``."""
    kw = _common(record_size_limit)
    callback: Callable[[bytes], ExternalPsk | None] | None = None
    if psks:
        table = dict(psks) if isinstance(psks, Mapping) else {p.identity: p for p in psks}
        callback = table.get
    kw.update(
        certificates=tuple(certificates),
        psk_callback=callback,
        psk_modes=(PSK_DHE_KE,),
        early_data=early_data,
        ticket_count=1,
        certificate_compression=_COMPRESSION if certificates else (),
    )
    kw.update(overrides)
    return ServerConfig(**kw)


def check_iot_profile(config: ClientConfig | ServerConfig) -> list[str]:
    """One line per setting of ``config`` that departs from the IoT profile ([] if none)."""
    out: list[str] = []
    allowed = set(_PROFILE_SUITES)
    extra = [s for s in config.cipher_suites if s not in allowed]
    if extra:
        out.append(
            "cipher_suites: " + ", ".join(_name(CipherSuite, s) for s in extra)
            + " not in the profile (AES-128-CCM-8, AES-128-CCM, AES-128-GCM)"
        )
    if tuple(config.groups) != IOT_GROUPS:
        out.append("groups: " + ", ".join(_name(NamedGroup, g) for g in config.groups) + " (profile: X25519 only)")
    if isinstance(config, ClientConfig) and tuple(config.key_share_groups) != IOT_GROUPS:
        out.append(
            "key_share_groups: " + ", ".join(_name(NamedGroup, g) for g in config.key_share_groups)
            + " (profile: one X25519 share)"
        )
    schemes = [s for s in config.signature_schemes if s not in IOT_SIGNATURE_SCHEMES]
    if schemes:
        out.append(
            "signature_schemes: " + ", ".join(_name(SignatureScheme, s) for s in schemes)
            + " (profile: ecdsa_secp256r1_sha256, ed25519)"
        )
    limit = config.record_size_limit
    if limit is None or limit > IOT_MAX_RECORD_SIZE_LIMIT:
        out.append(
            f"record_size_limit: {limit} (profile: at most {IOT_MAX_RECORD_SIZE_LIMIT}, "
            f"preset {IOT_RECORD_SIZE_LIMIT})"
        )
    if PSK_KE in config.psk_modes:
        out.append("psk_modes: psk_ke offered or accepted (no forward secrecy; profile: psk_dhe_ke only)")
    if config.middlebox_compat:
        out.append("middlebox_compat: on (costs a 32-byte session id and change_cipher_spec records)")
    if isinstance(config, ServerConfig):
        if config.early_data:
            out.append("early_data: on (0-RTT only when the application asks for it: replayable)")
    return out


def _name(enum: Any, value: int) -> str:
    try:
        return str(enum(value).name)
    except ValueError:
        return f"0x{value:04x}"
