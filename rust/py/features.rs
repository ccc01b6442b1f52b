//! `features()`: build facts for `python -m ferrotls info`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

const RING: &str = env!("FERROTLS_RING_VERSION");
const AWS_LC_RS: &str = env!("FERROTLS_AWS_LC_RS_VERSION");
const AWS_LC_SYS: &str = env!("FERROTLS_AWS_LC_SYS_VERSION");
const ML_KEM: &str = env!("FERROTLS_ML_KEM_VERSION");
const CCM: &str = env!("FERROTLS_CCM_VERSION");
const AES: &str = env!("FERROTLS_AES_VERSION");
const PYO3: &str = env!("FERROTLS_PYO3_VERSION");

fn cpu_features() -> Vec<(&'static str, bool)> {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        vec![
            ("aes", std::arch::is_x86_feature_detected!("aes")),
            ("pclmulqdq", std::arch::is_x86_feature_detected!("pclmulqdq")),
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("vaes", std::arch::is_x86_feature_detected!("vaes")),
            ("vpclmulqdq", std::arch::is_x86_feature_detected!("vpclmulqdq")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ]
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        Vec::new()
    }
}

/// Crate versions, what each primitive runs on, and the CPU features detected.
#[pyfunction]
pub fn features(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("backend", "native")?;
    d.set_item("version", env!("CARGO_PKG_VERSION"))?;
    d.set_item("pyo3", PYO3)?;
    d.set_item("ring", RING)?;
    d.set_item("aws-lc-rs", format!("{AWS_LC_RS} (aws-lc-sys {AWS_LC_SYS})"))?;
    d.set_item("ml-kem", ML_KEM)?;
    d.set_item("ccm", CCM)?;
    d.set_item("aes", AES)?;
    d.set_item("aead", format!("ring {RING}; AES-CCM: ccm {CCM} over aes {AES}"))?;
    d.set_item("hkdf", format!("ring {RING}"))?;
    d.set_item("x25519", format!("aws-lc-rs {AWS_LC_RS}"))?;
    d.set_item("mlkem768", format!("aws-lc-rs {AWS_LC_RS}; seeded keygen: ml-kem {ML_KEM}"))?;
    d.set_item("target", format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS))?;
    let cpu = cpu_features();
    let found: Vec<&str> = cpu.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect();
    d.set_item("cpu", found.join(" "))?;
    for (name, on) in cpu {
        d.set_item(format!("cpu.{name}"), if on { "yes" } else { "no" })?;
    }
    Ok(d)
}
