//! The MLP target family: the paper's tabular target model (paper §3.1, "Tabular data").
//!
//! Three views of the same network:
//!
//! - [`MlpSpec`]: widths, depth and activation (a burn [`Config`], saved as `mlp.json`);
//! - [`MlpFamily`]: the [`TargetFamily`] a hypernetwork generates for. Its
//!   [`forward_with`](TargetFamily::forward_with) runs the network straight on generated tensors
//!   with burn's functional [`linear`], so gradients reach the generator;
//! - [`Mlp`]: the materialised `#[derive(Module)]` network, for export, prediction and
//!   ordinary training (see [`train`](crate::train)).
//!
//! Tensor names follow the module paths of [`Mlp`] (`layers.{i}.weight`, `layers.{i}.bias`), so
//! the [`ParamSpec`], [`GeneratedParams`] and the keys of `model.safetensors` all agree. Weights are
//! in burn's layout, `[d_in, d_out]` (PyTorch stores `[out, in]`).

use std::path::Path;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor, TensorData, activation};
use modelgpt_core::{GeneratedParams, ParamRole, ParamSpec, TargetFamily};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::error::{Error, Result};
use crate::persist::{check_entries, leaf_on, load_weights, read_spec, save_with_spec};

/// File name of the weights written by [`Mlp::save`].
pub const MLP_WEIGHTS_FILE: &str = "model.safetensors";
/// File name of the [`MlpSpec`] written by [`Mlp::save`].
pub const MLP_SPEC_FILE: &str = "mlp.json";

/// Negative slope of [`MlpActivation::LeakyRelu`] (PyTorch's default, as in the paper's
/// hypernetwork).
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

/// Nonlinearity between the hidden layers of an [`Mlp`].
///
/// Paper §3.1 uses an MLP of width 8 with 4 hidden layers, but its public code stacks the
/// `Linear` layers without any activation, which collapses the network into one linear map.
/// We always put a real nonlinearity between layers; the default is
/// [`LeakyRelu`](Self::LeakyRelu), which unlike ReLU never leaves a generated unit dead for
/// every input.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum MlpActivation {
    /// `max(x, 0)`.
    Relu,
    /// Gaussian error linear unit (exact, erf-based).
    Gelu,
    /// `max(x, 0) + 0.01 · min(x, 0)` (slope [`LEAKY_RELU_SLOPE`]).
    LeakyRelu,
    /// Hyperbolic tangent.
    Tanh,
}

impl MlpActivation {
    /// Applies the activation elementwise.
    ///
    /// # Shapes
    /// - input: any
    /// - output: same as the input
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Relu => activation::relu(x),
            Self::Gelu => activation::gelu(x),
            Self::LeakyRelu => activation::leaky_relu(x, LEAKY_RELU_SLOPE),
            Self::Tanh => activation::tanh(x),
        }
    }
}

/// Shape of an MLP classifier: `d_input -> hidden[0] -> ... -> hidden[k-1] -> n_classes`.
///
/// With no hidden layer the MLP is multinomial logistic regression.
///
/// ```
/// use modelgpt_targets::{MlpActivation, MlpSpec};
/// let spec = MlpSpec::new(4, 3).with_hidden(vec![8, 8]).with_activation(MlpActivation::Relu);
/// assert_eq!(spec.layer_dims(), vec![4, 8, 8, 3]);
/// assert_eq!(spec.param_spec().numel(), 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3);
/// ```
#[derive(Config, Debug, PartialEq, Eq, Hash)]
pub struct MlpSpec {
    /// Number of input features.
    pub d_input: usize,
    /// Number of classes (width of the output logits).
    pub n_classes: usize,
    /// Widths of the hidden layers, input side first. Empty for logistic regression.
    #[config(default = "vec![32, 32]")]
    pub hidden: Vec<usize>,
    /// Nonlinearity after every hidden layer (never after the output layer).
    #[config(default = "MlpActivation::LeakyRelu")]
    pub activation: MlpActivation,
}

