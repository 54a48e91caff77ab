//! Ordinary per-task training of an [`Mlp`] or a [`Cnn`]: the baseline ModelGPT is measured against
//! (paper §3.1: "per-task training of the same target with Adam") and the finetuning step of
//! ModelGPT-F (generate, then finetune).
//!
//! The loop is burn's custom-training-loop pattern: the model trains on
//! `device.clone().autodiff()`, is evaluated through [`Module::valid`] after every epoch, and the
//! best model on validation accuracy is kept (early stopping with a patience).
//!
//! Data come in as [`LabeledRows`], a borrowed row-major view (`&[f32]` + labels), so callers can
//! pass any matrix type without copying. Each batch becomes one tensor built from a slice through
//! [`TensorData`]; each evaluation is one forward pass over the whole split.

use std::time::Instant;

use burn::config::Config;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};

use crate::metrics::{accuracy, argmax_rows, cross_entropy};
use modelgpt_core::data::Matrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::cnn::{Cnn, CnnSpec};
use crate::error::{Error, Result};
use crate::mlp::{Mlp, MlpSpec};

/// Hyper-parameters of [`train_classifier`].
///
/// The defaults suit the small tabular MLPs of paper §3.1 on standardised features.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// Adam learning rate.
    #[config(default = 5e-3)]
    pub lr: f64,
    /// Upper bound on the number of passes over the training rows.
    #[config(default = 100)]
    pub max_epochs: usize,
    /// Rows per optimiser step (the last batch of an epoch may be smaller).
    #[config(default = 64)]
    pub batch_size: usize,
    /// Stop after this many epochs without a strictly better validation accuracy; 0 disables
    /// early stopping.
    #[config(default = 10)]
    pub patience: usize,
    /// L2 penalty added to the gradients by Adam (0 disables it).
    #[config(default = 0.0)]
    pub weight_decay: f32,
    /// Seed of the row shuffling (and of the initialisation when none is given).
    #[config(default = 42)]
    pub seed: u64,
}

impl TrainConfig {
    /// Checks that every value is usable.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the offending field.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::InvalidConfig {
                field: "lr",
                reason: format!(
                    "the learning rate must be positive and finite, got {}",
                    self.lr
                ),
            });
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidConfig {
                field: "batch_size",
                reason: "the batch size must be at least 1".into(),
            });
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::InvalidConfig {
                field: "weight_decay",
                reason: format!(
                    "the weight decay must be >= 0 and finite, got {}",
                    self.weight_decay
                ),
            });
        }
        Ok(())
    }
}

/// A borrowed, validated view of labelled tabular rows: a row-major feature matrix and one class
/// index per row.
///
/// # Shapes
/// - `x`: `rows * n_features` values, row-major (`[rows, n_features]`)
/// - `y`: `rows` class indices
#[derive(Debug, Clone, Copy)]
pub struct LabeledRows<'a> {
    x: &'a [f32],
    y: &'a [usize],
    n_features: usize,
}

