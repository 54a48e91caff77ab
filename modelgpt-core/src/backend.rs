//! Picking a compute device by name, with an error instead of burn's panic when the backend is
//! not compiled in.
//!
//! burn 0.22 compiles backends in through Cargo features and chooses among them at run time
//! through a [`Device`]. Library code never picks one (it takes `&Device`); programs do, and
//! this module gives them one vocabulary for it: the names `flex`, `wgpu`, `cuda`, `tch` and
//! `tch-cuda`, the list of those this build can run ([`compiled_backends`]), and
//! [`device_by_name`] / [`device_from_env`], which answer a typed [`Error`] where
//! `Device::default()` would panic (`BURN_DEVICE` naming a backend that is not compiled in).
//!
//! ```
//! let names = modelgpt_core::backend::compiled_backends();
//! assert!(names.contains(&"flex"));
//! let flex = modelgpt_core::backend::device_by_name("flex").unwrap();
//! assert!(modelgpt_core::backend::device_by_name("tpu").is_err());
//! # let _ = flex;
//! ```

use crate::{Device, Error, Result};

/// Every backend name [`device_by_name`] understands, compiled in or not.
pub const BACKEND_NAMES: [&str; 5] = ["flex", "wgpu", "cuda", "tch", "tch-cuda"];

/// The environment variable [`device_from_env`] reads (burn's own).
pub const DEVICE_VAR: &str = "BURN_DEVICE";

/// The backend names this build can run, in [`BACKEND_NAMES`] order.
pub fn compiled_backends() -> Vec<&'static str> {
    BACKEND_NAMES
        .iter()
        .copied()
        .filter(|n| is_compiled(n))
        .collect()
}

/// Whether the backend `name` (one of [`BACKEND_NAMES`]) is compiled into this build.
pub fn is_compiled(name: &str) -> bool {
    match name {
        "flex" => cfg!(feature = "flex"),
        "wgpu" => cfg!(feature = "wgpu"),
        "cuda" => cfg!(feature = "cuda"),
        "tch" | "tch-cuda" => cfg!(feature = "tch"),
        _ => false,
    }
}

/// The default device of the backend `name`: `flex` (burn's pure-Rust CPU backend), `wgpu` (the
/// adapter wgpu prefers: a GPU, else a software Vulkan driver such as lavapipe), `cuda` (GPU 0
/// through cubecl), `tch` (LibTorch on the CPU) or `tch-cuda` (LibTorch on GPU 0). Names are
/// case-insensitive.
///
/// # Errors
/// [`Error::InvalidConfig`] naming the backend when it is unknown or not compiled into this
/// build (and which Cargo feature would compile it in).
pub fn device_by_name(name: &str) -> Result<Device> {
    let lower = name.trim().to_ascii_lowercase();
    if !BACKEND_NAMES.contains(&lower.as_str()) {
        return Err(Error::InvalidConfig {
            field: "backend",
            reason: format!(
                "unknown backend `{name}`; known: {}",
                BACKEND_NAMES.join(", ")
            ),
        });
    }
    if !is_compiled(&lower) {
        let feature = lower.trim_end_matches("-cuda");
        return Err(Error::InvalidConfig {
            field: "backend",
            reason: format!(
                "backend `{lower}` is not compiled into this build (enable the `{feature}` \
                 feature); compiled: {}",
                compiled_backends().join(", ")
            ),
        });
    }
    compiled_device(&lower)
}

/// The device `BURN_DEVICE` names ([`device_by_name`]), or `Device::default()` when it is not
/// set: the first GPU backend compiled in, else flex.
///
/// # Errors
/// As [`device_by_name`] for a `BURN_DEVICE` that is unknown or not compiled in; and
/// [`Error::InvalidConfig`] when no backend is compiled in at all.
pub fn device_from_env() -> Result<Device> {
    match std::env::var(DEVICE_VAR) {
        Ok(name) if !name.trim().is_empty() => device_by_name(&name),
        _ if compiled_backends().is_empty() => Err(Error::InvalidConfig {
            field: "backend",
            reason: "no backend is compiled in (enable `flex`, `wgpu`, `cuda` or `tch`)".into(),
        }),
        _ => Ok(Device::default()),
    }
}

/// The device of a compiled backend (`name` checked by the caller).
#[allow(unreachable_code, deprecated)]
fn compiled_device(name: &str) -> Result<Device> {
    match name {
        #[cfg(feature = "flex")]
        "flex" => return Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        "wgpu" => return Ok(Device::wgpu(Default::default())),
        #[cfg(feature = "cuda")]
        "cuda" => return Ok(Device::cuda(0)),
        #[cfg(feature = "tch")]
        "tch" => return Ok(Device::libtorch()),
        #[cfg(feature = "tch")]
        "tch-cuda" => return Ok(Device::libtorch_cuda(0)),
        _ => {}
    }
    Err(Error::InvalidConfig {
        field: "backend",
        reason: format!("backend `{name}` is not compiled into this build"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(device_by_name("FLEX").is_ok());
        let err = device_by_name("tpu").unwrap_err().to_string();
        assert!(err.contains("unknown backend `tpu`"), "{err}");
        for name in BACKEND_NAMES {
            assert_eq!(device_by_name(name).is_ok(), is_compiled(name), "{name}");
        }
        if !is_compiled("wgpu") {
            let err = device_by_name("wgpu").unwrap_err().to_string();
            assert!(err.contains("enable the `wgpu` feature"), "{err}");
        }
    }
}