impl MlpSpec {
    /// Checks that every width is positive and that there are at least two classes.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the offending field.
    pub fn validate(&self) -> Result<()> {
        if self.d_input == 0 {
            return Err(Error::InvalidConfig {
                field: "d_input",
                reason: "an MLP needs at least one input feature".into(),
            });
        }
        if self.n_classes < 2 {
            return Err(Error::InvalidConfig {
                field: "n_classes",
                reason: format!(
                    "a classifier needs at least 2 classes, got {}",
                    self.n_classes
                ),
            });
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(Error::InvalidConfig {
                field: "hidden",
                reason: format!("hidden layer {i} has width 0"),
            });
        }
        Ok(())
    }

    /// Number of `Linear` layers (`hidden.len() + 1`).
    pub fn n_layers(&self) -> usize {
        self.hidden.len() + 1
    }

    /// Widths of every layer boundary: `[d_input, hidden.., n_classes]`.
    pub fn layer_dims(&self) -> Vec<usize> {
        let mut dims = Vec::with_capacity(self.hidden.len() + 2);
        dims.push(self.d_input);
        dims.extend_from_slice(&self.hidden);
        dims.push(self.n_classes);
        dims
    }

    /// The generated tensors of this MLP, in layer order: `layers.{i}.weight` (`[d_in, d_out]`,
    /// burn's layout) then `layers.{i}.bias` (`[d_out]`).
    ///
    /// Roles follow how each *shape* depends on the task (paper §2.3.2: tensors whose shape differs
    /// between tasks get task-specific heads):
    /// - the first weight, `[d_input, h0]`, is [`ParamRole::InputDependent`];
    /// - the last weight and bias, `[h_last, n_classes]` and `[n_classes]`, are
    ///   [`ParamRole::ClassDependent`];
    /// - everything else, the first bias `[h0]` included, is [`ParamRole::Shared`].
    ///
    /// With no hidden layer the single weight `[d_input, n_classes]` depends on both; it is
    /// marked [`ParamRole::ClassDependent`], so a generator must treat `ClassDependent` tensors as
    /// possibly input-dependent too when `d_input` appears in their shape.
    pub fn param_spec(&self) -> ParamSpec {
        let dims = self.layer_dims();
        let last = dims.len() - 2;
        let mut spec = ParamSpec::new();
        for i in 0..=last {
            let weight_role = if i == last {
                ParamRole::ClassDependent
            } else if i == 0 {
                ParamRole::InputDependent
            } else {
                ParamRole::Shared
            };
            let bias_role = if i == last {
                ParamRole::ClassDependent
            } else {
                ParamRole::Shared
            };
            spec.push(weight_name(i), [dims[i], dims[i + 1]], weight_role);
            spec.push(bias_name(i), [dims[i + 1]], bias_role);
        }
        spec
    }

    /// A randomly initialised [`Mlp`], reproducible from `seed` alone.
    ///
    /// Values are drawn on the host from `StdRng::seed_from_u64(seed)` with burn's default
    /// `Linear` initialisation (`U(-k, k)`, `k = 1/sqrt(d_in)`, for weights and biases), so the
    /// result does not depend on the backend's global seed or on the order of other draws.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the spec is invalid (see [`MlpSpec::validate`]).
    pub fn init_random(&self, device: &Device, seed: u64) -> Result<Mlp> {
        self.validate()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let dims = self.layer_dims();
        let layers = dims
            .windows(2)
            .map(|w| {
                let (d_in, d_out) = (w[0], w[1]);
                let k = 1.0 / (d_in as f32).sqrt();
                let weight: Vec<f32> = (0..d_in * d_out).map(|_| rng.random_range(-k..k)).collect();
                let bias: Vec<f32> = (0..d_out).map(|_| rng.random_range(-k..k)).collect();
                Linear {
                    weight: Param::from_data(TensorData::new(weight, [d_in, d_out]), device),
                    bias: Some(Param::from_data(TensorData::new(bias, [d_out]), device)),
                }
            })
            .collect();
        Ok(Mlp {
            layers,
            activation: self.activation,
        })
    }
}

fn weight_name(layer: usize) -> String {
    format!("layers.{layer}.weight")
}

fn bias_name(layer: usize) -> String {
    format!("layers.{layer}.bias")
}

