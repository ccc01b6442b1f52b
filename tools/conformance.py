#!/usr/bin/env python3
"""Run tlsfuzzer's TLS 1.3 and TLS 1.2 scripts against ``ferrotls server`` (or ``openssl s_server``).

tlsfuzzer (https://github.com/tlsfuzzer/tlsfuzzer) is not on PyPI, so this is not
part of CI.  Extract the commit in TLSFUZZER_COMMIT somewhere outside the
repository, keeping the symlinks of its ``scripts/`` (``git archive`` does), and::

    make conformance TLSFUZZER_DIR=/path/to/tlsfuzzer
    python tools/conformance.py --tlsfuzzer DIR [--only NAME] [--against openssl] [--write-doc]

For every row of SCRIPTS that applies, a throw-away PKI is used (made with
``cryptography`` in a temporary directory), the server configuration the row
names is started on a free 127.0.0.1 port, the script runs with ``-n 0`` (all
probes) plus the row's arguments under a timeout, its summary (PASS/FAIL/...)
is parsed, and the server is stopped.  Rows that do not apply say why.  The TLS 1.2
rows (TLS12_SCRIPTS) run the same way against servers that speak TLS 1.2 and 1.3
(s_server without a version option); most of those scripts default to CBC or RSA
key-exchange suites, so rows pass an ECDHE AEAD suite (-C) where the script takes
one, and explain every probe that cannot apply (``-e``, or ``-x``/``-X``).
``--write-doc`` merges the figures into docs/conformance.json (per target, so
ferrotls's and OpenSSL's figures live side by side) and regenerates
docs/conformance.md from it.

Only the standard library and ``cryptography`` are imported; the scripts need
tlslite-ng 0.8.2 and ecdsa (``pip install -e '.[conformance]'``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC_MD = ROOT / "docs" / "conformance.md"
DOC_JSON = ROOT / "docs" / "conformance.json"

TLSFUZZER_COMMIT = "ac3da9c17f843a5a9c2cee621dc9712805bde945"
"""The last tlsfuzzer commit that runs with tlslite-ng 0.8.2 (the PyPI release)."""

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 900.0

# --------------------------------------------------------------------------- servers

#: Certificates and keys of the throw-away PKI, by the names the tables use.
#: "{rsa_cert}" in an argument is replaced by the path of that file.
PKI_FILES = (
    "ca_cert",
    "rsa_cert", "rsa_key",            # RSA-2048, rsaEncryption SPKI
    "rsapss_cert", "rsapss_key",      # RSA-2048, RSASSA-PSS SPKI
    "ec_cert", "ec_key",              # ECDSA P-256
    "p384_cert", "p384_key",
    "p521_cert", "p521_key",
    "ed25519_cert", "ed25519_key",
    "ed448_cert", "ed448_key",
    "client_rsa_cert", "client_rsa_key",
    "client_rsapss_cert", "client_rsapss_key",
    "client_p256_cert", "client_p256_key",
    "client_p384_cert", "client_p384_key",
    "client_p521_cert", "client_p521_key",
    "client_ed25519_cert", "client_ed25519_key",
    "client_ed448_cert", "client_ed448_key",
)

PSK_IDENTITY = "test"
PSK_HEX = "aa"  # tlsfuzzer's default PSK (--psk aa --psk-iden test)


@dataclass(frozen=True)
class Server:
    """One server configuration, as ``ferrotls server`` and ``openssl s_server`` options."""

    description: str
    ferrotls: tuple[str, ...]
    openssl: tuple[str, ...] | None
    """None: OpenSSL 3.0's s_server cannot be configured like this."""
    openssl_version: str = "-tls1_3"
    """s_server's version option; "" (TLS 1.2 rows): OpenSSL's default range, 1.2 and 1.3,
    as ferrotls speaks by default."""


_RSA_EC = ("--cert", "{rsa_cert}", "--key", "{rsa_key}", "--cert", "{ec_cert}", "--key", "{ec_key}")
_S_RSA_EC = ("-cert", "{rsa_cert}", "-key", "{rsa_key}", "-dcert", "{ec_cert}", "-dkey", "{ec_key}")
_CLIENT_CA = ("--ca", "{ca_cert}")
_ALL_SUITES = ("TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,"
               "TLS_AES_128_CCM_SHA256,TLS_AES_128_CCM_8_SHA256")

SERVERS: dict[str, Server] = {
    "www": Server(
        "RSA-2048 and ECDSA P-256 certificates, HTTP responder",
        _RSA_EC, (*_S_RSA_EC, "-www"),
    ),
    "echo": Server(
        "RSA-2048 and ECDSA P-256 certificates, echo mode",
        (*_RSA_EC, "--echo"), (*_S_RSA_EC, "-rev"),
    ),
    # No row uses --verify-client required: every client-certificate script also sends an empty
    # Certificate and expects the handshake to go on (only post-handshake-auth's --cert-required
    # wants a server that insists, and that script does not apply).
    "client-optional": Server(
        "as www, asks for a client certificate (optional)",
        (*_RSA_EC, *_CLIENT_CA, "--verify-client", "optional"),
        (*_S_RSA_EC, "-www", "-verify", "1", "-CAfile", "{ca_cert}"),
    ),
    "all-suites": Server(
        "as www, all five TLS 1.3 suites enabled (AES-CCM and AES-CCM-8 are off by default)",
        (*_RSA_EC, "--suites", _ALL_SUITES),
        (*_S_RSA_EC, "-www", "-ciphersuites", _ALL_SUITES.replace(",", ":")),
    ),
    "compress": Server(
        "as www, certificate compression (RFC 8879) zlib, brotli, zstd",
        (*_RSA_EC, "--cert-compression", "zlib,brotli,zstd"), None,
    ),
    "compress-client": Server(
        "as client-optional, certificate compression zlib, brotli, zstd",
        (*_RSA_EC, *_CLIENT_CA, "--verify-client", "optional", "--cert-compression", "zlib,brotli,zstd"),
        None,
    ),
    "ecdsa": Server(
        "ECDSA P-256, P-384 and P-521 certificates, HTTP responder",
        ("--cert", "{ec_cert}", "--key", "{ec_key}", "--cert", "{p384_cert}", "--key", "{p384_key}",
         "--cert", "{p521_cert}", "--key", "{p521_key}"),
        ("-cert", "{ec_cert}", "-key", "{ec_key}", "-www"),
    ),
    "eddsa": Server(
        "Ed25519 and Ed448 certificates, HTTP responder",
        ("--cert", "{ed25519_cert}", "--key", "{ed25519_key}", "--cert", "{ed448_cert}", "--key", "{ed448_key}"),
        ("-cert", "{ed25519_cert}", "-key", "{ed25519_key}", "-dcert", "{ed448_cert}", "-dkey", "{ed448_key}",
         "-www"),
    ),
    "rsapss": Server(
        "one RSA-2048 certificate with an RSASSA-PSS key (SPKI id-RSASSA-PSS), HTTP responder",
        ("--cert", "{rsapss_cert}", "--key", "{rsapss_key}"),
        ("-cert", "{rsapss_cert}", "-key", "{rsapss_key}", "-www"),
    ),
    "psk": Server(
        f"as www, plus the external PSK {PSK_IDENTITY!r} = 0x{PSK_HEX} (SHA-256)",
        (*_RSA_EC, "--psk-identity", PSK_IDENTITY, "--psk", PSK_HEX),
        (*_S_RSA_EC, "-www", "-psk_identity", PSK_IDENTITY, "-psk", PSK_HEX),
    ),
    # TLS 1.2 (the same ferrotls server speaks 1.2 and 1.3; one worker, as its session-id
    # cache is per process; s_server without a version option, so 1.2 and 1.3 too)
    "tls12": Server(
        "RSA-2048 and ECDSA P-256 certificates, HTTP responder, TLS 1.2 and 1.3",
        (*_RSA_EC, "--workers", "1"), (*_S_RSA_EC, "-www"), openssl_version="",
    ),
    "tls12-no-ems": Server(
        "as tls12, and TLS 1.2 clients without extended_master_secret are let in (for scripts "
        "that cannot send it; OpenSSL lets them in by default)",
        (*_RSA_EC, "--workers", "1", "--allow-no-ems"), (*_S_RSA_EC, "-www"), openssl_version="",
    ),
    "tls12-client": Server(
        "as tls12, asks for a client certificate (optional)",
        (*_RSA_EC, *_CLIENT_CA, "--verify-client", "optional", "--workers", "1"),
        (*_S_RSA_EC, "-www", "-verify", "1", "-CAfile", "{ca_cert}"), openssl_version="",
    ),
    "tls12-client-no-ems": Server(
        "as tls12-client, and TLS 1.2 clients without extended_master_secret are let in",
        (*_RSA_EC, *_CLIENT_CA, "--verify-client", "optional", "--workers", "1", "--allow-no-ems"),
        (*_S_RSA_EC, "-www", "-verify", "1", "-CAfile", "{ca_cert}"), openssl_version="",
    ),
    "tls12-echo": Server(
        "as tls12, echo mode",
        (*_RSA_EC, "--workers", "1", "--echo"), (*_S_RSA_EC, "-rev"), openssl_version="",
    ),
    "tls12-ccm": Server(
        "as tls12, with TLS_ECDHE_ECDSA_WITH_AES_128_CCM and _CCM_8 (off by default) enabled",
        (*_RSA_EC, "--workers", "1", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
         "ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES128-CCM8"),
        (*_S_RSA_EC, "-www", "-cipher", "AESCCM:AESCCM8:DEFAULT"), openssl_version="",
    ),
    "psk-sha384": Server(
        f"as www, plus the external PSK {PSK_IDENTITY!r} = 0x{PSK_HEX} (SHA-384)",
        (*_RSA_EC, "--psk-identity", PSK_IDENTITY, "--psk", PSK_HEX, "--psk-hash", "sha384"),
        None,
    ),
}

