#!/usr/bin/env bash
# Build wolfSSL's example DTLS client and server as a cached test peer.
#
#   tools/wolfssl_peer.sh            build (or reuse) and print the build directory
#   tools/wolfssl_peer.sh --bench    the same for benches/bench_dtls.py: no key-log export
#                                    (it prints and writes every secret), assembly AES-GCM
#                                    and curves (--enable-intelasm --enable-sp --enable-sp-asm)
#
# The sources come from the wolfssl-sys crate on crates.io (it bundles wolfSSL in
# wolfssl-src/): taken from cargo's download cache when present, else fetched with
# `cargo fetch` in a throw-away project, else downloaded with curl from the crate
# registry.  The build lands in ${FERROTLS_CACHE:-$HOME/.cache/ferrotls}/wolfssl-sys-<crate
# version>-<hash of the configure flags>, so builds with other flags (an older copy of this
# script) live side by side and none is rebuilt under a running test; a stamp file
# holding the flags makes a second run a no-op.  WOLFSSL_STATIC_PSK turns on the plain
# PSK suites (TLS_PSK_WITH_AES_128_CCM_8, RFC 7925's DTLS 1.2 PSK suite).
# Nothing of wolfSSL (GPL-2.0-or-later) is copied into this repository: it is only
# run as a separate program, the peer of tests/test_dtls_wolfssl.py.
#
# Needs a C compiler, make, autoconf, automake, libtool and the openssl CLI; run as
# root on Debian it installs the autotools itself (apt-get install -y autoconf
# automake libtool).  The crate leaves out wolfSSL's certs/ files; the examples
# look for certs/dh2048.pem to find their home, so the script writes one (the
# RFC 7919 ffdhe2048 group).  Prints the directory that holds
# examples/client/client and examples/server/server on its last line.
set -euo pipefail

CRATE_VERSION="${WOLFSSL_SYS_VERSION:-5.3.0}"
CACHE="${FERROTLS_CACHE:-$HOME/.cache/ferrotls}"
FLAGS=(--enable-dtls --enable-dtls13 --enable-dtlscid --enable-psk --enable-aesccm
       --enable-secure-renegotiation --enable-keylog-export --enable-chacha --enable-poly1305
       --enable-curve25519 --disable-shared --enable-static --disable-crypttests
       --disable-benchmark CPPFLAGS=-DWOLFSSL_STATIC_PSK)
if [[ "${1:-}" == "--bench" ]]; then
    FLAGS=(--enable-dtls --enable-dtls13 --enable-dtlscid --enable-psk --enable-aesccm
           --enable-chacha --enable-poly1305 --enable-curve25519 --enable-intelasm --enable-sp
           --enable-sp-asm --disable-shared --enable-static --disable-crypttests --disable-benchmark)
fi
WANT="$CRATE_VERSION ${FLAGS[*]}"
DEST="$CACHE/wolfssl-sys-$CRATE_VERSION-$(printf '%s' "$WANT" | sha256sum | cut -c1-8)"
STAMP="$DEST/.ferrotls-build"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$DEST/src/examples/client/client" \
      && -x "$DEST/src/examples/server/server" && -f "$DEST/src/certs/dh2048.pem" ]]; then
    echo "$DEST/src"
    exit 0
fi

if ! command -v autoconf >/dev/null || ! command -v automake >/dev/null || ! command -v libtoolize >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y -qq autoconf automake libtool >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq autoconf automake libtool >/dev/null 2>&1; }
    fi
fi
for tool in cc make autoconf automake libtoolize tar openssl; do
    command -v "$tool" >/dev/null || { echo "wolfssl_peer.sh: $tool is missing" >&2; exit 1; }
done

mkdir -p "$CACHE"
crate=""
for f in "$HOME"/.cargo/registry/cache/*/wolfssl-sys-"$CRATE_VERSION".crate; do
    [[ -f "$f" ]] && crate="$f" && break
done
if [[ -z "$crate" ]] && command -v cargo >/dev/null; then
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/src" && : > "$tmp/src/lib.rs"
    printf '[package]\nname = "fetch-wolfssl"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nwolfssl-sys = "=%s"\n' \
        "$CRATE_VERSION" > "$tmp/Cargo.toml"
    (cd "$tmp" && cargo fetch -q) || true
    rm -rf "$tmp"
    for f in "$HOME"/.cargo/registry/cache/*/wolfssl-sys-"$CRATE_VERSION".crate; do
        [[ -f "$f" ]] && crate="$f" && break
    done
fi
if [[ -z "$crate" ]]; then
    crate="$CACHE/wolfssl-sys-$CRATE_VERSION.crate"
    curl -fsSL -o "$crate" "https://static.crates.io/crates/wolfssl-sys/wolfssl-sys-$CRATE_VERSION.crate"
fi

rm -rf "$DEST"
mkdir -p "$DEST/src"
tar -xzf "$crate" -C "$DEST/src" --strip-components=2 "wolfssl-sys-$CRATE_VERSION/wolfssl-src"
start=$(date +%s)
(
    cd "$DEST/src"
    ./autogen.sh >"$DEST/autogen.log" 2>&1
    ./configure "${FLAGS[@]}" >"$DEST/configure.log" 2>&1
    # the crate leaves out the unit tests, so build only what the peer needs
    make -j"$(nproc)" examples/client/client examples/server/server >"$DEST/make.log" 2>&1
)
mkdir -p "$DEST/src/certs"
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$DEST/src/certs/dh2048.pem"
echo "$WANT" > "$STAMP"
echo "wolfssl_peer.sh: built wolfSSL $(grep -o '"[0-9.]*"' "$DEST/src/wolfssl/version.h" | head -1)" \
     "from wolfssl-sys $CRATE_VERSION in $(( $(date +%s) - start )) s" >&2
echo "$DEST/src"
