//! PyO3 bindings over `crate::core`.  Inputs are borrowed through the buffer
//! protocol, outputs written straight into new `bytes` objects.

pub mod aead;
pub mod buf;
pub mod dtls;
pub mod errors;
pub mod features;
pub mod hkdf;
pub mod mlkem;
pub mod prf;
pub mod record;
pub mod x25519;

use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::marker::Ungil;
use pyo3::prelude::*;

/// Default for [`gil_release_threshold`], in nanoseconds of estimated work.
///
/// Releasing and re-taking the GIL is cheap when no other thread wants it, but
/// when two threads compete every hand-off wakes a sleeping thread (a futex
/// wake, an inter-processor interrupt on a VM), which costs microseconds.  On
/// the 2-vCPU CI machine class, releasing for calls of ~3 us (one 16 KiB
/// AES-GCM record) made two busy threads slower than one, while releasing for
/// calls of >= ~8 us (16 KiB ChaCha20, 64 KiB AES-GCM) let them overlap
/// (docs/threads.md).  So a call releases the GIL when its estimated work is at
/// least this long.
pub const DEFAULT_RELEASE_NS: u64 = 6_000;

static RELEASE_NS: AtomicU64 = AtomicU64::new(DEFAULT_RELEASE_NS);

/// Calls whose estimated CPU time is at least this many nanoseconds run with
/// the GIL released (default 6000: a 32 KiB AES-GCM batch, 12 KiB of
/// ChaCha20-Poly1305, 4 KiB of AES-CCM, an X25519 exchange).
#[pyfunction]
pub fn gil_release_threshold() -> u64 {
    RELEASE_NS.load(Ordering::Relaxed)
}

/// Set [`gil_release_threshold`] (nanoseconds) for the whole process and return
/// the previous value: 0 releases the GIL for every call that checks it, a huge
/// value never releases it.
#[pyfunction]
pub fn set_gil_release_threshold(nanoseconds: u64) -> u64 {
    RELEASE_NS.swap(nanoseconds, Ordering::Relaxed)
}

/// Run `f` with the GIL released when its estimated cost `work_ns` reaches
/// [`gil_release_threshold`].  `f` must not touch Python objects (enforced by
/// `Ungil`).
#[inline]
pub fn maybe_detach<T, F>(py: Python<'_>, work_ns: u64, f: F) -> T
where
    F: Ungil + FnOnce() -> T,
    T: Ungil,
{
    if work_ns >= RELEASE_NS.load(Ordering::Relaxed) {
        py.detach(f)
    } else {
        f()
    }
}