# --------------------------------------------------------------------------- the table

#: What ferrotls's CertificateRequest lists (ServerConfig.signature_schemes minus the
#: schemes RFC 8446 4.2.3 forbids in CertificateVerify), in order.
FERROTLS_CR_SIGALGS = (
    "ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384 ed25519 rsa_pss_rsae_sha256 "
    "rsa_pss_rsae_sha384 rsa_pss_rsae_sha512 rsa_pss_pss_sha256 rsa_pss_pss_sha384 "
    "rsa_pss_pss_sha512 ecdsa_secp521r1_sha512 ed448"
)


#: The same for OpenSSL 3.0's s_server (sha224/PKCS#1 included: allowed for certificates).
OPENSSL_CR_SIGALGS = (
    "ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384 ecdsa_secp521r1_sha512 ed25519 ed448 "
    "rsa_pss_pss_sha256 rsa_pss_pss_sha384 rsa_pss_pss_sha512 rsa_pss_rsae_sha256 "
    "rsa_pss_rsae_sha384 rsa_pss_rsae_sha512 rsa_pkcs1_sha256 rsa_pkcs1_sha384 rsa_pkcs1_sha512 "
    "sha224+ecdsa rsa_pkcs1_sha224"
)


@dataclass(frozen=True)
class Script:
    """One run of a tlsfuzzer script: where, with what, or why not."""

    script: str
    """File name in tlsfuzzer's scripts/ without ``.py``."""
    server: str | None = "www"
    """A SERVERS key; None when the script does not apply."""
    args: tuple[str, ...] = ()
    """Arguments after ``-h HOST -p PORT -n 0`` ({name} = a PKI file)."""
    openssl_args: tuple[str, ...] | None = None
    """Replaces ``args`` with ``--against openssl`` (what the server advertises differs)."""
    label: str = ""
    """Distinguishes several runs of one script (e.g. the client key type)."""
    takes_n: bool = True
    """False for the few scripts whose getopt has no -n (they run every probe anyway)."""
    timeout: float = DEFAULT_TIMEOUT
    skip: str | None = None
    """Why the script does not apply to ferrotls (then server is None)."""
    exclude: tuple[tuple[str, str], ...] = ()
    """(probe, why): probes that do not apply, passed as ``-e probe``."""
    note: str = ""
    """Shown in the doc: what the arguments mean, expected failures and why."""

    @property
    def name(self) -> str:
        return f"{self.script} ({self.label})" if self.label else self.script


def _na(script: str, why: str) -> Script:
    return Script(script, server=None, skip=why)


FFDHE = "an FFDHE group (RFC 7919): ferrotls offers none (kx.SUPPORTED_GROUPS)"
NO_EMS = ("expected failure (ferrotls): the probe negotiates TLS 1.2 without extended_master_secret, "
          "which ferrotls requires by default (RFC 7627; handshake_failure)")
TLS11 = "expects TLS 1.1 to be negotiated: ferrotls speaks TLS 1.2 and 1.3 only (protocol_version)"


def _no_ems(*probes: str) -> tuple[str, ...]:
    """-x/-X pairs: these TLS 1.2 probes must end in handshake_failure (EMS required)."""
    out: list[str] = []
    for probe in probes:
        out += ["-x", probe, "-X", "Unexpected message from peer: Alert(fatal, handshake_failure)"]
    return tuple(out)


def _why(reason: str, *probes: str) -> tuple[tuple[str, str], ...]:
    return tuple((p, reason) for p in probes)


def _client_cert(script: str, key: str, label: str) -> Script:
    """A CertificateVerify script with the client key ``key``; -s is what the server's
    CertificateRequest lists, which differs between ferrotls and OpenSSL."""
    files = ("-k", "{client_%s_key}" % key, "-c", "{client_%s_cert}" % key)
    return Script(script, "client-optional", (*files, "-s", FERROTLS_CR_SIGALGS),
                  openssl_args=(*files, "-s", OPENSSL_CR_SIGALGS), label=label)


NO_TICKETS = ("ferrotls sends no NewSessionTicket to a client that sent no psk_key_exchange_modes "
              "(RFC 8446 4.2.9: such a client cannot use one; servers SHOULD NOT send tickets not "
              "compatible with the advertised modes); OpenSSL sends them anyway")