impl<'a> LabeledRows<'a> {
    /// Pairs a row-major feature matrix with its labels.
    ///
    /// # Errors
    /// - [`Error::InvalidConfig`] if `n_features` is 0;
    /// - [`Error::ShapeMismatch`] if `x.len() != y.len() * n_features`;
    /// - [`Error::InvalidData`] if a feature is NaN or infinite (impute and scale first).
    pub fn new(x: &'a [f32], n_features: usize, y: &'a [usize]) -> Result<Self> {
        if n_features == 0 {
            return Err(Error::InvalidConfig {
                field: "n_features",
                reason: "rows need at least one feature".into(),
            });
        }
        if x.len() != y.len() * n_features {
            return Err(Error::ShapeMismatch {
                what: "feature matrix (rows taken from the label count)".into(),
                expected: vec![y.len(), n_features],
                actual: vec![x.len() / n_features, x.len() % n_features],
            });
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData {
                what: "feature matrix",
                reason: format!(
                    "value at row {}, column {} is {} (impute missing values first)",
                    i / n_features,
                    i % n_features,
                    x[i]
                ),
            });
        }
        Ok(Self { x, y, n_features })
    }

    /// Pairs a [`Matrix`] (e.g. the output of
    /// [`TabularPreprocessor`](modelgpt_core::data::TabularPreprocessor)) with its labels.
    ///
    /// # Errors
    /// As [`LabeledRows::new`]; [`Error::ShapeMismatch`] if `x.rows != y.len()`.
    pub fn from_matrix(x: &'a Matrix, y: &'a [usize]) -> Result<Self> {
        if x.rows != y.len() {
            return Err(Error::ShapeMismatch {
                what: "labels (one per matrix row)".into(),
                expected: vec![x.rows],
                actual: vec![y.len()],
            });
        }
        Self::new(&x.data, x.cols, y)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Number of features per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The features, row-major.
    pub fn x(&self) -> &'a [f32] {
        self.x
    }

    /// The labels.
    pub fn y(&self) -> &'a [usize] {
        self.y
    }

    /// The whole feature matrix as one tensor.
    ///
    /// # Shapes
    /// output: `[rows, n_features]`
    pub fn features_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.x.to_vec(), [self.rows(), self.n_features]),
            device,
        )
    }

    fn check_labels(&self, what: &'static str, n_classes: usize) -> Result<()> {
        match self.y.iter().position(|&c| c >= n_classes) {
            Some(row) => Err(Error::LabelOutOfRange {
                what,
                row,
                label: self.y[row],
                n_classes,
            }),
            None => Ok(()),
        }
    }
}

/// What happened in one epoch of [`train_classifier`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number; epoch 0 is the initial model, before any step.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's training rows (for epoch 0: of the initial model).
    pub train_loss: f32,
    /// Accuracy on the validation rows after the epoch.
    pub valid_acc: f32,
    /// Wall time since training started, including every evaluation so far, in milliseconds.
    pub elapsed_ms: f64,
}

/// Result of [`train_classifier`] (an [`Mlp`]) or [`train_cnn`] (a [`Cnn`]).
#[derive(Debug, Clone)]
pub struct TrainOutcome<M = Mlp> {
    /// The model of the best epoch on validation accuracy (the earliest one on ties), as a
    /// validation snapshot without autodiff; call [`Module::train`] to train it further.
    pub model: M,
    /// One entry per epoch, starting with epoch 0 (the initial model).
    pub history: Vec<EpochStats>,
    /// Validation accuracy of [`model`](Self::model).
    pub best_valid_acc: f32,
    /// Epoch of [`model`](Self::model) (0 if no epoch improved on the initial model).
    pub best_epoch: usize,
}

/// Trains an MLP classifier with Adam on cross-entropy, keeping the best model on validation
/// accuracy and stopping early after [`TrainConfig::patience`] epochs without improvement.
///
/// # Arguments
/// - `spec`: the network's shape;
/// - `init`: the starting weights, e.g. a generated model ([`TargetFamily::materialize`]) for
///   ModelGPT-F; `None` draws them with [`MlpSpec::init_random`] from `config.seed`;
/// - `train`, `valid`: the rows to fit and the rows that pick the best epoch;
/// - `progress`: called after every epoch (epoch 0 included).
///
/// Rows are reshuffled every epoch from `StdRng::seed_from_u64(config.seed)`, so the same
/// inputs and seed give the same history on a deterministic backend.
///
/// # Errors
/// - [`Error::InvalidConfig`] for an invalid `spec` or `config`, or an empty split;
/// - [`Error::ShapeMismatch`] if `init` does not have `spec`'s shape or a split does not have
///   `spec.d_input` features;
/// - [`Error::LabelOutOfRange`] for a label `>= spec.n_classes`.
///
/// [`TargetFamily::materialize`]: modelgpt_core::TargetFamily::materialize
pub fn train_classifier(
    spec: &MlpSpec,
    init: Option<Mlp>,
    train: LabeledRows<'_>,
    valid: LabeledRows<'_>,
    config: &TrainConfig,
    device: &Device,
    progress: Option<&mut dyn FnMut(EpochStats)>,
) -> Result<TrainOutcome> {
    spec.validate()?;
    config.validate()?;
    check_splits(&train, &valid, spec.d_input, spec.n_classes)?;
    let init = match init {
        Some(model) => {
            let found = model.spec();
            if found.layer_dims() != spec.layer_dims() {
                return Err(Error::ShapeMismatch {
                    what: "initial MLP (layer widths)".into(),
                    expected: spec.layer_dims(),
                    actual: found.layer_dims(),
                });
            }
            model
        }
        None => spec.init_random(device, config.seed)?,
    };

    fit(init, Mlp::forward, train, valid, config, device, progress)
}

