//! Saving and loading the target models: a weights file (SafeTensors, written through burn's
//! store) beside a JSON spec, both written atomically, and the checks every family's generated
//! tensors go through.

use std::fs;
use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::store::{ApplyError, ModuleSnapshot, SafetensorsStore, SafetensorsStoreError};
use burn::tensor::{Device, Tensor};
use modelgpt_core::{GeneratedParams, ParamSpec};

use crate::error::{Error, Result};

/// Checks that `params` holds exactly the tensors of `ours` (names and shapes, in order);
/// `count` names the tensor count in the error.
pub(crate) fn check_entries(ours: &ParamSpec, params: &GeneratedParams, count: &str) -> Result<()> {
    let ours = ours.entries();
    let theirs = params.spec().entries();
    if ours.len() != theirs.len() {
        return Err(Error::ShapeMismatch {
            what: count.into(),
            expected: vec![ours.len()],
            actual: vec![theirs.len()],
        });
    }
    for (a, b) in ours.iter().zip(theirs) {
        if a.name != b.name {
            return Err(Error::Core(modelgpt_core::Error::UnknownParam {
                name: b.name.clone(),
            }));
        }
        if a.shape != b.shape {
            return Err(Error::ShapeMismatch {
                what: a.name.clone(),
                expected: a.shape.clone(),
                actual: b.shape.clone(),
            });
        }
    }
    Ok(())
}

/// A fresh leaf on `device` cut from the generator's graph: a plain tensor on a plain device,
/// one that requires gradients on an autodiff device.
pub(crate) fn leaf_on<const D: usize>(t: Tensor<D>, device: &Device) -> Tensor<D> {
    let t = t.detach().without_autodiff().to_device(device);
    if device.is_autodiff() {
        t.autodiff()
    } else {
        t
    }
}

/// Maps burn's store error to ours, keeping the path: parse failures become
/// [`Error::Safetensors`], I/O failures [`Error::Io`].
pub(crate) fn store_error(path: &Path, err: SafetensorsStoreError) -> Error {
    match err {
        SafetensorsStoreError::Safetensors(source) => Error::Safetensors {
            path: path.to_path_buf(),
            source,
        },
        SafetensorsStoreError::Io(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        other => Error::Store(other),
    }
}

/// Writes `target` through `write(tmp)` atomically ([`modelgpt_core::replace_atomically`]).
pub(crate) fn write_atomically(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    modelgpt_core::replace_atomically(target, write, |source| Error::Io {
        path: target.to_path_buf(),
        source,
    })
}

/// Writes `module`'s weights to `dir/weights_file` and its spec (through `write_spec`) to
/// `dir/spec_file`, creating `dir` if needed. Each file is written under a temporary name in
/// `dir`, flushed and renamed over the old one; the weights are renamed first.
pub(crate) fn save_with_spec<M: Module>(
    module: &M,
    dir: &Path,
    weights_file: &str,
    spec_file: &str,
    write_spec: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let weights = dir.join(weights_file);
    write_atomically(&weights, |tmp| {
        let mut store = SafetensorsStore::from_file(tmp).overwrite(true);
        module
            .save_into(&mut store)
            .map_err(|e| store_error(tmp, e))
    })?;
    write_atomically(&dir.join(spec_file), |tmp| {
        write_spec(tmp).map_err(|source| Error::Io {
            path: tmp.to_path_buf(),
            source,
        })
    })
}

/// Checks that both files of a saved model are there, then reads and returns its spec.
///
/// # Errors
/// [`Error::MissingFile`] naming the absent file (`what`: `"{kind} spec"` or
/// `"{kind} weights"`), [`Error::Config`] for a spec file that does not parse.
pub(crate) fn read_spec<C: Config>(
    spec_path: &Path,
    weights: &Path,
    what: [&'static str; 2],
) -> Result<C> {
    for (path, what) in [(spec_path, what[0]), (weights, what[1])] {
        if !path.is_file() {
            return Err(Error::MissingFile {
                path: path.to_path_buf(),
                what,
            });
        }
    }
    C::load(spec_path).map_err(|source| Error::Config {
        path: spec_path.to_path_buf(),
        source,
    })
}

/// Overwrites every tensor of `model` (placeholders of the right shapes) with those of the
/// SafeTensors file `weights`.
///
/// # Errors
/// [`Error::Safetensors`] for a corrupt file, [`Error::ShapeMismatch`] naming a tensor whose
/// shape differs, [`Error::MissingTensor`] / [`Error::UnexpectedTensors`] when the file's
/// tensors are not exactly the model's.
pub(crate) fn load_weights<M: Module>(mut model: M, weights: &Path) -> Result<M> {
    let mut store = SafetensorsStore::from_file(weights)
        .validate(false)
        .allow_partial(true);
    let result = model
        .load_from(&mut store)
        .map_err(|e| store_error(weights, e))?;
    if let Some(err) = result.errors.into_iter().next() {
        return Err(match err {
            ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => Error::ShapeMismatch {
                what: format!("{} in {}", path, weights.display()),
                expected: expected.as_slice().to_vec(),
                actual: found.as_slice().to_vec(),
            },
            other => Error::Store(SafetensorsStoreError::ValidationFailed(other.to_string())),
        });
    }
    if let Some((name, _)) = result.missing.into_iter().next() {
        return Err(Error::MissingTensor {
            path: weights.to_path_buf(),
            name,
        });
    }
    if !result.unused.is_empty() {
        return Err(Error::UnexpectedTensors {
            path: weights.to_path_buf(),
            names: result.unused,
        });
    }
    Ok(model)
}