TLS13_SCRIPTS: tuple[Script, ...] = (
    Script("test-tls13-0rtt-garbage",
           args=_no_ems("handshake with invalid 0-RTT and unknown version (downgrade to TLS 1.2)"),
           openssl_args=(), note=NO_EMS),
    Script("test-tls13-ccs"),
    Script("test-tls13-certificate-compression", "compress", args=_no_ems("sending extension in TLS-1.2"),
           openssl_args=(), note=NO_EMS),
    Script("test-tls13-certificate-request", "client-optional",
           ("-k", "{client_rsa_key}", "-c", "{client_rsa_cert}", "-s", FERROTLS_CR_SIGALGS,
            "-E", "key_share:SH supported_versions:SH"),
           openssl_args=("-k", "{client_rsa_key}", "-c", "{client_rsa_cert}", "-s", OPENSSL_CR_SIGALGS,
                         "-E", "key_share:SH supported_versions:SH supported_groups:EE "
                               "47:CR"),
           takes_n=False, note="-E: the extensions each server sends besides the basic ones"),
    _client_cert("test-tls13-certificate-verify", "rsa", "RSA client key"),
    _client_cert("test-tls13-certificate-verify", "rsapss", "RSASSA-PSS client key"),
    Script("test-tls13-client-certificate-compression", "compress-client",
           ("-k", "{client_rsa_key}", "-c", "{client_rsa_cert}", "--fuzz-package-limit", "131072"),
           note="the random CompressedCertificate fuzzing stays within ferrotls's 128 KiB handshake "
                "message limit (Limits.max_handshake_size): see P4"),
    Script("test-tls13-connection-abort",
           args=("-x", "After NewSessionTicket", "-X", "Unexpected message from peer: ApplicationData"),
           openssl_args=(), note="expected failure (ferrotls): " + NO_TICKETS),
    Script("test-tls13-conversation"),
    Script("test-tls13-count-tickets", args=("-t", "0"), openssl_args=("-t", "2"),
           note="-t: the number of tickets expected: 0 from ferrotls, 2 from OpenSSL. " + NO_TICKETS),
    Script("test-tls13-crfg-curves"),
    Script("test-tls13-dhe-shared-secret-padding",
           exclude=_why(FFDHE, "TLS 1.3 with ffdhe2048", "TLS 1.3 with ffdhe3072"),
           note="repeats each probe until the shared secret has leading zero bytes: runs, not probes, are counted"),
    _na("test-tls13-ecdhe-brainpool-curves",
        "brainpoolP256r1tls13/P384/P512 groups (RFC 8734): ferrotls does not implement them (kx.py)"),
    Script("test-tls13-ecdhe-curves"),
    _na("test-tls13-ecdsa-brainpool-in-certificate-verify",
        "needs brainpool client certificates and the RFC 8734 ecdsa_brainpool*tls13 schemes, "
        "which ferrotls does not implement (suites.SignatureScheme)"),
    _client_cert("test-tls13-ecdsa-in-certificate-verify", "p256", "P-256"),
    _client_cert("test-tls13-ecdsa-in-certificate-verify", "p384", "P-384"),
    _client_cert("test-tls13-ecdsa-in-certificate-verify", "p521", "P-521"),
    Script("test-tls13-ecdsa-support", "ecdsa",
           ("-x", "Test with ecdsa_brainpoolP256r1tls13_sha256", "-X", "handshake_failure",
            "-x", "Test with ecdsa_brainpoolP384r1tls13_sha384", "-X", "handshake_failure",
            "-x", "Test with ecdsa_brainpoolP512r1tls13_sha512", "-X", "handshake_failure"),
           note="the brainpool probes are expected to end in handshake_failure: no brainpool certificates"),
    Script("test-tls13-eddsa", "eddsa"),
    _client_cert("test-tls13-eddsa-in-certificate-verify", "ed25519", "Ed25519"),
    _client_cert("test-tls13-eddsa-in-certificate-verify", "ed448", "Ed448"),
    Script("test-tls13-empty-alert"),
    _na("test-tls13-ffdhe-groups", "FFDHE groups (RFC 7919): ferrotls offers none (kx.py, suites.NamedGroup)"),
    _na("test-tls13-ffdhe-sanity", "FFDHE groups (RFC 7919): ferrotls offers none (kx.py, suites.NamedGroup)"),
    Script("test-tls13-finished", exclude=_why(
        "tlsfuzzer (with tlslite-ng 0.8.2) reports the one decode_error alert a second time at "
        "ExpectClose while its pure-Python client is still sending the 128 KiB+ Finished; it fails "
        "the same way against openssl s_server 3.0, and a capture shows one alert record then FIN "
        "(tests/test_conformance.py checks the early decode_error)",
        *(f"padding - cipher {suite}, pad_byte 0, pad_left 0, pad_right {n}"
          for suite, sizes in (("TLS_AES_128_GCM_SHA256", (0x20000, 0x30000, 256**3 - 1 - 32)),
                               ("TLS_AES_256_GCM_SHA384", (0x20000, 0x30000, 256**3 - 1 - 48)))
          for n in sizes))),
    Script("test-tls13-finished-plaintext"),
    Script("test-tls13-hrr"),
    Script("test-tls13-invalid-ciphers"),
    Script("test-tls13-keyshare-omitted"),
    Script("test-tls13-keyupdate"),
    Script("test-tls13-keyupdate-from-server"),
    Script("test-tls13-large-number-of-extensions", args=("--exc", "27"),
           openssl_args=("--exc", "27", "--supgroup"),
           note="--exc 27: the script counts 27 as unassigned, but it is compress_certificate "
                "(RFC 8879), which ferrotls parses, so an empty or random body is a decode_error"),
    Script("test-tls13-legacy-version"),
    Script("test-tls13-lengths", "echo", timeout=4 * 3600.0,
           note="one probe per plaintext length 1 .. 2^14 (about 30 minutes)"),
    Script("test-tls13-minerva", "ecdsa", note="functional probes only: without -i no timing data is gathered"),
    Script("test-tls13-mlkem", args=("--kems", "x25519mlkem768")),
    Script("test-tls13-multiple-ccs-messages",
           args=("-x", "second CCS before client finished", "-X", "Timeout when waiting for peer message",
                 "-x", "multiple CCS Messages in one TCP packet", "-X", "Timeout when waiting for peer message",
                 "-x", "CH and multiple CCS Messages in one TCP packet", "-X", "Timeout when waiting for peer message"),
           openssl_args=(),
           note="expected failures (ferrotls): it drops every change_cipher_spec before the client "
                "Finished, as RFC 8446 section 5 words it, instead of refusing a second one; tlsfuzzer's "
                "own runs mark the same probes -x for tlslite-ng (OpenSSL 3.0 fails them too, "
                "for another reason: it refuses the CCS records' legacy version with decode_error)"),
    Script("test-tls13-no-unknown-groups",
           args=("--groups", "x25519mlkem768,x25519,secp256r1,secp384r1,secp521r1,x448"),
           openssl_args=("--groups", "x25519,secp256r1,x448,secp521r1,secp384r1,"
                                     "ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192"),
           note="--groups: the groups the server supports, the one it picks first"),
    Script("test-tls13-nociphers"),
    _na("test-tls13-non-support", "for servers without TLS 1.3"),
    Script("test-tls13-obsolete-curves", args=("--relaxed", "-a", "handshake_failure"), openssl_args=(),
           note="--relaxed -a handshake_failure (ferrotls): obsolete groups (RFC 8446 4.2.7) in "
                "supported_groups are ignored like any unknown group, not refused with illegal_parameter; "
                "with nothing else offered the handshake fails with handshake_failure (RFC 8446 4.1.1); "
                "OpenSSL 3.0 does the same (it fails the strict default probes)"),
    Script("test-tls13-pkcs-signature"),
    _na("test-tls13-post-handshake-auth",
        "post-handshake client authentication (RFC 8446 4.6.2): ferrotls's server never sends a "
        "CertificateRequest after its Finished (handshake/server.py has one, in the first flight)"),
    Script("test-tls13-psk_dhe_ke", "psk", exclude=_why(FFDHE, "ffdhe2048")),
    Script("test-tls13-psk_dhe_ke", "psk-sha384", ("--psk-sha384",), label="SHA-384 PSK",
           exclude=_why(FFDHE, "ffdhe2048")),
    Script("test-tls13-psk_ke", "psk"),
    Script("test-tls13-psk_ke", "psk-sha384", ("--psk-sha384",), label="SHA-384 PSK"),
    Script("test-tls13-record-layer-limits"),
    Script("test-tls13-record-padding"),
    Script("test-tls13-rsa-signatures"),
    Script("test-tls13-rsapss-signatures", "rsapss"),
    Script("test-tls13-serverhello-random",
           exclude=_why(FFDHE, "TLS 1.3 with ffdhe2048", "TLS 1.3 with ffdhe3072"),
           note="every probe runs 32 times (--repeat): runs are counted"),
    Script("test-tls13-session-resumption",
           args=_no_ems("sanity - TLS 1.2", "use TLS 1.2 ticket in TLS 1.3"), openssl_args=(), note=NO_EMS),
    Script("test-tls13-shuffled-extentions"),
    Script("test-tls13-signature-algorithms"),
    Script("test-tls13-symetric-ciphers", "all-suites"),
    Script("test-tls13-unencrypted-alert"),
    Script("test-tls13-unrecognised-groups", exclude=_why(
        FFDHE, *(f"known group ffdhe2048 and unknown groups from {r} range, key_share of size {n}"
                 for r in ("EC", "FFDHE") for n in (64, 128, 256)),
        *(f"only unknown key_share from {r} range, key_share of size {n} + ffdhe2048 in supported_groups"
          for r in ("EC", "FFDHE") for n in (64, 128, 256)))),
    Script("test-tls13-version-negotiation",
           args=_no_ems(*(f"fallback from TLS 1.3-draft{i} to 1.2" for i in range(256)),
                        "fallback from TLS 1.8 to 1.2", "TLS 1.3 in client hello legacy field",
                        "TLS 1.8 in client hello legacy field"),
           exclude=_why(TLS11, "fallback from TLS 1.8 to 1.1"), openssl_args=(), note=NO_EMS),
    Script("test-tls13-zero-content-type"),
    Script("test-tls13-zero-length-data"),
)

# --------------------------------------------------------------------------- TLS 1.2

#: What ferrotls's TLS 1.2 CertificateRequest lists: ServerConfig.signature_schemes that
#: TLS 1.2 allows (RSA PKCS#1 v1.5 included), in order.
FERROTLS_CR12_SIGALGS = (
    "ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384 ed25519 rsa_pss_rsae_sha256 "
    "rsa_pss_rsae_sha384 rsa_pss_rsae_sha512 rsa_pss_pss_sha256 rsa_pss_pss_sha384 "
    "rsa_pss_pss_sha512 ecdsa_secp521r1_sha512 ed448 rsa_pkcs1_sha256 rsa_pkcs1_sha384 "
    "rsa_pkcs1_sha512"
)

#: The same for OpenSSL 3.0's s_server in TLS 1.2 (with DSA and SHA-224 schemes), and the
#: certificate types its CertificateRequest lists (-T).
OPENSSL_CR12_SIGALGS = (
    "ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384 ecdsa_secp521r1_sha512 ed25519 ed448 "
    "rsa_pss_pss_sha256 rsa_pss_pss_sha384 rsa_pss_pss_sha512 rsa_pss_rsae_sha256 "
    "rsa_pss_rsae_sha384 rsa_pss_rsae_sha512 rsa_pkcs1_sha256 rsa_pkcs1_sha384 rsa_pkcs1_sha512 "
    "ecdsa_sha224 rsa_pkcs1_sha224 dsa_sha224 dsa_sha256 dsa_sha384 dsa_sha512"
)