/// Trains a [`Cnn`] classifier exactly as [`train_classifier`] trains an MLP (Adam on
/// cross-entropy, best validation epoch kept, early stopping). Images come as rows of
/// [`CnnSpec::input_len`] values (channel, row, column order).
///
/// # Errors
/// - [`Error::InvalidConfig`] for an invalid `spec` or `config`, or an empty split;
/// - [`Error::ShapeMismatch`] if `init` does not have `spec`'s parameter shapes or a split's
///   rows are not `spec.input_len()` long;
/// - [`Error::LabelOutOfRange`] for a label `>= spec.n_classes`.
pub fn train_cnn(
    spec: &CnnSpec,
    init: Option<Cnn>,
    train: LabeledRows<'_>,
    valid: LabeledRows<'_>,
    config: &TrainConfig,
    device: &Device,
    progress: Option<&mut dyn FnMut(EpochStats)>,
) -> Result<TrainOutcome<Cnn>> {
    spec.validate()?;
    config.validate()?;
    check_splits(&train, &valid, spec.input_len(), spec.n_classes)?;
    let init = match init {
        Some(model) => {
            let (ours, theirs) = (spec.param_spec(), model.spec().param_spec());
            let shapes = |p: &modelgpt_core::ParamSpec| -> Vec<Vec<usize>> {
                p.entries().iter().map(|e| e.shape.clone()).collect()
            };
            if shapes(&ours) != shapes(&theirs) {
                return Err(Error::ShapeMismatch {
                    what: "initial CNN (parameter count)".into(),
                    expected: vec![ours.numel()],
                    actual: vec![theirs.numel()],
                });
            }
            model
        }
        None => spec.init_random(device, config.seed)?,
    };
    fit(
        init,
        Cnn::forward_rows,
        train,
        valid,
        config,
        device,
        progress,
    )
}

/// Rows per forward pass when a whole split is evaluated (bounds the activations' memory).
const EVAL_CHUNK_ROWS: usize = 1024;

fn check_splits(
    train: &LabeledRows<'_>,
    valid: &LabeledRows<'_>,
    n_features: usize,
    n_classes: usize,
) -> Result<()> {
    for (what, split) in [("training rows", train), ("validation rows", valid)] {
        if split.rows() == 0 {
            return Err(Error::InvalidData {
                what,
                reason: "no rows".into(),
            });
        }
        if split.n_features() != n_features {
            return Err(Error::ShapeMismatch {
                what: format!("{what} (features per row)"),
                expected: vec![n_features],
                actual: vec![split.n_features()],
            });
        }
        split.check_labels(what, n_classes)?;
    }
    Ok(())
}

/// Logits of every row of `rows`, `EVAL_CHUNK_ROWS` rows per forward pass, on `device`.
fn logits_in_chunks<M>(
    model: &M,
    forward: fn(&M, Tensor<2>) -> Tensor<2>,
    rows: &LabeledRows<'_>,
    device: &Device,
) -> Tensor<2> {
    let d = rows.n_features();
    let parts: Vec<Tensor<2>> = rows
        .x()
        .chunks(EVAL_CHUNK_ROWS * d)
        .map(|chunk| {
            let n = chunk.len() / d;
            forward(
                model,
                Tensor::from_data(TensorData::new(chunk.to_vec(), [n, d]), device),
            )
        })
        .collect();
    Tensor::cat(parts, 0)
}

