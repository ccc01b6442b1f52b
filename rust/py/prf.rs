//! The TLS 1.2 PRF (RFC 5246 section 5) for "sha256" and "sha384".

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::buf::ByteBuf;
use crate::core::hkdf::Hash;
use crate::core::prf;

/// PRF(secret, label, seed)[:length] = P_<hash>(secret, label || seed); ValueError
/// unless 0 <= length <= 65535.
#[pyfunction]
pub fn tls12_prf<'py>(
    py: Python<'py>,
    hash_name: &str,
    secret: ByteBuf<'_>,
    label: ByteBuf<'_>,
    seed: ByteBuf<'_>,
    length: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let h = Hash::from_name(hash_name)?;
    let length = prf::check_len(length)?;
    PyBytes::new_with(py, length, |out| Ok(prf::prf(h, secret.as_slice(), label.as_slice(), seed.as_slice(), out)?))
}