_GCM_RSA = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
_GCM_ECDSA = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
_DC = ("-d", "-M", "-C", _GCM_RSA)
"""(EC)DHE, extended_master_secret and an ECDHE AEAD suite, for scripts that take them."""
_CLIENT_RSA = ("-k", "{client_rsa_key}", "-c", "{client_rsa_cert}")

HANDSHAKE_FAILURE = "Alert(fatal, handshake_failure)"
CBC_WHY = ("offers only CBC suites (TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA and the like), and the script "
           "has no option to change them: ferrotls has AEAD suites only (handshake_failure)")
CBC = "the probe " + CBC_WHY
CBC_ONLY = ("every probe offers only CBC or RSA-key-exchange suites and the script has no option "
            "to change them: ferrotls does ECDHE with AEAD suites only")
CBC_PADDING = ("checks the CBC MAC-then-encrypt record (padding, MAC): ferrotls has AEAD suites only, "
               "whose records have neither")
RENEG = ("ferrotls refuses renegotiation: it answers the client's second ClientHello with a warning "
         "no_renegotiation (RFC 5746 section 4.2), so the probe's renegotiated handshake never starts")
NO_SHA1 = ("ferrotls does not sign with SHA-1 (RFC 9155) and has no SHA-224 schemes (the TLS 1.3 "
           "registry's only): handshake_failure")
TLS11_PV = 'received "protocol_version"'
HANDSHAKE_LIMIT = ("a ClientHello announcing more than Limits.max_handshake_size (128 KiB) is refused "
                   "as its header arrives, with illegal_parameter (OpenSSL has a like limit)")
NO_SSL = "SSL 2.0 / SSL 3.0: ferrotls speaks TLS 1.2 and 1.3 only"
RSA_KX = "RSA key exchange: ferrotls does ECDHE (and PSK) only"
DHE = "finite-field DHE: ferrotls does ECDHE (and PSK) only"


def _xfail(expected: str, *probes: str) -> tuple[str, ...]:
    """-x/-X pairs: each probe must fail with ``expected`` in the error."""
    out: list[str] = []
    for probe in probes:
        out += ["-x", probe, "-X", expected]
    return tuple(out)