/// The MLP [`TargetFamily`]: generated tensors in, logits out.
///
/// See [`forward_with`](MlpFamily#method.forward_with) for a runnable example.
#[derive(Debug, Clone)]
pub struct MlpFamily {
    spec: MlpSpec,
    params: ParamSpec,
}

impl MlpFamily {
    /// A family for MLPs of shape `spec`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the spec is invalid (see [`MlpSpec::validate`]).
    pub fn new(spec: MlpSpec) -> Result<Self> {
        spec.validate()?;
        let params = spec.param_spec();
        Ok(Self { spec, params })
    }

    /// The MLP's shape.
    pub fn mlp_spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// Checks that `params` holds exactly this family's tensors (names and shapes, in order).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming the first tensor whose name or shape differs (or the
    /// tensor count).
    pub fn check_params(&self, params: &GeneratedParams) -> Result<()> {
        check_entries(&self.params, params, "number of generated MLP tensors")
    }

    /// Fallible form of [`forward_with`](TargetFamily::forward_with).
    ///
    /// # Shapes
    /// - input: `[batch, d_input]`
    /// - output: `[batch, n_classes]` (logits)
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `params` does not match [`spec`](TargetFamily::spec) or the
    /// input width is not `d_input`.
    pub fn try_forward_with(
        &self,
        params: &GeneratedParams,
        input: Tensor<2>,
    ) -> Result<Tensor<2>> {
        self.check_params(params)?;
        let [batch, d_input] = input.dims();
        if d_input != self.spec.d_input {
            return Err(Error::ShapeMismatch {
                what: "MLP input".into(),
                expected: vec![batch, self.spec.d_input],
                actual: vec![batch, d_input],
            });
        }
        let n_layers = self.spec.n_layers();
        let mut x = input; // [batch, d_input]
        let layers = params
            .flat()
            .chunks_exact(2)
            .zip(self.params.entries().chunks_exact(2));
        for (i, (pair, entries)) in layers.enumerate() {
            let [d_in, d_out] = [entries[0].shape[0], entries[0].shape[1]];
            let weight: Tensor<2> = pair[0].clone().reshape([d_in, d_out]); // [d_in, d_out]
            let bias: Tensor<1> = pair[1].clone(); // [d_out]
            x = linear(x, weight, Some(bias)); // [batch, d_out]
            if i + 1 < n_layers {
                x = self.spec.activation.forward(x);
            }
        }
        Ok(x) // [batch, n_classes]
    }
}

impl TargetFamily for MlpFamily {
    type Input = Tensor<2>;
    type Output = Tensor<2>;
    type Model = Mlp;
    type Error = Error;

    /// See [`MlpSpec::param_spec`].
    fn spec(&self) -> &ParamSpec {
        &self.params
    }