/// The training loop shared by [`train_classifier`] and [`train_cnn`]: `forward` maps a batch
/// of feature rows to logits.
fn fit<M: Module>(
    init: M,
    forward: fn(&M, Tensor<2>) -> Tensor<2>,
    train: LabeledRows<'_>,
    valid: LabeledRows<'_>,
    config: &TrainConfig,
    device: &Device,
    mut progress: Option<&mut dyn FnMut(EpochStats)>,
) -> Result<TrainOutcome<M>> {
    let start = Instant::now();
    let plain = device.clone().without_autodiff();
    let autodiff = device.clone().autodiff();
    let (n_rows, n_features) = (train.rows(), train.n_features());

    let evaluate = |model: &M| -> Result<f32> {
        let logits = logits_in_chunks(&model.valid(), forward, &valid, &plain);
        Ok(accuracy(logits, valid.y())? as f32)
    };

    let mut model = init.to_device(device).train();
    let mut optim = AdamConfig::new()
        .with_weight_decay(
            (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay)),
        )
        .init();

    // Epoch 0: the starting point, so that a good initialisation (ModelGPT-F) counts at time 0.
    let acc0 = evaluate(&model)?;
    let loss0 = {
        let logits = logits_in_chunks(&model.valid(), forward, &train, &plain); // [n_train, K]
        cross_entropy(logits, train.y()).into_scalar::<f32>()
    };
    let mut history = Vec::with_capacity(config.max_epochs + 1);
    let mut best = (model.valid(), acc0, 0usize);
    record(
        &mut history,
        &mut progress,
        EpochStats {
            epoch: 0,
            train_loss: loss0,
            valid_acc: acc0,
            elapsed_ms: ms_since(start),
        },
    );

    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..n_rows).collect();
    let mut xb: Vec<f32> = Vec::with_capacity(config.batch_size * n_features);
    let mut yb: Vec<usize> = Vec::with_capacity(config.batch_size);

    for epoch in 1..=config.max_epochs {
        order.shuffle(&mut rng);
        let mut loss_sum = Tensor::<1>::zeros([1], &plain);
        for batch in order.chunks(config.batch_size) {
            xb.clear();
            yb.clear();
            for &row in batch {
                xb.extend_from_slice(&train.x()[row * n_features..(row + 1) * n_features]);
                yb.push(train.y()[row]);
            }
            let b = batch.len();
            let x = Tensor::<2>::from_data(TensorData::new(xb.clone(), [b, n_features]), &autodiff);
            let loss = cross_entropy(forward(&model, x), &yb); // [1]
            loss_sum = loss_sum
                + loss
                    .clone()
                    .detach()
                    .without_autodiff()
                    .mul_scalar(b as f32);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.lr, model, grads);
        }
        let train_loss = loss_sum.into_scalar::<f32>() / n_rows as f32;
        let acc = evaluate(&model)?;
        if acc > best.1 {
            best = (model.valid(), acc, epoch);
        }
        record(
            &mut history,
            &mut progress,
            EpochStats {
                epoch,
                train_loss,
                valid_acc: acc,
                elapsed_ms: ms_since(start),
            },
        );
        if config.patience > 0 && epoch - best.2 >= config.patience {
            break;
        }
    }

    let (model, best_valid_acc, best_epoch) = best;
    Ok(TrainOutcome {
        model,
        history,
        best_valid_acc,
        best_epoch,
    })
}

/// Multinomial logistic regression: an MLP without hidden layer, trained exactly like
/// [`train_classifier`] (a baseline of the evaluation, with [`majority_accuracy`]).
///
/// # Errors
/// As [`train_classifier`]; [`Error::InvalidConfig`] if `n_classes < 2`.
pub fn logistic_regression(
    n_classes: usize,
    train: LabeledRows<'_>,
    valid: LabeledRows<'_>,
    config: &TrainConfig,
    device: &Device,
    progress: Option<&mut dyn FnMut(EpochStats)>,
) -> Result<TrainOutcome> {
    let spec = MlpSpec::new(train.n_features(), n_classes).with_hidden(Vec::new());
    train_classifier(&spec, None, train, valid, config, device, progress)
}

/// Wall time of the first epoch whose validation accuracy reaches `target_acc`, in milliseconds
/// (`None` if none does). Epoch 0 (the initial model) counts.
///
/// This is the "time to reach the generated model's accuracy" of the speedup comparison.
pub fn time_to_reach(history: &[EpochStats], target_acc: f32) -> Option<f64> {
    history
        .iter()
        .find(|s| s.valid_acc >= target_acc)
        .map(|s| s.elapsed_ms)
}

