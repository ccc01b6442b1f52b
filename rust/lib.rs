//! ferrotls._native: TLS 1.3, TLS 1.2, DTLS 1.3 and DTLS 1.2 record protection, AEAD, HKDF, the TLS 1.2
//! PRF, X25519 and ML-KEM-768 for ferrotls.  `core` is pure Rust; `py` holds the PyO3 bindings.
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod core;

#[cfg(feature = "extension-module")]
mod py;

#[cfg(feature = "extension-module")]
#[pyo3::pymodule(gil_used = false)]
mod _native {
    #[pymodule_export]
    use crate::py::aead::Aead;
    #[pymodule_export]
    use crate::py::dtls::{Dtls12RecordProtector, Dtls13RecordProtector};
    #[pymodule_export]
    use crate::py::features::features;
    #[pymodule_export]
    use crate::py::hkdf::{derive_secret, hkdf_expand, hkdf_expand_label, hkdf_extract};
    #[pymodule_export]
    use crate::py::mlkem::{mlkem768_encapsulate, mlkem768_encapsulate_deterministic, MlKem768PrivateKey};
    #[pymodule_export]
    use crate::py::prf::tls12_prf;
    #[pymodule_export]
    use crate::py::record::{RecordProtector, Tls12RecordProtector};
    #[pymodule_export]
    use crate::py::{gil_release_threshold, set_gil_release_threshold};
    #[pymodule_export]
    use crate::py::x25519::X25519PrivateKey;

    #[allow(non_upper_case_globals)]
    #[pymodule_export]
    const __version__: &str = env!("CARGO_PKG_VERSION");
}