    /// Runs the MLP on generated tensors with burn's functional [`linear`], keeping the autodiff
    /// graph: a loss on the output backpropagates into whatever produced `params`.
    ///
    /// # Shapes
    /// - input: `[batch, d_input]`
    /// - output: `[batch, n_classes]` (logits)
    ///
    /// # Panics
    /// If `params` does not match [`spec`](TargetFamily::spec) or the input width is not
    /// `d_input` (use [`MlpFamily::try_forward_with`] to get an error instead).
    ///
    /// # Example
    ///
    /// ```
    /// use burn::tensor::{Device, Tensor};
    /// use modelgpt_core::{GeneratedParams, TargetFamily};
    /// use modelgpt_targets::{MlpFamily, MlpSpec};
    ///
    /// let device = Device::default();
    /// // 2 features -> 3 hidden -> 2 classes.
    /// let family = MlpFamily::new(MlpSpec::new(2, 2).with_hidden(vec![3]))?;
    /// // A hypernetwork would produce these; here every weight is 0.5 and every bias 0.1.
    /// let tensors = family
    ///     .spec()
    ///     .entries()
    ///     .iter()
    ///     .map(|e| Tensor::<1>::full([e.numel()], if e.name.ends_with("bias") { 0.1 } else { 0.5 }, &device))
    ///     .collect();
    /// let params = GeneratedParams::from_flat(family.spec().clone(), tensors)?;
    ///
    /// let x = Tensor::<2>::from_floats([[1.0, 2.0], [0.0, 0.0]], &device); // [batch = 2, d_input = 2]
    /// let logits = family.forward_with(&params, x); // [batch = 2, n_classes = 2]
    ///
    /// // Row 0: hidden = 0.5 * (1 + 2) + 0.1 = 1.6 (LeakyReLU keeps it); logit = 3 * 0.5 * 1.6 + 0.1 = 2.5.
    /// // Row 1: hidden = 0.1; logit = 3 * 0.5 * 0.1 + 0.1 = 0.25.
    /// let values: Vec<f32> = logits.into_data().iter::<f32>().collect();
    /// let expected = [2.5, 2.5, 0.25, 0.25];
    /// assert!(values.iter().zip(expected).all(|(v, e)| (v - e).abs() < 1e-5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn forward_with(&self, params: &GeneratedParams, input: Tensor<2>) -> Tensor<2> {
        match self.try_forward_with(params, input) {
            Ok(logits) => logits,
            Err(err) => panic!("MlpFamily::forward_with: {err}"),
        }
    }

    /// Writes the generated tensors into an [`Mlp`] on `device`.
    ///
    /// The tensors are detached from the generator's graph first. On an autodiff `device` the
    /// parameters are leaves that require gradients (ready to finetune); on a plain device call
    /// [`Module::train`] before training.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `params` does not match the family.
    fn materialize(&self, params: GeneratedParams, device: &Device) -> Result<Mlp> {
        self.check_params(&params)?;
        let to_param = |t: Tensor<1>| leaf_on(t, device);
        let layers = params
            .flat()
            .chunks_exact(2)
            .zip(self.params.entries().chunks_exact(2))
            .map(|(pair, entries)| {
                let [d_in, d_out] = [entries[0].shape[0], entries[0].shape[1]];
                Linear {
                    weight: Param::from_tensor(to_param(pair[0].clone()).reshape([d_in, d_out])),
                    bias: Some(Param::from_tensor(to_param(pair[1].clone()))),
                }
            })
            .collect();
        Ok(Mlp {
            layers,
            activation: self.spec.activation,
        })
    }
}

/// A materialised MLP classifier (`Linear` layers with an activation between them).
///
/// Build one with [`MlpSpec::init_random`], [`TargetFamily::materialize`] on an [`MlpFamily`],
/// [`Mlp::load`], or train one with [`train_classifier`](crate::train::train_classifier).
#[derive(Module, Debug)]
pub struct Mlp {
    /// The layers, input side first; weights are `[d_in, d_out]`.
    layers: Vec<Linear>,
    /// Nonlinearity after every hidden layer.
    #[module(skip)]
    activation: MlpActivation,
}

