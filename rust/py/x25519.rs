//! `X25519PrivateKey`: generate / from_private_bytes, public_bytes, exchange.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::buf::ByteBuf;
use super::maybe_detach;
use crate::core::x25519::{X25519Key, KEY_LEN};

/// CPU time of a key generation / an exchange on the CI machine class (~10 / ~35 us).
const GENERATE_NS: u64 = 10_000;
const EXCHANGE_NS: u64 = 35_000;

#[pyclass(frozen, module = "ferrotls._native")]
pub struct X25519PrivateKey {
    key: X25519Key,
}

#[pymethods]
impl X25519PrivateKey {
    /// A fresh key from the operating system's CSPRNG.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        Ok(Self { key: maybe_detach(py, GENERATE_NS, X25519Key::generate)? })
    }

    /// A key from 32 private bytes.
    #[staticmethod]
    fn from_private_bytes(private: ByteBuf<'_>) -> PyResult<Self> {
        Ok(Self { key: X25519Key::from_bytes(private.as_slice())? })
    }

    fn public_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.key.public_bytes()?))
    }

    /// The 32-byte shared secret; IllegalParameter if it is all zeros.
    fn exchange<'py>(&self, py: Python<'py>, peer_public: ByteBuf<'_>) -> PyResult<Bound<'py, PyBytes>> {
        let peer = peer_public.as_slice();
        let mut secret = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        maybe_detach(py, EXCHANGE_NS, || self.key.exchange(peer, &mut secret))?;
        Ok(PyBytes::new(py, &secret[..]))
    }

    fn __repr__(&self) -> &'static str {
        "<ferrotls._native.X25519PrivateKey>"
    }
}