TLS12_SCRIPTS: tuple[Script, ...] = (
    Script("test-aes-gcm-nonces", "tls12", ("-d", "-M", *_xfail(HANDSHAKE_FAILURE, "sanity")),
           openssl_args=("-d", "-M"),
           note="-d -M without -C (with -C the script gives its AES-256-GCM probe no suite): the "
                "probes offer the ECDHE AES-128/256-GCM suites and check the explicit nonces; "
                "expected failure (ferrotls): sanity, which " + CBC_WHY),
    Script("test-aesccm", "tls12-ccm", ("-d", "-M", *_xfail(TLS11_PV, "AES-CCM in TLS1.1")),
           openssl_args=("-d", "-M"),
           exclude=_why("AES-256-CCM_8 (the script's 8-byte-tag probes): ferrotls has the RFC 7925 "
                        "IoT profile's AES-128 CCM suites only",
                        *(f"fuzz tag with {v} on pos {p} - using cipher with 8 byte tag"
                          for v in (1, 2, 4, 8, 16, 32, 64, 128) for p in range(-1, -9, -1))),
           note="-d -M: TLS_ECDHE_ECDSA_WITH_AES_128_CCM and _CCM_8 (off by default in ferrotls, on "
                "here); expected failure (ferrotls): " + TLS11),
    Script("test-ccs", "tls12", _DC),
    Script("test-certificate-malformed", "tls12-client", (*_DC, *_CLIENT_RSA)),
    Script("test-certificate-request", "tls12-client", (*_DC, *_CLIENT_RSA, "-s", FERROTLS_CR12_SIGALGS),
           openssl_args=(*_DC, *_CLIENT_RSA, "-s", OPENSSL_CR12_SIGALGS, "-T", "rsa_sign dss_sign ecdsa_sign"),
           note="-s (-T): the signature algorithms (and certificate types) each server's TLS 1.2 "
                "CertificateRequest lists; ferrotls lists rsa_sign and ecdsa_sign, the default"),
    Script("test-certificate-verify", "tls12-client", (*_DC, *_CLIENT_RSA)),
    Script("test-certificate-verify-malformed", "tls12-client", (*_DC, *_CLIENT_RSA)),
    Script("test-chacha20", "tls12-no-ems",
           ("--extra-exts", *_xfail(TLS11_PV, "Chacha20 in TLS1.1")), openssl_args=("--extra-exts",),
           note="--extra-exts: supported_groups and signature_algorithms (without them ferrotls, like "
                "OpenSSL 3.0 at security level 2, has no signature to make: RFC 9155); the script "
                "sends no extended_master_secret, so the server lets such clients in; expected "
                "failure (ferrotls): " + TLS11),
    Script("test-connection-abort", "tls12", _DC),
    Script("test-conversation", "tls12", _DC),
    Script("test-cve-2004-0079", "tls12", ("-M", "-C", _GCM_RSA)),
    Script("test-cve-2016-6309", "tls12", _DC),
    Script("test-cve-2016-7054", "tls12", ("-M", "-C", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")),
    Script("test-downgrade-protection", "tls12",
           ("-d", "-M", *_xfail(HANDSHAKE_FAILURE, "TLS 1.3 downgrade check for Protocol (3, 3)"),
            *_xfail("Alert(fatal, protocol_version)", "TLS 1.3 downgrade check for Protocol (3, 2)",
                    "TLS 1.3 downgrade check for Protocol (3, 1)")),
           openssl_args=("-d", "-M"),
           note="sanity is a TLS 1.3 handshake; expected failures (ferrotls): the TLS 1.2 probe "
                + CBC_WHY + "; the TLS 1.1 and 1.0 ones get protocol_version (ferrotls speaks TLS "
                "1.2 and 1.3 only); the sentinel itself is checked with openssl s_client and the "
                "ssl module (tests/interop/test_tls12_openssl.py, test_tls12_stdlib.py)"),
    Script("test-early-application-data", "tls12", _DC),
    Script("test-ecdhe-rsa-key-exchange-with-bad-messages", "tls12", ("-M", "-C", _GCM_RSA)),
    Script("test-ecdsa-sig-flexibility", "tls12-no-ems",
           ("-C", _GCM_ECDSA, *_xfail(HANDSHAKE_FAILURE, "connect with sha1+ecdsa only",
                                      "connect with sha224+ecdsa only")),
           openssl_args=("-C", _GCM_ECDSA),
           note="without -M: at this tlsfuzzer commit -M crashes the script (AutoEmptyExtension is not "
                "imported); expected failures (ferrotls): " + NO_SHA1),
    Script("test-extended-master-secret-extension", "tls12",
           ("-d", "-M", *_xfail(HANDSHAKE_FAILURE, "sanity")), openssl_args=("-d", "-M"),
           exclude=(*_why(CBC, "EMS with session resume", "EMS with session resume without extension",
                          "extended master secret", "extended master secret with renegotiation",
                          "extended master secret w/ECDHE", "renegotiate without EMS in session with EMS"),
                    *_why(DHE, "extended master secret w/DHE"),
                    *_why(TLS11, "sanity TLSv1.1", "extended master secret in TLSv1.1")),
           note="-d -M; what runs: EMS with the SHA-384 PRF (AES-256-GCM), its resumption, a malformed "
                "extension; expected failure (ferrotls): sanity, which " + CBC_WHY),
    Script("test-fallback-scsv", "tls12-no-ems",
           ("-d", "--tls-1.3", "--min-support", "TLSv1.2",
            *_xfail(HANDSHAKE_FAILURE, "sanity", "sanity - SSL3.4 version negotiation",
                    "record SSL3.4 hello SSL3.4", "record TLSv1.2 hello TLSv1.2")),
           openssl_args=("-d", "--tls-1.3", "--min-support", "TLSv1.2"),
           note="--tls-1.3: the server speaks TLS 1.3, so TLS_FALLBACK_SCSV in a TLS 1.2 (or lower) "
                "ClientHello is inappropriate_fallback; --min-support TLSv1.2: TLS 1.1 is "
                "protocol_version; expected failures (ferrotls): the four probes without the SCSV, "
                "which " + CBC_WHY),
    Script("test-fuzzed-ciphertext", "tls12", _DC),
    Script("test-hello-request-by-client", "tls12", _DC),
    Script("test-interleaved-application-data-and-fragmented-handshakes-in-renegotiation", "tls12",
           (*_DC, *_xfail("Alert(fatal, unexpected_message)", "Application data inside Client Hello"),
            *_xfail("no_renegotiation", "Application data inside Client Key Exchange",
                    "Application data inside Finished")),
           openssl_args=_DC,
           note="expected failures (ferrotls): " + RENEG + "; in the first probe the renegotiating "
                "ClientHello comes in fragments with application data between them, which ferrotls "
                "refuses at once (unexpected_message: it takes no other record inside a handshake "
                "message)"),
    Script("test-interleaved-application-data-in-renegotiation", "tls12",
           (*_DC, *_xfail("no_renegotiation", "Application data before Change Cipher Spec",
                          "Application data before Client Key Exchange",
                          "Application data before Finished")),
           openssl_args=_DC, note="expected failures (ferrotls): " + RENEG),
    Script("test-interleaved-CKE-with-CCS", "tls12", ("-M", "-C", _GCM_RSA)),
    Script("test-invalid-cipher-suites", "tls12-no-ems", _xfail(HANDSHAKE_FAILURE, "sanity"),
           openssl_args=(),
           note="expected failure (ferrotls): sanity, which offers only TLS_RSA_WITH_AES_128_CBC_SHA "
                "(RSA key exchange and CBC: ferrotls has neither)"),
    Script("test-invalid-client-hello", "tls12-no-ems",
           _xfail(HANDSHAKE_FAILURE, "sanity", "sanity w/ext"), openssl_args=(),
           note="the script sends no extended_master_secret; expected failures (ferrotls): the two "
                "sanity probes, which offer only TLS_RSA_WITH_AES_128_CBC_SHA (RSA key exchange and "
                "CBC: ferrotls has neither); the malformed ClientHellos need no suite in common"),
    Script("test-invalid-client-hello-w-record-overflow", "tls12", _DC),
    Script("test-invalid-compression-methods", "tls12", _DC),
    Script("test-invalid-content-type", "tls12", _DC),
    Script("test-large-hello", "tls12", ("-d", "-M", *_xfail("illegal_parameter", "huge hello")),
           openssl_args=("-d", "-M"),
           note="-d -M: the probes offer the ECDHE AES-128-GCM suites; expected failure (ferrotls): "
                + HANDSHAKE_LIMIT),
    Script("test-lengths", "tls12-echo", ("-M", "--extra-exts", "-C", _GCM_RSA), timeout=4 * 3600.0,
           note="one probe per plaintext length 1 .. 2^14 under TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    Script("test-no-mlkem-in-old-tls", "tls12", _DC),
    Script("test-point-extension", "tls12-no-ems", ("-C", _GCM_RSA),
           note="without -M: the script sends extended_master_secret in its sanity probe only"),
    Script("test-record-layer-fragmentation", "tls12", _DC),
    Script("test-renegotiation-disabled", "tls12-no-ems", ("-d", "-C", _GCM_RSA),
           note="the script sends no extended_master_secret"),
    Script("test-renegotiation-disabled-client-cert", "tls12-no-ems",
           ("-d", "-C", _GCM_RSA, *_CLIENT_RSA,
            *_xfail("ApplicationData", "try secure renegotiation", "try insecure (legacy) renegotiation")),
           openssl_args=("-d", "-C", _GCM_RSA, *_CLIENT_RSA),
           note="for servers that ask for a client certificate by renegotiating when a protected page "
                "is requested (httpd's per-directory SSLVerifyClient); expected failures (ferrotls): "
                "it never renegotiates, so the page comes without a HelloRequest"),
    Script("test-rsa-sigs-on-certificate-verify", "tls12-client",
           ("-d", "-M", *_CLIENT_RSA, *_xfail(HANDSHAKE_FAILURE, "sanity"),
            *_xfail("illegal_parameter", "check sha1 w/sha384 PRF")),
           openssl_args=("-d", "-M", *_CLIENT_RSA),
           exclude=_why(CBC, *(f"check {md} w/sha256 PRF" for md in ("sha1", "sha256", "sha384", "sha512"))),
           note="what runs: RSA PKCS#1 v1.5 CertificateVerify with SHA-256/384/512 under "
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384; expected failures (ferrotls): sanity, which "
                + CBC_WHY + ", and a SHA-1 CertificateVerify, which RFC 9155 forbids (its scheme is "
                "not in the CertificateRequest: illegal_parameter)"),
    Script("test-truncating-of-client-hello", "tls12",
           (*_DC, *_xfail("illegal_parameter", 'huge pad: 131584 of "0" byte padding',
                          'max pad: 16777029 of "0" byte padding')),
           openssl_args=_DC,
           note="expected failures (ferrotls): " + HANDSHAKE_LIMIT),
    Script("test-version-numbers", "tls12", _DC),
    Script("test-zero-length-data", "tls12", _DC),
    _na("test-extended-master-secret-extension-with-client-cert", CBC_ONLY),
    _na("test-ecdhe-padded-shared-secret", CBC_ONLY + " (the leading zero bytes of the ECDHE "
        "premaster secret are kept: kx.py and tests/test_tls12.py)"),
    _na("test-cve-2016-2107", CBC_PADDING),
    _na("test-fuzzed-MAC", CBC_PADDING + " (the script needs an HMAC suite)"),
    _na("test-fuzzed-plaintext", CBC_PADDING + " (under AEAD the replaced plaintext is "
        "encrypted and authenticated: the record is valid)"),
    _na("test-fuzzed-padding", CBC_PADDING),
    _na("test-lucky13", CBC_PADDING),
    _na("test-encrypt-then-mac", "encrypt_then_mac (RFC 7366) is for CBC suites: " + CBC_ONLY),
    _na("test-encrypt-then-mac-renegotiation", "encrypt_then_mac (RFC 7366) is for CBC suites: " + CBC_ONLY),
    *(_na(name, CBC_ONLY) for name in (
        "test-alpn-negotiation", "test-atypical-padding", "test-certificate-verify-malformed-sig",
        "test-client-compatibility", "test-client-hello-max-size", "test-clienthello-md5",
        "test-ecdhe-rsa-key-exchange", "test-ecdhe-rsa-key-share-random",
        "test-ecdsa-in-certificate-verify", "test-eddsa-in-certificate-verify", "test-empty-extensions",
        "test-export-ciphers-rejected", "test-extensions", "test-fuzzed-finished", "test-heartbeat",
        "test-invalid-server-name-extension", "test-invalid-server-name-extension-resumption",
        "test-invalid-session-id", "test-invalid-version", "test-large-number-of-extensions",
        "test-legacy-renegotiation", "test-message-duplication", "test-message-skipping",
        "test-no-heartbeat", "test-ocsp-stapling", "test-openssl-3712",
        "test-renegotiation-changed-clienthello", "test-resumption-with-wrong-ciphers",
        "test-rsa-pss-sigs-on-certificate-verify", "test-serverhello-random",
        "test-sig-algs", "test-sig-algs-renegotiation-resumption", "test-signature-algorithms",
        "test-ssl-death-alert", "test-truncating-of-finished", "test-x25519",
    )),
    _na("test-sessionID-resumption", CBC_ONLY + " (session-id resumption is tested against openssl "
        "s_client/s_server, GnuTLS and the ssl module: tests/interop/test_tls12_*.py)"),
    _na("test-session-ticket-resumption", CBC_ONLY + " (ticket resumption: tests/interop/test_tls12_*.py)"),
    _na("test-record-size-limit", "its TLS 1.2 probes offer only RSA-key-exchange CBC suites (TLS 1.2 "
        "record_size_limit is tested against GnuTLS: tests/interop/test_tls12_gnutls.py)"),
    _na("test-unsupported-curve-fallback", "expects a fallback to TLS_DHE_RSA_* when the client's only "
        "curve is unknown: " + DHE),
    _na("test-TLSv1_2-rejected-without-TLSv1_2", "for servers without TLS 1.2"),
    *(_na(name, NO_SSL) for name in (
        "test-SSLv3-padding", "test-sslv2-connection", "test-sslv2-force-cipher",
        "test-sslv2-force-cipher-3des", "test-sslv2-force-cipher-non3des",
        "test-sslv2-force-export-cipher", "test-sslv2hello-protocol")),
    *(_na(name, RSA_KX) for name in (
        "test-bleichenbacher-timing-marvin", "test-bleichenbacher-timing-pregenerate",
        "test-bleichenbacher-workaround", "test-invalid-rsa-key-exchange-messages",
        "test-truncating-of-kRSA-client-key-exchange")),
    *(_na(name, DHE) for name in (
        "test-dhe-key-share-random", "test-dhe-no-shared-secret-padding", "test-dhe-rsa-key-exchange",
        "test-dhe-rsa-key-exchange-signatures", "test-dhe-rsa-key-exchange-with-bad-messages",
        "test-ffdhe-expected-params", "test-ffdhe-negotiation")),
    *(_na(name, "DSA certificates and signatures: ferrotls has none") for name in (
        "test-dsa-in-certificate-verify", "test-dsa-sig-flexibility")),
)

SCRIPTS: tuple[Script, ...] = TLS13_SCRIPTS + TLS12_SCRIPTS

# --------------------------------------------------------------------------- PKI


def make_pki(directory: Path) -> dict[str, str]:
    """A CA and every leaf the tables name, as PEM files in ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)
    # An RSA CA: most tlsfuzzer scripts list only RSA schemes in signature_algorithms_cert,
    # and OpenSSL refuses a chain signed otherwise ("no suitable signature algorithm").
    ca_key = rsa.generate_private_key(65537, 2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ferrotls conformance CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files: dict[str, str] = {}

    def write(name: str, data: bytes) -> None:
        path = directory / f"{name}.pem"
        path.write_bytes(data)
        files[name] = str(path)

    write("ca_cert", ca.public_bytes(serialization.Encoding.PEM))

    def leaf(public: Any, cn: str, server: bool) -> x509.CertificateBuilder:
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_name).public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )
        if server:
            names: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                             x509.IPAddress(ipaddress.ip_address(HOST))]
        else:
            names = [x509.DNSName("client.conformance.test")]
        return b.add_extension(x509.SubjectAlternativeName(names), critical=False)

    keys: dict[str, Any] = {
        "rsa": rsa.generate_private_key(65537, 2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
    }
    client_rsa = rsa.generate_private_key(65537, 2048)
    client_keys: dict[str, Any] = {
        "client_rsa": client_rsa,
        "client_p256": ec.generate_private_key(ec.SECP256R1()),
        "client_p384": ec.generate_private_key(ec.SECP384R1()),
        "client_p521": ec.generate_private_key(ec.SECP521R1()),
        "client_ed25519": ed25519.Ed25519PrivateKey.generate(),
        "client_ed448": ed448.Ed448PrivateKey.generate(),
    }

    def pkcs8(key: Any) -> bytes:
        return bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))

    for name, key in [*keys.items(), *client_keys.items()]:
        server = not name.startswith("client_")
        cert = leaf(key.public_key(), "localhost" if server else f"conformance {name}", server).sign(
            ca_key, hashes.SHA256())
        write(f"{name}_cert", cert.public_bytes(serialization.Encoding.PEM))
        write(f"{name}_key", pkcs8(key))
    for name, server in (("rsapss", True), ("client_rsapss", False)):
        key = rsa.generate_private_key(65537, 2048) if server else client_rsa
        cert_der, key_der = _rsassa_pss(key, leaf(key.public_key(), "localhost" if server else
                                                  "conformance client_rsapss", server), ca_key)
        write(f"{name}_cert", _pem("CERTIFICATE", cert_der))
        write(f"{name}_key", _pem("PRIVATE KEY", key_der))
    return files


# A minimal DER toolkit: cryptography cannot issue a certificate whose SPKI is
# id-RSASSA-PSS, so the rsaEncryption SPKI of a built certificate is swapped for
# one with the RSASSA-PSS OID (no parameters, RFC 4055 section 3.1) and re-signed.
_RSAENC_ALG = bytes.fromhex("300d06092a864886f70d0101010500")
_RSAPSS_ALG = bytes.fromhex("300b06092a864886f70d01010a")


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _der_body(data: bytes) -> bytes:
    """The contents of one DER TLV that spans all of ``data``."""
    n = data[1]
    if n < 0x80:
        start, length = 2, n
    else:
        start = 2 + (n & 0x7F)
        length = int.from_bytes(data[2:start], "big")
    assert start + length == len(data), "not a single DER element"
    return data[start:]


def _pem(label: str, der: bytes) -> bytes:
    import base64

    b64 = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)).encode("ascii")


def _rsassa_pss(key: Any, builder: Any, ca_key: Any) -> tuple[bytes, bytes]:
    """(certificate DER, PKCS#8 DER) of ``key`` with the id-RSASSA-PSS algorithm."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    cert = builder.sign(ca_key, hashes.SHA256())
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki.startswith(b"\x30") and _RSAENC_ALG in spki
    pss_spki = _der(0x30, _der_body(spki).replace(_RSAENC_ALG, _RSAPSS_ALG, 1))
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(spki) == 1
    new_tbs = _der(0x30, _der_body(tbs).replace(spki, pss_spki))
    signature = ca_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA256())
    sig_alg = bytes.fromhex("300d06092a864886f70d01010b0500")  # sha256WithRSAEncryption
    cert_der = _der(0x30, new_tbs + sig_alg + _der(0x03, b"\x00" + signature))
    p8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())
    pss_p8 = _der(0x30, _der_body(p8).replace(_RSAENC_ALG, _RSAPSS_ALG, 1))
    return cert_der, pss_p8


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A started server: its port, its log, and a clean stop."""

    def __init__(self, target: str, config: Server, files: dict[str, str], log: Path,
                 python: str, startup: float = 60.0) -> None:
        self.log_path = log
        self._log = open(log, "wb")
        env = dict(os.environ)
        if target == "ferrotls":
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "python"), env.get("PYTHONPATH")]))
            cmd = [python, "-m", "ferrotls", "server", "--host", HOST, "--port", "0",
                   *(_fill(a, files) for a in config.ferrotls)]
            ready = re.compile(rb"^listening on [^:]+:(\d+)")
            self.port = 0
        else:
            assert config.openssl is not None
            self.port = free_port()
            cmd = ["openssl", "s_server", "-accept", f"{HOST}:{self.port}",
                   *([config.openssl_version] if config.openssl_version else []),
                   *(_fill(a, files) for a in config.openssl)]
            ready = re.compile(rb"^ACCEPT")
        self.command = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, env=env, start_new_session=True)
        assert self.proc.stdout is not None
        lines: list[bytes] = []
        found = threading.Event()

        def pump() -> None:  # copy stdout to the log, note the "ready" line
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self._log.write(line)
                self._log.flush()
                m = ready.match(line)
                if m and not found.is_set():
                    if m.groups():
                        self.port = int(m.group(1))
                    found.set()
                lines.append(line)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + startup
        while not found.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start ({' '.join(cmd)}); see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # our own session: the server and nothing else
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._pump.join(5)
        self._log.close()


def _fill(arg: str, files: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: files[m.group(1)], arg)


# --------------------------------------------------------------------------- running


@dataclass
class Result:
    name: str
    server: str | None
    status: str  # pass, fail, timeout, error, n/a
    passed: int = 0
    total: int = 0
    xfail: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


_SUMMARY = re.compile(r"^(TOTAL|SKIP|PASS|XFAIL|FAIL|XPASS): (\d+)$", re.M)


def parse_summary(output: str) -> dict[str, Any] | None:
    """The counters of a tlsfuzzer summary, and the names listed under FAILED/XPASSED."""
    end = output.rfind("Test end")
    if end < 0:
        return None
    tail = output[end:]
    counts = {k: int(v) for k, v in _SUMMARY.findall(tail)}
    if "TOTAL" not in counts or "PASS" not in counts:
        return None
    failed: list[str] = []
    for header in ("XPASSED:\n", "FAILED:\n"):
        i = tail.find(header)
        if i < 0:
            continue
        for line in tail[i + len(header):].splitlines():
            if not line.startswith("\t"):
                break
            failed.append(_unrepr(line.strip()))
    return {"counts": counts, "failed": list(dict.fromkeys(failed))}  # repeated probes once


def _unrepr(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def run_script(row: Script, target: str, tlsfuzzer: Path, files: dict[str, str], logdir: Path,
               python: str) -> Result:
    config = SERVERS[row.server] if row.server else None
    if row.skip is not None or config is None:
        return Result(row.name, None, "n/a", reason=row.skip or "")
    if target == "openssl" and config.openssl is None:
        return Result(row.name, row.server, "n/a", reason="s_server (OpenSSL 3.0) has no such configuration")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", row.name)
    server = ServerProcess(target, config, files, logdir / f"{slug}.server.log", python)
    args = row.openssl_args if target == "openssl" and row.openssl_args is not None else row.args
    cmd = [python, str(tlsfuzzer / "scripts" / f"{row.script}.py"), "-h", HOST, "-p", str(server.port)]
    if row.takes_n:
        cmd += ["-n", "0"]
    cmd += [_fill(a, files) for a in args]
    for probe, _why in row.exclude:
        cmd += ["-e", probe]
    out_path = logdir / f"{slug}.out"
    started = time.monotonic()
    status = ""
    try:
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=tlsfuzzer,
                                    start_new_session=True)
            try:
                proc.wait(row.timeout)
            except subprocess.TimeoutExpired:
                status = "timeout"
            finally:  # also on KeyboardInterrupt: the script's own process group only
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    finally:
        server.stop()
    seconds = time.monotonic() - started
    output = out_path.read_text("utf-8", "replace")
    summary = parse_summary(output)
    if summary is None:
        return Result(row.name, row.server, status or "error", seconds=seconds,
                      reason="no summary (see the log)" if not status else f"killed after {row.timeout:.0f} s")
    c = summary["counts"]
    # Probe runs, as counted by the summary's PASS/XFAIL/FAIL/XPASS lines: TOTAL counts
    # conversations, which is less for scripts that repeat probes (--repeat, padding).
    passed = c["PASS"] + c.get("XFAIL", 0)
    bad = c.get("FAIL", 0) + c.get("XPASS", 0)
    total = passed + bad
    if not status:
        status = "pass" if bad == 0 and proc.returncode == 0 else "fail"
    return Result(row.name, row.server, status, passed=passed, total=total, xfail=c.get("XFAIL", 0),
                  skipped=c.get("SKIP", 0), failed=summary["failed"], seconds=round(seconds, 1))


# --------------------------------------------------------------------------- the document


def load_results() -> dict[str, Any]:
    if DOC_JSON.exists():
        data: dict[str, Any] = json.loads(DOC_JSON.read_text("utf-8"))
        return data
    return {"tlsfuzzer_commit": TLSFUZZER_COMMIT, "targets": {}}


HAND_WRITTEN = "<!-- Everything below this line is hand-written; tools/conformance.py --write-doc keeps it. -->"


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "not run"
    if r["status"] == "n/a":
        return "n/a"
    figures = f"{r['passed']}/{r['total']}"
    if r["status"] in ("timeout", "error"):
        return f"**{r['status']}**" + (f" ({figures})" if r["total"] else "")
    xfail = f" ({r['xfail']} xfail)" if r.get("xfail") else ""
    return f"{figures} pass{xfail}" if r["status"] == "pass" else f"**{figures} FAIL**{xfail}"


def _shown_args(args: Sequence[str]) -> str:
    """Arguments for the table: PKI placeholders kept, long lists cut."""
    out = []
    for a in args:
        if a in _NAMED_ARGS:
            out.append(_NAMED_ARGS[a])
            continue
        if " " in a or not a:
            a = repr(a) if len(a) <= 60 else repr(a[:57] + "...")
        out.append(a)
    return " ".join(out).replace("|", "\\|")


_NAMED_ARGS = {FERROTLS_CR_SIGALGS: "FERROTLS_CR_SIGALGS", OPENSSL_CR_SIGALGS: "OPENSSL_CR_SIGALGS",
               FERROTLS_CR12_SIGALGS: "FERROTLS_CR12_SIGALGS", OPENSSL_CR12_SIGALGS: "OPENSSL_CR12_SIGALGS"}


def render_doc(data: dict[str, Any]) -> str:
    targets = data.get("targets", {})
    ours = targets.get("ferrotls", {})
    theirs = targets.get("openssl", {})
    commit = data.get("tlsfuzzer_commit", TLSFUZZER_COMMIT)
    lines = [
        "# tlsfuzzer conformance",
        "",
        "[tlsfuzzer](https://github.com/tlsfuzzer/tlsfuzzer) is the conformance suite OpenSSL, NSS,",
        "GnuTLS and tlslite-ng are tested with.  `tools/conformance.py` runs its TLS 1.3 and TLS 1.2 scripts",
        "against `ferrotls server` and, for comparison, against `openssl s_server`.  tlsfuzzer is not",
        "on PyPI, so this is not part of CI.  This file is written by `--write-doc` from",
        "`docs/conformance.json`; do not edit the tables by hand.",
        "",
        "## How to run",
        "",
        "```sh",
        "# tlsfuzzer at commit %s, outside the repository (git archive keeps the" % commit,
        "# symlinks of scripts/), from a clone or bare mirror of it:",
        "mkdir -p /tmp/tlsfuzzer && git -C TLSFUZZER_GIT_DIR archive %s | tar -x -C /tmp/tlsfuzzer" % commit,
        "make conformance TLSFUZZER_DIR=/tmp/tlsfuzzer         # every row, against ferrotls; installs .[conformance]",
        "make conformance TLSFUZZER_DIR=/tmp/tlsfuzzer CONFORMANCE_ARGS=--write-doc          # and update this file",
        "make conformance TLSFUZZER_DIR=/tmp/tlsfuzzer CONFORMANCE_ARGS='--against openssl --write-doc'",
        "make conformance TLSFUZZER_DIR=/tmp/tlsfuzzer CONFORMANCE_ARGS='--only test-tls13-finished --logs /tmp/logs'",
        "```",
        "",
        "The runner makes a throw-away PKI with `cryptography` (an RSA-2048 CA, as tlsfuzzer's",
        "scripts list only RSA schemes in signature_algorithms_cert; RSA-2048 and ECDSA P-256 server",
        "leaves for localhost and 127.0.0.1, like `openssl s_server -cert rsa.pem -dcert ec.pem`; the",
        "other leaves the rows name), starts the row's server configuration on a free 127.0.0.1 port,",
        "runs the script with `-h 127.0.0.1 -p PORT -n 0` (all probes) and the row's arguments under a",
        "timeout, and stops the server: every script gets a fresh server.  `--logs DIR` keeps each",
        "script's output and the server's log.  The OpenSSL column runs the same rows against",
        "`openssl s_server -tls1_3` with the same certificates (`-cert RSA -dcert ECDSA -www`; the",
        "TLS 1.2 rows without a version option, so OpenSSL speaks 1.2 and 1.3, as ferrotls does).",
        "",
        "Figures are probe runs as the script's summary counts them (PASS + XFAIL of PASS + XFAIL +",
        "FAIL + XPASS; the sanity probe runs first and last, and some scripts repeat probes).",
        "\"xfail\" are probes the row expects to fail (`-x`/`-X`), each explained in the notes; an",
        "expected failure that starts passing fails the script, so the table cannot go stale.",
        "",
    ]
    for name, info in (("ferrotls", ours), ("OpenSSL", theirs)):
        if info:
            lines.append(f"* {name}: {info.get('server', '')}, run {info.get('date', '?')}")
    lines.append(f"* tlsfuzzer commit `{commit}`, tlslite-ng 0.8.2")
    by_ours = {r["name"]: r for r in ours.get("results", [])}
    by_theirs = {r["name"]: r for r in theirs.get("results", [])}
    lines += ["", "## Results", ""]
    lines += _results_table(TLS13_SCRIPTS, by_ours, by_theirs)
    lines += ["", "`-s` names what the server's CertificateRequest lists, in order:", ""]
    for key, value in _NAMED_ARGS.items():
        if key not in (FERROTLS_CR12_SIGALGS, OPENSSL_CR12_SIGALGS):
            lines.append(f"* {value}: `{key}`")
    lines += [""] + _summary(TLS13_SCRIPTS, ours, theirs)
    lines += ["", "## Scripts that do not apply", "", "| script | why |", "|---|---|"]
    for row in TLS13_SCRIPTS:
        if row.skip is not None:
            lines.append(f"| `{row.name}` | {row.skip} |")
    lines += ["", "## TLS 1.2 results", "",
              "The TLS 1.2 scripts, against servers that speak TLS 1.2 and 1.3 (`ferrotls server`",
              "as deployed; `openssl s_server` without a version option).  Most of them default to",
              "CBC or RSA key-exchange suites, which ferrotls does not have: rows pass an ECDHE AEAD",
              "suite (`-C`), `-d` (ECDHE) and `-M` (extended_master_secret) where the script takes",
              "them; probes that still cannot apply are excluded or expected to fail, each with the",
              "reason.  `-s` names what the server's TLS 1.2 CertificateRequest lists:", "",
              "* FERROTLS_CR12_SIGALGS: `" + FERROTLS_CR12_SIGALGS + "`",
              "* OPENSSL_CR12_SIGALGS: `" + OPENSSL_CR12_SIGALGS + "`", ""]
    lines += _results_table(TLS12_SCRIPTS, by_ours, by_theirs)
    lines += [""] + _summary(TLS12_SCRIPTS, ours, theirs)
    lines += ["", "## TLS 1.2 scripts that do not apply", "", "| script | why |", "|---|---|"]
    for row in TLS12_SCRIPTS:
        if row.skip is not None:
            lines.append(f"| `{row.name}` | {row.skip} |")
    lines += ["", "## Server configurations", "",
              "`{name}` stands for a file of the throw-away PKI.", "",
              "| name | what | `ferrotls server` options | `openssl s_server` options |",
              "|---|---|---|---|"]
    for key, srv in SERVERS.items():
        version = [srv.openssl_version] if srv.openssl_version else []
        theirs_cmd = (f"`{' '.join([*version, *srv.openssl])}`" if srv.openssl is not None
                      else "(not possible in 3.0)")
        lines.append(f"| {key} | {srv.description} | `{' '.join(srv.ferrotls)}` | {theirs_cmd} |")
    lines.append("")
    return "\n".join(lines)


def _summary(rows: Sequence[Script], ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """"ferrotls: N of M runs pass, ..." for the rows of one table."""
    names = {row.name for row in rows}
    out = []
    for label, info in (("ferrotls", ours), ("OpenSSL", theirs)):
        ran = [r for r in info.get("results", []) if r["name"] in names and r["status"] != "n/a"]
        if ran or label == "ferrotls":
            out.append(f"{label}: {sum(1 for r in ran if r['status'] == 'pass')} of {len(ran)} runs pass, "
                       f"{sum(r['passed'] for r in ran)} of {sum(r['total'] for r in ran)} probe runs.")
    return out


def _without_xfail(args: Sequence[str]) -> list[str]:
    """``args`` without its -x PROBE -X MESSAGE pairs (the table counts them; the notes say why)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "-x" and i + 3 < len(args) and args[i + 2] == "-X":
            i += 4
            continue
        out.append(args[i])
        i += 1
    return out


def _results_table(rows: Sequence[Script], by_ours: dict[str, Any], by_theirs: dict[str, Any]) -> list[str]:
    lines = ["| script | server | arguments | ferrotls | OpenSSL 3.0 | notes |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        if row.skip is not None:
            continue
        r_ours, r_theirs = by_ours.get(row.name), by_theirs.get(row.name)
        plain = _without_xfail(row.args)
        xfails = (len(row.args) - len(plain)) // 4
        args = " ".join(filter(None, [_shown_args(plain), f"-x ×{xfails}" if xfails else ""])) or "(none)"
        if row.openssl_args is not None and row.openssl_args != row.args:
            if list(row.openssl_args) == plain:
                args += " (OpenSSL: without -x)"
            else:
                args += " (OpenSSL: " + (_shown_args(_without_xfail(row.openssl_args)) or "none") + ")"
        if row.exclude:
            args += f" -e ×{len(row.exclude)}"
        notes = [row.note] if row.note else []
        for reason in dict.fromkeys(why for _, why in row.exclude):
            n = sum(1 for _, why in row.exclude if why == reason)
            notes.append(f"{n} probe{'s' if n > 1 else ''} excluded: {reason}")
        if r_ours and r_ours.get("failed"):
            failed = sorted(set(r_ours["failed"]))
            notes.append("ferrotls fails: " + "; ".join(f"`{f}`" for f in failed[:8])
                         + (f" and {len(failed) - 8} more" if len(failed) > 8 else "")
                         + " (see Failures)")
        lines.append(f"| `{row.name}` | {row.server} | {args} | {_cell(r_ours)} | {_cell(r_theirs)} | "
                     f"{'<br>'.join(notes)} |")
    return lines


def write_doc(data: dict[str, Any]) -> None:
    """docs/conformance.json, then docs/conformance.md from it (the hand-written tail kept)."""
    DOC_JSON.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", "utf-8")
    tail = ""
    if DOC_MD.exists():
        old = DOC_MD.read_text("utf-8")
        i = old.find(HAND_WRITTEN)
        if i >= 0:
            tail = old[i + len(HAND_WRITTEN):]
    DOC_MD.write_text(render_doc(data) + "\n" + HAND_WRITTEN + (tail or "\n"), "utf-8")


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tlsfuzzer", metavar="DIR", default=os.environ.get("TLSFUZZER_DIR"),
                   help="an extracted tlsfuzzer tree (default: $TLSFUZZER_DIR)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only this script (repeatable; a script name or a row name)")
    p.add_argument("--skip", action="append", metavar="NAME", help="do not run this script (repeatable)")
    p.add_argument("--against", choices=("ferrotls", "openssl"), default="ferrotls")
    p.add_argument("--write-doc", action="store_true", help="update docs/conformance.{json,md}")
    p.add_argument("--logs", metavar="DIR", help="keep script output and server logs here")
    p.add_argument("--timeout", type=float, help="per-script timeout in seconds (default: the row's)")
    p.add_argument("--python", default=sys.executable, help="interpreter for the scripts and ferrotls")
    p.add_argument("--list", action="store_true", help="print the table and exit")
    p.add_argument("--render-doc", action="store_true",
                   help="only regenerate docs/conformance.md from docs/conformance.json")
    args = p.parse_args(argv)

    if args.render_doc:
        write_doc(load_results())
        return 0

    if args.list:
        for row in SCRIPTS:
            print(f"{row.name:60} {row.server or 'n/a':16} {row.skip or ' '.join(row.args)}")
        return 0
    if not args.tlsfuzzer:
        p.error("give --tlsfuzzer DIR or set TLSFUZZER_DIR to an extracted tlsfuzzer tree")
    tlsfuzzer = Path(args.tlsfuzzer).resolve()
    if not (tlsfuzzer / "scripts" / "test-tls13-conversation.py").exists():
        p.error(f"{tlsfuzzer} is not a tlsfuzzer tree (no scripts/test-tls13-conversation.py)")
    if args.against == "openssl" and shutil.which("openssl") is None:
        p.error("--against openssl needs the openssl command")
    rows = list(SCRIPTS)
    if args.only:
        rows = [r for r in rows if r.script in args.only or r.name in args.only]
        if not rows:
            p.error(f"no row named {args.only}; see --list")
    if args.skip:
        rows = [r for r in rows if r.script not in args.skip and r.name not in args.skip]
    known = {r.script for r in SCRIPTS}
    present = {f.stem for f in (tlsfuzzer / "scripts").glob("test-*.py")}
    for name in sorted(present - known):
        print(f"warning: {name} is not in the table", file=sys.stderr)

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="ferrotls-conformance-") as tmp:
        tmpdir = Path(tmp)
        files = make_pki(tmpdir)
        logdir = Path(args.logs).resolve() if args.logs else tmpdir / "logs"
        logdir.mkdir(parents=True, exist_ok=True)
        for row in rows:
            if args.timeout:
                row = Script(**{**row.__dict__, "timeout": args.timeout})
            if row.skip is None:
                print(f"{row.name} ...", end=" ", flush=True)
            try:
                result = run_script(row, args.against, tlsfuzzer, files, logdir, args.python)
            except RuntimeError as exc:
                result = Result(row.name, row.server, "error", reason=str(exc))
            results.append(result)
            if row.skip is None:
                extra = f" (failed: {', '.join(result.failed[:5])}{' ...' if len(result.failed) > 5 else ''})" \
                    if result.failed else ""
                print(f"{result.status} {result.passed}/{result.total} in {result.seconds:.0f} s{extra}"
                      f"{' ' + result.reason if result.reason else ''}", flush=True)

    ran = [r for r in results if r.status != "n/a"]
    bad = [r for r in ran if r.status != "pass"]
    print(f"\n{len(ran) - len(bad)}/{len(ran)} scripts passed against {args.against}")
    for r in bad:
        print(f"  {r.name}: {r.status} {r.passed}/{r.total} {r.reason}")

    if args.write_doc:
        data = load_results()
        data["tlsfuzzer_commit"] = TLSFUZZER_COMMIT
        entry = data.setdefault("targets", {}).setdefault(args.against, {})
        old = {r["name"]: r for r in entry.get("results", [])}
        for r in results:
            old[r.name] = r.to_json()
        order = [row.name for row in SCRIPTS]
        entry["results"] = sorted(old.values(), key=lambda r: order.index(r["name"]) if r["name"] in order else 999)
        entry["date"] = datetime.date.today().isoformat()
        entry["server"] = _version(args.against, args.python)
        write_doc(data)
        print(f"wrote {DOC_MD.relative_to(ROOT)} and {DOC_JSON.relative_to(ROOT)}")
    return 1 if bad else 0


def _version(target: str, python: str) -> str:
    if target == "openssl":
        out = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
        return out or "openssl"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "python"), env.get("PYTHONPATH")]))
    out = subprocess.run([python, "-c", "import ferrotls, ferrotls.backend as b; "
                          "print('ferrotls', ferrotls.__version__, 'backend', b.get_backend().name)"],
                         capture_output=True, text=True, env=env).stdout.strip()
    return out or "ferrotls"


if __name__ == "__main__":
    sys.exit(main())
