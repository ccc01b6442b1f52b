//! Pure-Rust core of ferrotls: AEAD, HKDF, the TLS 1.2 PRF, X25519, ML-KEM-768 and
//! TLS 1.3 / TLS 1.2 / DTLS 1.3 / DTLS 1.2 record protection.  No pyo3 here; `cargo test --no-default-features` runs the unit
//! tests against RFC vectors without Python.

pub mod aead;
pub mod dtls;
pub mod hkdf;
pub mod mlkem;
pub mod prf;
pub mod record;
pub mod x25519;

/// Every failure the core reports.  `py/errors.rs` maps each to a Python class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Authentication failed or the ciphertext was too short (fixed message, no oracle).
    BadRecordMac,
    /// A record or its plaintext is longer than allowed.
    RecordOverflow,
    /// The inner plaintext was all zero bytes (no content type).
    UnexpectedMessage,
    /// A peer value was unacceptable (all-zero X25519 secret, ML-KEM modulus check).
    IllegalParameter(&'static str),
    /// A record would need sequence number 2**64.
    SequenceNumberExhausted,
    /// Application data would take the key past its usage limit (nothing sealed).
    KeyLimitReached,
    /// A caller argument was wrong (ValueError in Python).
    Invalid(String),
    /// The crypto library failed where it should not (e.g. the OS RNG).
    Internal(&'static str),
}

pub type Result<T> = core::result::Result<T, Error>;

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Invalid(msg.into()))
}

#[cfg(test)]
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}