impl Mlp {
    /// Logits for a batch of rows.
    ///
    /// # Shapes
    /// - input: `[batch, d_input]`
    /// - output: `[batch, n_classes]`
    ///
    /// # Panics
    /// If the input width is not `d_input`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        let mut x = input; // [batch, d_input]
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x); // [batch, d_out]
            if i < last {
                x = self.activation.forward(x);
            }
        }
        x // [batch, n_classes]
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// The activation between hidden layers.
    pub fn activation(&self) -> MlpActivation {
        self.activation
    }

    /// The shape of this MLP, read from its weights.
    pub fn spec(&self) -> MlpSpec {
        let dims: Vec<[usize; 2]> = self
            .layers
            .iter()
            .map(|l| l.weight.shape().dims())
            .collect();
        let d_input = dims.first().map_or(0, |d| d[0]);
        let n_classes = dims.last().map_or(0, |d| d[1]);
        let hidden = dims[..dims.len().saturating_sub(1)]
            .iter()
            .map(|d| d[1])
            .collect();
        MlpSpec::new(d_input, n_classes)
            .with_hidden(hidden)
            .with_activation(self.activation)
    }

    /// Number of input features.
    pub fn d_input(&self) -> usize {
        self.layers
            .first()
            .map_or(0, |l| l.weight.shape().dims::<2>()[0])
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.layers
            .last()
            .map_or(0, |l| l.weight.shape().dims::<2>()[1])
    }

    /// The device holding the weights.
    pub fn device(&self) -> Device {
        // Every constructor builds at least one layer (the output layer).
        self.layers[0].weight.lazy_device()
    }

    /// The weights as [`GeneratedParams`] in [`MlpSpec::param_spec`] order: the inverse of
    /// [`TargetFamily::materialize`]. Tensors keep their device and autodiff state; call
    /// [`GeneratedParams::detach`] for plain values.
    pub fn to_params(&self) -> GeneratedParams {
        let spec = self.spec().param_spec();
        let mut tensors = Vec::with_capacity(spec.len());
        for layer in &self.layers {
            let weight = layer.weight.val(); // [d_in, d_out]
            let [d_in, d_out] = weight.dims();
            tensors.push(weight.reshape([d_in * d_out]));
            tensors.push(match &layer.bias {
                Some(b) => b.val(),
                None => Tensor::zeros([d_out], &weight_device(layer)),
            });
        }
        // The tensors were built from this spec, so count and lengths agree by construction.
        GeneratedParams::from_flat(spec, tensors)
            .expect("Mlp::to_params: spec built from the model's own shapes")
    }

    /// Writes `model.safetensors` (weights, keys `layers.{i}.weight|bias`, burn layout) and
    /// `mlp.json` (the [`MlpSpec`]) into `dir`, creating it if needed.
    ///
    /// Each file is written under a temporary name in `dir`, flushed to disk and renamed over the
    /// old one, so a crash never leaves a half-written file under the final name. The weights are
    /// renamed first: a crash between the two renames can pair new weights with an old spec,
    /// which [`Mlp::load`] reports as a shape mismatch when the shapes changed.
    ///
    /// # Errors
    /// [`Error::Io`] for file-system failures, [`Error::Store`] if burn cannot serialise the
    /// tensors.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let spec = self.spec();
        save_with_spec(self, dir.as_ref(), MLP_WEIGHTS_FILE, MLP_SPEC_FILE, |tmp| {
            spec.save(tmp)
        })
    }

    /// Loads an MLP written by [`Mlp::save`] onto `device`.
    ///
    /// The spec in `mlp.json` is validated, then every tensor in `model.safetensors` is checked
    /// against it.
    ///
    /// # Errors
    /// - [`Error::MissingFile`] if either file is absent;
    /// - [`Error::Config`] if `mlp.json` is not a valid spec, [`Error::InvalidConfig`] if its
    ///   values are out of range;
    /// - [`Error::Safetensors`] if the weights file is truncated or corrupted;
    /// - [`Error::ShapeMismatch`] naming the tensor whose shape disagrees with the spec;
    /// - [`Error::MissingTensor`] / [`Error::UnexpectedTensors`] if the file's tensors are not
    ///   exactly the spec's.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Mlp> {
        let dir = dir.as_ref();
        let spec_path = dir.join(MLP_SPEC_FILE);
        let weights = dir.join(MLP_WEIGHTS_FILE);
        let spec: MlpSpec = read_spec(&spec_path, &weights, ["MLP spec", "MLP weights"])?;
        spec.validate()?;
        // Before allocating the placeholders below: the file's header (a typed error when it is
        // corrupt) bounds the parameters the file holds, at least a byte each; a (corrupted)
        // spec asking for more cannot match, and absurd widths would abort the process on
        // allocation instead of returning an error.
        let file_len = crate::bert::read_safetensors_header(&weights)?.data_len() as u64;
        let numel = spec.layer_dims().windows(2).try_fold(0u64, |n, w| {
            let (d_in, d_out) = (w[0] as u64, w[1] as u64);
            d_in.checked_mul(d_out)?.checked_add(d_out)?.checked_add(n)
        });
        if numel.is_none_or(|n| n > file_len) {
            return Err(Error::InvalidConfig {
                field: "d_input/hidden/n_classes",
                reason: format!(
                    "{} asks for layers {:?}, more parameters than the {file_len} data bytes of {} hold",
                    spec_path.display(),
                    spec.layer_dims(),
                    weights.display()
                ),
            });
        }

        // Zero-filled placeholders of the right shapes; every one is overwritten.
        load_weights(zeros_like_spec(&spec, device), &weights)
    }
}

