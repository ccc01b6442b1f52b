//! PyO3 bindings over `crate::core`.  Inputs are borrowed through the buffer
//! protocol, outputs written straight into new `bytes` objects.

pub mod aead;
pub mod buf;
pub mod errors;
pub mod features;
pub mod hkdf;
pub mod mlkem;
pub mod record;
pub mod x25519;

use pyo3::marker::Ungil;
use pyo3::Python;

/// Payloads at least this long are processed with the GIL released
/// (CPython hashlib's and blake3-py's threshold).
pub const DETACH_THRESHOLD: usize = 2048;

/// Run `f` with the GIL released when `len >= DETACH_THRESHOLD`.  `f` must not
/// touch Python objects (enforced by `Ungil`).
#[inline]
pub fn maybe_detach<T, F>(py: Python<'_>, len: usize, f: F) -> T
where
    F: Ungil + FnOnce() -> T,
    T: Ungil,
{
    if len >= DETACH_THRESHOLD {
        py.detach(f)
    } else {
        f()
    }
}