/// Predicted class of every row, in one forward pass on the model's device.
///
/// # Shapes
/// `x`: `rows * model.d_input()` values, row-major.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `x.len()` is not a multiple of `model.d_input()`;
/// [`Error::InvalidData`] for NaN or infinite features.
pub fn predict(model: &Mlp, x: &[f32]) -> Result<Vec<usize>> {
    let d = model.d_input();
    if d == 0 || !x.len().is_multiple_of(d) {
        return Err(Error::ShapeMismatch {
            what: "feature matrix for prediction".into(),
            expected: vec![x.len() / d.max(1), d],
            actual: vec![x.len()],
        });
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidData {
            what: "feature matrix for prediction",
            reason: format!("value at row {}, column {} is {}", i / d, i % d, x[i]),
        });
    }
    let rows = x.len() / d;
    if rows == 0 {
        return Ok(Vec::new());
    }
    let device = model.device().without_autodiff();
    let input = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [rows, d]), &device);
    argmax_rows(model.valid().forward(input))
}

/// Accuracy of always predicting the most frequent class of `y_train` (the smallest index on
/// ties) on `y_test`; 0 when `y_test` is empty.
pub fn majority_accuracy(y_train: &[usize], y_test: &[usize]) -> f32 {
    let n = y_train.iter().max().map_or(0, |&m| m + 1);
    let mut counts = vec![0usize; n];
    for &c in y_train {
        counts[c] += 1;
    }
    // max_by_key keeps the last maximum; iterate backwards so the smallest index wins.
    let Some((majority, _)) = counts.iter().enumerate().rev().max_by_key(|&(_, &c)| c) else {
        return 0.0;
    };
    if y_test.is_empty() {
        return 0.0;
    }
    y_test.iter().filter(|&&c| c == majority).count() as f32 / y_test.len() as f32
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn record(
    history: &mut Vec<EpochStats>,
    progress: &mut Option<&mut dyn FnMut(EpochStats)>,
    stats: EpochStats,
) {
    history.push(stats);
    if let Some(callback) = progress.as_deref_mut() {
        callback(stats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_breaks_ties_towards_the_smallest_class() {
        assert_eq!(majority_accuracy(&[0, 1, 1, 0, 2], &[0, 0, 1, 2]), 0.5);
        assert_eq!(majority_accuracy(&[2, 2, 1], &[2, 1]), 0.5);
        assert_eq!(majority_accuracy(&[], &[1]), 0.0);
        assert_eq!(majority_accuracy(&[1], &[]), 0.0);
    }

    #[test]
    fn time_to_reach_picks_the_first_epoch() {
        let h: Vec<_> = [0.2, 0.6, 0.9, 0.95]
            .iter()
            .enumerate()
            .map(|(i, &a)| EpochStats {
                epoch: i,
                train_loss: 1.0,
                valid_acc: a,
                elapsed_ms: 10.0 * i as f64,
            })
            .collect();
        assert_eq!(time_to_reach(&h, 0.9), Some(20.0));
        assert_eq!(time_to_reach(&h, 0.1), Some(0.0));
        assert_eq!(time_to_reach(&h, 0.99), None);
    }

    #[test]
    fn labeled_rows_validate_their_input() {
        assert!(matches!(
            LabeledRows::new(&[1.0; 5], 2, &[0, 1]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            LabeledRows::new(&[1.0, f32::NAN], 2, &[0]),
            Err(Error::InvalidData { .. })
        ));
        assert!(matches!(
            LabeledRows::new(&[], 0, &[]),
            Err(Error::InvalidConfig { .. })
        ));
        assert_eq!(
            LabeledRows::new(&[1.0; 6], 3, &[0, 1])
                .map(|r| r.rows())
                .ok(),
            Some(2)
        );
        let m = Matrix::new(2, 3, vec![0.5; 6]).unwrap();
        assert_eq!(
            LabeledRows::from_matrix(&m, &[1, 0])
                .map(|r| r.n_features())
                .ok(),
            Some(3)
        );
        assert!(matches!(
            LabeledRows::from_matrix(&m, &[1]),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}