fn weight_device(layer: &Linear) -> Device {
    layer.weight.lazy_device()
}

fn zeros_like_spec(spec: &MlpSpec, device: &Device) -> Mlp {
    let layers = spec
        .layer_dims()
        .windows(2)
        .map(|w| Linear {
            weight: Param::from_tensor(Tensor::zeros([w[0], w[1]], device)),
            bias: Some(Param::from_tensor(Tensor::zeros([w[1]], device))),
        })
        .collect();
    Mlp {
        layers,
        activation: spec.activation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_device;

    #[test]
    fn param_spec_roles_and_names() {
        let spec = MlpSpec::new(5, 3).with_hidden(vec![4, 6]).param_spec();
        let names: Vec<_> = spec.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias",
                "layers.2.weight",
                "layers.2.bias"
            ]
        );
        let roles: Vec<_> = spec.entries().iter().map(|e| e.role).collect();
        use ParamRole::*;
        assert_eq!(
            roles,
            [
                InputDependent,
                Shared,
                Shared,
                Shared,
                ClassDependent,
                ClassDependent
            ]
        );
        assert_eq!(
            spec.get("layers.1.weight").map(|e| e.shape.clone()),
            Some(vec![4, 6])
        );
    }

    #[test]
    fn logistic_regression_is_class_dependent() {
        let spec = MlpSpec::new(5, 3).with_hidden(vec![]).param_spec();
        assert_eq!(spec.len(), 2);
        assert!(
            spec.entries()
                .iter()
                .all(|e| e.role == ParamRole::ClassDependent)
        );
    }

    #[test]
    fn invalid_specs_are_rejected() {
        assert!(matches!(
            MlpSpec::new(0, 2).validate(),
            Err(Error::InvalidConfig {
                field: "d_input",
                ..
            })
        ));
        assert!(matches!(
            MlpSpec::new(3, 1).validate(),
            Err(Error::InvalidConfig {
                field: "n_classes",
                ..
            })
        ));
        assert!(matches!(
            MlpSpec::new(3, 2).with_hidden(vec![4, 0]).validate(),
            Err(Error::InvalidConfig {
                field: "hidden",
                ..
            })
        ));
    }

    #[test]
    fn spec_round_trips_through_the_model() {
        let spec = MlpSpec::new(3, 4)
            .with_hidden(vec![5])
            .with_activation(MlpActivation::Tanh);
        let model = spec.init_random(&test_device(), 1).unwrap();
        assert_eq!(model.spec(), spec);
        assert_eq!(model.d_input(), 3);
        assert_eq!(model.n_classes(), 4);
    }

    #[test]
    fn materialize_on_plain_device_is_plain() {
        let device = test_device();
        let ad = device.clone().autodiff();
        let spec = MlpSpec::new(3, 2).with_hidden(vec![4]);
        let family = MlpFamily::new(spec.clone()).unwrap();
        let params = spec.init_random(&ad, 3).unwrap().to_params();
        let model = family.materialize(params, &device).unwrap();
        assert!(!model.layers()[0].weight.val().is_autodiff());
        let model = family.materialize(model.to_params(), &ad).unwrap();
        assert!(model.layers()[0].weight.val().is_autodiff());
    }

    #[test]
    fn wrong_params_are_reported() {
        let device = test_device();
        let family = MlpFamily::new(MlpSpec::new(3, 2).with_hidden(vec![4])).unwrap();
        let other = MlpSpec::new(3, 2)
            .with_hidden(vec![5])
            .init_random(&device, 0)
            .unwrap()
            .to_params();
        let err = family
            .try_forward_with(&other, Tensor::zeros([1, 3], &device))
            .unwrap_err();
        assert!(
            matches!(err, Error::ShapeMismatch { ref what, .. } if what == "layers.0.weight"),
            "{err}"
        );
        let own = MlpSpec::new(3, 2)
            .with_hidden(vec![4])
            .init_random(&device, 0)
            .unwrap()
            .to_params();
        let err = family
            .try_forward_with(&own, Tensor::zeros([1, 4], &device))
            .unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    }
}
