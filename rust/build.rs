//! Records the versions of the crypto crates and pyo3 from Cargo.lock so that
//! `features()` reports what was really linked.
use std::{env, fs, path::Path};

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let lock = Path::new(&root).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-changed=rust/build.rs");
    let text = fs::read_to_string(&lock).unwrap_or_default();
    for (krate, var) in [
        ("ring", "FERROTLS_RING_VERSION"),
        ("aws-lc-rs", "FERROTLS_AWS_LC_RS_VERSION"),
        ("aws-lc-sys", "FERROTLS_AWS_LC_SYS_VERSION"),
        ("ml-kem", "FERROTLS_ML_KEM_VERSION"),
        ("ccm", "FERROTLS_CCM_VERSION"),
        ("aes", "FERROTLS_AES_VERSION"),
        ("pyo3", "FERROTLS_PYO3_VERSION"),
    ] {
        let mut version = "unknown".to_string();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == format!("name = \"{krate}\"") {
                if let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = ")) {
                    version = v.trim_matches('"').to_string();
                }
                break;
            }
        }
        println!("cargo:rustc-env={var}={version}");
    }
}
