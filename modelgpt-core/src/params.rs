//! Parameter specifications and generated parameters.
//!
//! [`ParamSpec`] is the single source of truth for the names, shapes and order of the tensors a
//! hypernetwork generates for a target model. Names follow the target's module paths
//! (`layers.0.weight`, `encoder.layer.0.attention.self.query.lora_a`) so that they match the keys
//! written by `SafetensorsStore`.

use burn::tensor::{Shape, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a generated tensor relates to tasks (paper §2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParamRole {
    /// Same shape for every task: one generator head shared by all tasks.
    Shared,
    /// Shape depends on the task's input width (e.g. the input layer of an MLP).
    InputDependent,
    /// Shape depends on the task's class count (e.g. the classification head).
    ClassDependent,
}

/// Name, shape and role of one generated tensor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParamEntry {
    /// Module path, e.g. `layers.0.weight`.
    pub name: String,
    /// Shape in burn's layout (`Linear.weight` is `[d_input, d_output]`).
    pub shape: Vec<usize>,
    /// Whether the shape depends on the task.
    pub role: ParamRole,
}

impl ParamEntry {
    /// Number of scalars in the tensor.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Ordered list of the tensors of a target model.
///
/// ```
/// use modelgpt_core::{ParamRole, ParamSpec};
/// let spec = ParamSpec::new()
///     .with("layers.0.weight", [4, 8], ParamRole::InputDependent)
///     .with("layers.0.bias", [8], ParamRole::Shared);
/// assert_eq!(spec.len(), 2);
/// assert_eq!(spec.numel(), 40);
/// assert_eq!(spec.get("layers.0.bias").unwrap().shape, vec![8]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParamSpec {
    entries: Vec<ParamEntry>,
}

impl ParamSpec {
    /// An empty spec.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a tensor (builder style).
    pub fn with(
        mut self,
        name: impl Into<String>,
        shape: impl Into<Vec<usize>>,
        role: ParamRole,
    ) -> Self {
        self.push(name, shape, role);
        self
    }

    /// Appends a tensor.
    pub fn push(&mut self, name: impl Into<String>, shape: impl Into<Vec<usize>>, role: ParamRole) {
        self.entries.push(ParamEntry {
            name: name.into(),
            shape: shape.into(),
            role,
        });
    }

    /// The entries in order.
    pub fn entries(&self) -> &[ParamEntry] {
        &self.entries
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the spec holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of scalars.
    pub fn numel(&self) -> usize {
        self.entries.iter().map(ParamEntry::numel).sum()
    }

    /// Position of a tensor by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    /// Looks a tensor up by name.
    pub fn get(&self, name: &str) -> Option<&ParamEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// The tensors generated for one target model, in the order of their [`ParamSpec`].
///
/// Tensors are plain (possibly autodiff-tracked) burn tensors: a target's functional forward
/// reads them with [`GeneratedParams::get`], so gradients flow back into the hypernetwork.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use modelgpt_core::{GeneratedParams, ParamRole, ParamSpec};
/// let device = Device::default();
/// let spec = ParamSpec::new().with("w", [2, 3], ParamRole::Shared);
/// let params = GeneratedParams::new(spec, vec![Tensor::<1>::zeros([6], &device).reshape([2, 3])]).unwrap();
/// let w: Tensor<2> = params.get("w").unwrap();
/// assert_eq!(w.dims(), [2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct GeneratedParams {
    spec: ParamSpec,
    tensors: Vec<Tensor<1>>,
}

/// A tensor of any rank, flattened, for [`GeneratedParams::new`].
pub trait IntoFlat {
    /// The tensor's shape and its flattened values.
    fn into_flat(self) -> (Vec<usize>, Tensor<1>);
}

impl<const D: usize> IntoFlat for Tensor<D> {
    fn into_flat(self) -> (Vec<usize>, Tensor<1>) {
        let dims = self.dims().to_vec();
        let n: usize = dims.iter().product();
        (dims, self.reshape([n]))
    }
}

impl GeneratedParams {
    /// Pairs tensors with their spec, checking count and shapes.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the number of tensors or a tensor's shape disagrees with `spec`.
    pub fn new<T: IntoFlat>(spec: ParamSpec, tensors: Vec<T>) -> Result<Self> {
        if tensors.len() != spec.len() {
            return Err(Error::ShapeMismatch {
                what: "number of generated tensors".into(),
                expected: vec![spec.len()],
                actual: vec![tensors.len()],
            });
        }
        let mut flat = Vec::with_capacity(tensors.len());
        for (entry, t) in spec.entries().iter().zip(tensors) {
            let (dims, t) = t.into_flat();
            if dims != entry.shape {
                return Err(Error::ShapeMismatch {
                    what: entry.name.clone(),
                    expected: entry.shape.clone(),
                    actual: dims,
                });
            }
            flat.push(t);
        }
        Ok(Self {
            spec,
            tensors: flat,
        })
    }

    /// Pairs flattened tensors (each `[numel]`) with their spec.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when a length disagrees with the spec.
    pub fn from_flat(spec: ParamSpec, tensors: Vec<Tensor<1>>) -> Result<Self> {
        if tensors.len() != spec.len() {
            return Err(Error::ShapeMismatch {
                what: "number of generated tensors".into(),
                expected: vec![spec.len()],
                actual: vec![tensors.len()],
            });
        }
        for (entry, t) in spec.entries().iter().zip(&tensors) {
            if t.dims()[0] != entry.numel() {
                return Err(Error::ShapeMismatch {
                    what: entry.name.clone(),
                    expected: vec![entry.numel()],
                    actual: t.dims().to_vec(),
                });
            }
        }
        Ok(Self { spec, tensors })
    }

    /// The spec.
    pub fn spec(&self) -> &ParamSpec {
        &self.spec
    }

    /// A tensor by name, reshaped to its spec shape.
    ///
    /// # Errors
    /// [`Error::UnknownParam`] for an unknown name; [`Error::ShapeMismatch`] when `D` is not the
    /// tensor's rank.
    pub fn get<const D: usize>(&self, name: &str) -> Result<Tensor<D>> {
        let i = self
            .spec
            .index_of(name)
            .ok_or_else(|| Error::UnknownParam { name: name.into() })?;
        let shape = &self.spec.entries()[i].shape;
        if shape.len() != D {
            return Err(Error::ShapeMismatch {
                what: format!("rank of {name}"),
                expected: vec![shape.len()],
                actual: vec![D],
            });
        }
        Ok(self.tensors[i].clone().reshape(Shape::from(shape.clone())))
    }

    /// The flattened tensors in spec order.
    pub fn flat(&self) -> &[Tensor<1>] {
        &self.tensors
    }

    /// Iterates `(entry, flattened tensor)` pairs in spec order.
    pub fn iter(&self) -> impl Iterator<Item = (&ParamEntry, &Tensor<1>)> {
        self.spec.entries().iter().zip(&self.tensors)
    }

    /// Detaches every tensor from the autodiff graph.
    pub fn detach(self) -> Self {
        Self {
            spec: self.spec,
            tensors: self.tensors.into_iter().map(|t| t.detach()).collect(),
        }
    }
}
