//! Meta-training of the hypernetwork over many tabular tasks (paper Algorithm 1, and the
//! end-to-end alternative).
//!
//! Every task step takes one task (tasks are shuffled each epoch), draws a requirement sentence at
//! random from the task's pool (training never calls a language model), splits the task's
//! training rows at random into a "support" sample (the user's sample, whose statistics the
//! general mode reads) and disjoint "query" rows, and draws the loss minibatch from the query
//! rows. Then:
//!
//! - [`MetaRule::Delta`] (paper): `θ = H_φ(r)`; `θ'` = `θ` after `local_steps` Adam steps on the
//!   task loss, with a separate inner optimiser state per task; `∇φ = (∂θ/∂φ)ᵀ (θ − θ')`.
//! - [`MetaRule::EndToEnd`]: the task loss is backpropagated through the generated weights.
//!
//! In both cases the outer step is Adam with the gradient norm clipped (paper: 0.25), one per
//! task step by default; with [`MetaTrainConfig::tasks_per_step`] `= k` the gradients of `k`
//! task steps are summed (each loss weighted `1/k`) into one outer step, and
//! [`MetaTrainer::with_devices`] runs those `k` tasks on several devices at once (burn reduces
//! the gradients, see `docs/ARCHITECTURE.md`).
//! After each epoch the mean validation accuracy of generated models over the training tasks
//! decides the best checkpoint (epoch 0, the untrained generator, included). Checkpoints are
//! written atomically; a run resumes from its last completed epoch with the outer Adam state
//! (kept in burn's own format, which preserves the parameter ids the optimizer is keyed by); the
//! same seed gives the same result. The Delta rule's per-task inner Adam moments are checkpointed
//! too (`inner_adam.safetensors`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, MultiGradientsParams};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_targets::MlpFamily;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use modelgpt_targets::metrics::{accuracy, cross_entropy};

use super::general::MlpTensors;
use super::hypernet::{HyperMode, HyperNet, HyperNetConfig, to_params};
use super::sample::TaskSample;
use super::tasks::{PreparedTask, SplitData, TaskView};
use crate::atomic::write_atomic;
use crate::checkpoint::{WEIGHTS_FILE, load_weights};
use crate::error::{Error, Result};

/// Outer update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaRule {
    /// Paper Algorithm 1: `∇φ = (∂θ/∂φ)ᵀ (θ − θ')` after inner Adam steps (first order).
    Delta,
    /// Backpropagate the task loss through the generated weights.
    EndToEnd,
}

impl MetaRule {
    /// Short name (`delta`, `end_to_end`).
    pub fn as_str(&self) -> &'static str {
        match self {
            MetaRule::Delta => "delta",
            MetaRule::EndToEnd => "end_to_end",
        }
    }
}

/// Meta-training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaTrainConfig {
    /// Outer update rule.
    pub rule: MetaRule,
    /// Passes over the task list.
    pub epochs: usize,
    /// Minibatches per task per epoch.
    pub steps_per_task: usize,
    /// Rows per minibatch.
    pub batch_size: usize,
    /// Outer Adam learning rate.
    pub lr: f64,
    /// Gradient-norm clip of the outer step (paper: 0.25).
    pub grad_clip: f32,
    /// [`MetaRule::Delta`]: inner Adam steps per minibatch (paper: 2-10 for small data sets).
    pub local_steps: usize,
    /// [`MetaRule::Delta`]: inner Adam learning rate.
    pub inner_lr: f64,
    /// Smallest random "user sample" the statistics are computed from.
    pub sample_min_rows: usize,
    /// Largest random "user sample".
    pub sample_max_rows: usize,
    /// General mode: probability that a step trains on a random sub-task (a random subset of the
    /// features and classes, see [`TaskView`]) instead of the whole task.
    pub augment: f64,
    /// Stop after this many epochs without a better mean validation accuracy.
    pub patience: usize,
    /// Minibatches per task of the extra tasks an [`EpochTasks`] source adds to every epoch
    /// (e.g. synthetic prior tasks); ignored without a source.
    #[serde(default = "one")]
    pub extra_steps_per_task: usize,
    /// Tasks whose gradients are summed into one optimizer step (each task's loss weighted
    /// `1 / tasks_per_step`); the tasks of a step run on the devices of
    /// [`MetaTrainer::with_devices`], round robin. 1 (the default): one task per step.
    #[serde(default = "one")]
    pub tasks_per_step: usize,
    /// Seed of every random choice (task order, sentences, samples, dropout, init).
    pub seed: u64,
}

impl Default for MetaTrainConfig {
    fn default() -> Self {
        Self {
            rule: MetaRule::EndToEnd,
            epochs: 300,
            steps_per_task: 4,
            batch_size: 128,
            lr: 1e-4,
            grad_clip: 0.25,
            local_steps: 3,
            inner_lr: 1e-2,
            sample_min_rows: 48,
            sample_max_rows: 1500,
            augment: 0.5,
            patience: 40,
            extra_steps_per_task: 1,
            tasks_per_step: 1,
            seed: 42,
        }
    }
}

fn one() -> usize {
    1
}

/// A source of extra training tasks, drawn afresh for every epoch: a stream such as a synthetic
/// task prior. Model selection still reads only the validation splits of the fixed task list.
pub trait EpochTasks {
    /// The tasks of `epoch` (1-based). Must depend only on `epoch`, so that a resumed run sees
    /// the same tasks as an uninterrupted one.
    ///
    /// # Errors
    /// Whatever preparing a task can fail with.
    fn tasks(&mut self, epoch: usize) -> Result<Vec<PreparedTask>>;

    /// How many tasks [`EpochTasks::tasks`] returns per epoch (for the progress bar).
    fn per_epoch(&self) -> usize;

    /// A description of the source and its settings, stored in the checkpoint state: a run
    /// resumes only with the same source.
    fn describe(&self) -> String;
}

/// Statistics of one meta-training epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// Epoch (0 = the untrained generator, evaluated before the first step).
    pub epoch: usize,
    /// Mean task loss over the epoch's steps (0 for epoch 0, the untrained generator).
    pub mean_loss: f64,
    /// Mean validation accuracy of generated models over the training tasks.
    pub mean_valid_acc: f64,
    /// Wall time since the start of training (including resumed runs), seconds.
    pub elapsed_s: f64,
    /// Extra (e.g. synthetic prior) tasks trained on so far, this epoch included.
    #[serde(default)]
    pub extra_tasks_seen: usize,
    /// Mean validation accuracy over the monitored tasks ([`MetaTrainer::with_monitor`]), which
    /// play no part in training or model selection.
    #[serde(default)]
    pub monitor_valid_acc: Option<f64>,
}

/// What a meta-training run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaTrainReport {
    /// Per-epoch statistics.
    pub history: Vec<EpochReport>,
    /// Epoch of the best checkpoint.
    pub best_epoch: usize,
    /// Its mean validation accuracy.
    pub best_valid_acc: f64,
    /// Whether training ended early (patience).
    pub stopped_early: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    hypernet: HyperNetConfig,
    train: MetaTrainConfig,
    tasks: Vec<String>,
    #[serde(default)]
    extra: Option<String>,
    report: MetaTrainReport,
    finished: bool,
}

/// File names inside a checkpoint folder. The resumable state (`last`, `optim`, `inner`) carries
/// the epoch it was written after (`last-7.bpk`): `state.json`, written last, is the commit point
/// that names which epoch's files a resume reads, so a kill between the writes of one epoch
/// never pairs one epoch's weights with another's optimizer state. Files of other epochs are
/// removed once the state is committed.
const BEST: &str = WEIGHTS_FILE;
const STATE: &str = "state.json";
const RESUMABLE: [(&str, &str); 3] = [
    ("last", "bpk"),
    ("optimizer", "bin"),
    ("inner_adam", "safetensors"),
];

/// `{stem}-{epoch}.{ext}` in `dir`; for checkpoints written before epochs were stamped, the
/// unstamped `{stem}.{ext}` when the stamped file is absent.
fn resumable(dir: &Path, which: usize, epoch: usize) -> PathBuf {
    let (stem, ext) = RESUMABLE[which];
    let stamped = dir.join(format!("{stem}-{epoch}.{ext}"));
    let legacy = dir.join(format!("{stem}.{ext}"));
    if !stamped.exists() && legacy.exists() {
        legacy
    } else {
        stamped
    }
}

/// Removes the resumable files of epochs other than `epoch` (best effort: a leftover file only
/// costs disk space).
fn remove_stale_resumables(dir: &Path, epoch: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = RESUMABLE.iter().any(|(stem, ext)| {
            name.strip_prefix(stem)
                .and_then(|r| r.strip_prefix('-'))
                .and_then(|r| r.strip_suffix(ext))
                .and_then(|r| r.strip_suffix('.'))
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n != epoch)
        });
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Generates a task's model and returns its accuracy on `split` (no autodiff).
///
/// # Errors
/// Paper mode: unseen tasks.
pub fn evaluate_generated(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    task: &PreparedTask,
    split: &SplitData,
    req: usize,
    device: &Device,
) -> Result<f64> {
    evaluate_generated_from(hyper, config, task, &task.sample, split, req, device)
}

/// [`evaluate_generated`] from another sample of the task's rows than its meta-training one
/// (e.g. the whole training split, as a user's generation reads it).
///
/// # Errors
/// As [`evaluate_generated`].
pub fn evaluate_generated_from(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    task: &PreparedTask,
    sample: &TaskSample,
    split: &SplitData,
    req: usize,
    device: &Device,
) -> Result<f64> {
    let ctx = task.context(req, sample, device);
    let tensors = hyper.generate_tensors(&task.name, &ctx)?;
    let (family, params) = config.family_and_params(tensors)?;
    let logits = family.try_forward_with(&params, split.x_tensor(task.cols, device))?;
    Ok(accuracy(logits, &split.y)?)
}

/// Runs meta-training. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct MetaTrainer {
    hyper: HyperNetConfig,
    config: MetaTrainConfig,
    checkpoint_dir: Option<PathBuf>,
    progress: bool,
    monitor: std::sync::Arc<Vec<PreparedTask>>,
    devices: Vec<Device>,
    initial: Option<HyperNet>,
}

/// The random choices of one task step ([`MetaTrainer::draw`]).
struct StepDraw {
    /// Index of the task (fixed tasks first, then the epoch's extra ones).
    ti: usize,
    req: usize,
    view: TaskView,
    support: Vec<usize>,
    feature_seed: u64,
    /// Rows of the loss minibatch.
    rows: Vec<usize>,
}

struct InnerAdam {
    m: Vec<Tensor<1>>,
    v: Vec<Tensor<1>>,
    t: i32,
}

impl MetaTrainer {
    /// A trainer for a hypernetwork of `hyper` shape with `config` settings.
    pub fn new(hyper: HyperNetConfig, config: MetaTrainConfig) -> Self {
        Self {
            hyper,
            config,
            checkpoint_dir: None,
            progress: true,
            monitor: std::sync::Arc::new(Vec::new()),
            devices: Vec::new(),
            initial: None,
        }
    }

    /// Starts from `hypernet` (e.g. the shipped generator, to go on meta-training it, or one
    /// initialised once and copied to several backends) instead of a fresh initialisation
    /// seeded with [`MetaTrainConfig::seed`]. It must have been made from this trainer's
    /// [`HyperNetConfig`] (same mode and widths); a resumed run reads the checkpoint's weights
    /// instead.
    pub fn with_initial(mut self, hypernet: HyperNet) -> Self {
        self.initial = Some(hypernet);
        self
    }

    /// Spreads the tasks of every optimizer step over `devices`: the `j`-th task of a step
    /// ([`MetaTrainConfig::tasks_per_step`]) runs on `devices[j % devices.len()]`, on its own
    /// copy of the generator, one thread per device; burn sums the gradients on the device that
    /// holds each parameter ([`burn::optim::MultiGradientsParams`]) and one optimizer step of
    /// the model on the device given to [`MetaTrainer::train`] follows. The same seed draws the
    /// same tasks, samples and minibatches whatever the devices, so a run on several devices
    /// matches a run on one up to the backends' rounding, except for dropout: each backend draws
    /// its masks from its own generator (flex has one per process, shared by its worker
    /// threads), so with dropout a multi-device run is not bit-reproducible. Without this call
    /// (or with an empty list) every task runs on the training device.
    pub fn with_devices(mut self, devices: Vec<Device>) -> Self {
        self.devices = devices;
        self
    }

    /// Also reports, after every epoch, the mean validation accuracy of the models generated for
    /// `tasks` (e.g. held-out tasks: a learning curve). They play no part in training or in the
    /// choice of the best epoch.
    pub fn with_monitor(mut self, tasks: Vec<PreparedTask>) -> Self {
        self.monitor = std::sync::Arc::new(tasks);
        self
    }

    fn monitor_acc(&self, hyper: &HyperNet, device: &Device) -> Result<Option<f64>> {
        if self.monitor.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.mean_valid_acc(hyper, &self.monitor, device)?))
    }

    /// Writes checkpoints to `dir` and resumes from it when it holds an unfinished run of the
    /// same configuration.
    pub fn with_checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    /// Shows (or hides) the progress bar.
    pub fn with_progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    fn validate(&self, tasks: &[PreparedTask]) -> Result<()> {
        let c = &self.config;
        if tasks.is_empty() {
            return Err(Error::InvalidConfig {
                field: "tasks",
                reason: "meta-training needs at least one task".into(),
            });
        }
        if c.batch_size == 0 || c.epochs == 0 || c.steps_per_task == 0 || c.tasks_per_step == 0 {
            return Err(Error::InvalidConfig {
                field: "batch_size/epochs/steps_per_task/tasks_per_step",
                reason: "must be positive".into(),
            });
        }
        if c.lr.is_nan() || c.lr <= 0.0 || c.grad_clip.is_nan() || c.grad_clip <= 0.0 {
            return Err(Error::InvalidConfig {
                field: "lr/grad_clip",
                reason: "must be positive".into(),
            });
        }
        if let Some(h) = &self.initial
            && h.mode() != self.hyper.mode
        {
            return Err(Error::InvalidConfig {
                field: "initial",
                reason: format!(
                    "the initial hypernetwork is in {} mode, the configuration in {} mode",
                    h.mode().as_str(),
                    self.hyper.mode.as_str()
                ),
            });
        }
        if self.hyper.d_embed == 0 {
            return Err(Error::InvalidConfig {
                field: "d_embed",
                reason: "must be positive".into(),
            });
        }
        Ok(())
    }

    /// Loads a finished checkpoint, if `dir` holds one for this configuration and task list.
    ///
    /// # Errors
    /// [`Error::CheckpointMismatch`] when `dir` holds a checkpoint of another configuration.
    pub fn load_finished(
        &self,
        tasks: &[PreparedTask],
        device: &Device,
    ) -> Result<Option<(HyperNet, MetaTrainReport)>> {
        let Some(dir) = &self.checkpoint_dir else {
            return Ok(None);
        };
        let Some(state) = self.read_state(dir, tasks, None)? else {
            return Ok(None);
        };
        if !state.finished {
            return Ok(None);
        }
        let model = load_weights(self.hyper.init(device), &dir.join(BEST))?;
        Ok(Some((model, state.report)))
    }

    fn read_state(
        &self,
        dir: &Path,
        tasks: &[PreparedTask],
        extra: Option<&str>,
    ) -> Result<Option<CheckpointState>> {
        let path = dir.join(STATE);
        let Ok(bytes) = std::fs::read(&path) else {
            return Ok(None);
        };
        let state: CheckpointState =
            serde_json::from_slice(&bytes).map_err(|source| Error::Json {
                path: path.clone(),
                source,
            })?;
        let names: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
        let reason = if state.hypernet != self.hyper {
            Some("hypernetwork configuration differs")
        } else if state.train != self.config {
            Some("meta-training configuration differs")
        } else if state.tasks != names {
            Some("task list differs")
        } else if state.extra.as_deref() != extra {
            Some("extra task source differs")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::CheckpointMismatch {
                path: dir.to_path_buf(),
                reason: reason.into(),
            });
        }
        Ok(Some(state))
    }

    /// Meta-trains on `tasks` (their train splits for steps, valid splits for model selection)
    /// and returns the best hypernetwork (on `device`, without autodiff) and the report.
    ///
    /// # Errors
    /// Invalid configuration, checkpoint mismatch, I/O.
    pub fn train(
        &self,
        tasks: &[PreparedTask],
        device: &Device,
    ) -> Result<(HyperNet, MetaTrainReport)> {
        self.train_with(tasks, None, device)
    }

    /// As [`MetaTrainer::train`], with `extra` tasks added to every epoch (each trained on for
    /// [`MetaTrainConfig::extra_steps_per_task`] minibatches, shuffled in with the fixed tasks).
    ///
    /// # Errors
    /// As [`MetaTrainer::train`], and the source's errors.
    pub fn train_with(
        &self,
        tasks: &[PreparedTask],
        mut extra: Option<&mut dyn EpochTasks>,
        device: &Device,
    ) -> Result<(HyperNet, MetaTrainReport)> {
        self.validate(tasks)?;
        let extra_desc = extra.as_ref().map(|e| e.describe());
        let extra_per_epoch = extra.as_ref().map_or(0, |e| e.per_epoch());
        let c = &self.config;
        let ad = device.clone().autodiff();
        ad.seed(c.seed);
        // The devices the tasks of a step run on (the training device unless told otherwise).
        let workers: Vec<Device> = if self.devices.is_empty() {
            vec![ad.clone()]
        } else {
            self.devices.iter().map(|d| d.clone().autodiff()).collect()
        };
        let mut model = match &self.initial {
            Some(h) => h.clone().to_device(&ad).train(),
            None => self.hyper.init(&ad).train(),
        };
        let mut optim = AdamConfig::new()
            .with_grad_clipping(Some(GradientClippingConfig::Norm(c.grad_clip)))
            .init();
        let mut report = MetaTrainReport {
            history: Vec::new(),
            best_epoch: 0,
            best_valid_acc: f64::NEG_INFINITY,
            stopped_early: false,
        };
        let mut best = model.valid();
        let mut start_epoch = 1;
        let mut inner: Vec<Option<InnerAdam>> = (0..tasks.len()).map(|_| None).collect();
        let names: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();

        if let Some(dir) = &self.checkpoint_dir
            && let Some(state) = self.read_state(dir, tasks, extra_desc.as_deref())?
        {
            if state.finished {
                let model = load_weights(self.hyper.init(device), &dir.join(BEST))?;
                return Ok((model, state.report));
            }
            let done = state.report.history.last().map_or(0, |h| h.epoch);
            model = load_resumable(model, &resumable(dir, 0, done))?;
            best = load_weights(self.hyper.init(device), &dir.join(BEST))?;
            let optim_path = resumable(dir, 1, done);
            // burn-optim 0.22 panics ("should carry a parameter id") on some corrupt records
            // instead of returning its error; the panic becomes that error.
            let path = optim_path.clone();
            optim =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || optim.load(path)))
                    .unwrap_or_else(|payload| {
                        let what = payload
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| payload.downcast_ref::<&str>().copied())
                            .unwrap_or("unknown panic");
                        Err(burn::store::RecordError::Validation(format!(
                            "the optimizer state cannot be applied: {what}"
                        )))
                    })
                    .map_err(|source| Error::Record {
                        path: optim_path,
                        source,
                    })?;
            if c.rule == MetaRule::Delta {
                inner = load_inner(&resumable(dir, 2, done), tasks.len(), &ad)?;
            }
            start_epoch = done.saturating_add(1);
            report = state.report;
        }

        let per_epoch = tasks.len() * c.steps_per_task + extra_per_epoch * c.extra_steps_per_task;
        let total_steps = (c.epochs * per_epoch) as u64;
        let bar = if self.progress {
            let b = indicatif::ProgressBar::new(total_steps);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "meta-train [{elapsed_precise}] {bar:30} {pos}/{len} steps, ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_position(((start_epoch - 1) * per_epoch) as u64);
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        let t0 = Instant::now();
        let elapsed_before = report.history.last().map(|h| h.elapsed_s).unwrap_or(0.0);

        if report.history.is_empty() {
            // Epoch 0: the untrained generator (in general mode, the sample's discriminant
            // classifier) is a candidate like any other epoch.
            let valid = model.valid();
            let mean_acc = self.mean_valid_acc(&valid, tasks, device)?;
            report.history.push(EpochReport {
                epoch: 0,
                mean_loss: 0.0,
                mean_valid_acc: mean_acc,
                elapsed_s: 0.0,
                extra_tasks_seen: 0,
                monitor_valid_acc: self.monitor_acc(&valid, device)?,
            });
            report.best_valid_acc = mean_acc;
            report.best_epoch = 0;
            best = valid;
        }
        for epoch in start_epoch..=c.epochs {
            // Per-epoch seeding makes a resumed run identical to an uninterrupted one.
            let epoch_seed = c.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64);
            let mut rng = StdRng::seed_from_u64(epoch_seed);
            ad.seed(epoch_seed);
            for w in &workers {
                w.seed(epoch_seed);
            }
            let fresh = match extra.as_mut() {
                Some(source) => source.tasks(epoch)?,
                None => Vec::new(),
            };
            // Fixed tasks are `0..tasks.len()`, this epoch's extra ones follow.
            let mut order: Vec<usize> = (0..tasks.len() + fresh.len()).collect();
            order.shuffle(&mut rng);
            let mut loss_sum = 0.0;
            let mut n_steps = 0usize;
            // One entry per task step, in the shuffled task order.
            let entries: Vec<usize> = order
                .iter()
                .flat_map(|&ti| {
                    let steps = if ti >= tasks.len() {
                        c.extra_steps_per_task
                    } else {
                        c.steps_per_task
                    };
                    std::iter::repeat_n(ti, steps)
                })
                .collect();
            let task_of = |ti: usize| {
                if ti >= tasks.len() {
                    &fresh[ti - tasks.len()]
                } else {
                    &tasks[ti]
                }
            };
            for group in entries.chunks(c.tasks_per_step) {
                // Everything random about the step is drawn here, on the host, in entry order:
                // where the tasks then run changes nothing.
                let draws: Vec<StepDraw> = group
                    .iter()
                    .map(|&ti| self.draw(ti, task_of(ti), &mut rng))
                    .collect();
                if group.len() == 1 && workers.len() == 1 {
                    let draw = &draws[0];
                    let state = if draw.ti >= tasks.len() {
                        &mut None
                    } else {
                        &mut inner[draw.ti]
                    };
                    let (v, grads) =
                        self.task_gradients(&model, task_of(draw.ti), draw, state, 1, &ad)?;
                    model = optim.step(c.lr, model, grads);
                    loss_sum += v;
                } else {
                    // Each fixed task's inner state travels with its first draw of the step; a
                    // task drawn twice into one step starts its second draw afresh (and that
                    // state is dropped).
                    let mut taken = vec![false; tasks.len()];
                    let mut jobs: Vec<Vec<(usize, Option<InnerAdam>)>> =
                        (0..workers.len()).map(|_| Vec::new()).collect();
                    for (j, draw) in draws.iter().enumerate() {
                        let state = if draw.ti < tasks.len() && !taken[draw.ti] {
                            taken[draw.ti] = true;
                            inner[draw.ti].take()
                        } else {
                            None
                        };
                        jobs[j % workers.len()].push((j, state));
                    }
                    let k = group.len();
                    let (draws, task_of) = (&draws, &task_of);
                    let model_ref = &model;
                    let run = |dev: &Device, jobs: Vec<(usize, Option<InnerAdam>)>| {
                        let local = model_ref.clone().fork(dev);
                        jobs.into_iter()
                            .map(|(j, mut state)| {
                                let draw = &draws[j];
                                let task = task_of(draw.ti);
                                let out =
                                    self.task_gradients(&local, task, draw, &mut state, k, dev);
                                out.map(|(v, g)| (j, v, g, state))
                            })
                            .collect::<Result<Vec<_>>>()
                    };
                    let results: Vec<Result<Vec<_>>> = if workers.len() == 1 {
                        jobs.into_iter().map(|j| run(&workers[0], j)).collect()
                    } else {
                        std::thread::scope(|scope| {
                            let handles: Vec<_> = workers
                                .iter()
                                .zip(jobs)
                                .map(|(dev, j)| scope.spawn(move || run(dev, j)))
                                .collect();
                            handles
                                .into_iter()
                                .map(|h| {
                                    h.join().unwrap_or_else(|_| {
                                        Err(Error::InvalidInput {
                                            what: "meta-training step".into(),
                                            reason: "a device's worker thread panicked".into(),
                                        })
                                    })
                                })
                                .collect()
                        })
                    };
                    let mut multi = MultiGradientsParams::default();
                    let mut outs = Vec::with_capacity(k);
                    for (w, r) in results.into_iter().enumerate() {
                        for (j, v, g, state) in r? {
                            outs.push((j, v, state));
                            multi.grads.push((g, workers[w].clone()));
                        }
                    }
                    // Entry order, so that the loss sum is the same on any device layout.
                    outs.sort_by_key(|o| o.0);
                    for (j, v, state) in outs {
                        let ti = draws[j].ti;
                        if ti < tasks.len() && state.is_some() && inner[ti].is_none() {
                            inner[ti] = state;
                        }
                        loss_sum += v;
                    }
                    // burn updates each parameter on the device its gradients were summed on
                    // (a model sharded over the devices); the generator lives on one device,
                    // so it comes back after the step.
                    model = optim.step_multi(c.lr, model, multi).fork(&ad);
                }
                n_steps += group.len();
                bar.inc(group.len() as u64);
            }
            let valid = model.valid();
            let mean_acc = self.mean_valid_acc(&valid, tasks, device)?;
            report.history.push(EpochReport {
                epoch,
                mean_loss: loss_sum / n_steps.max(1) as f64,
                mean_valid_acc: mean_acc,
                elapsed_s: elapsed_before + t0.elapsed().as_secs_f64(),
                extra_tasks_seen: report.history.last().map_or(0, |h| h.extra_tasks_seen)
                    + fresh.len(),
                monitor_valid_acc: self.monitor_acc(&valid, device)?,
            });
            bar.set_message(format!("epoch {epoch}: valid acc {mean_acc:.3}"));
            if mean_acc > report.best_valid_acc {
                report.best_valid_acc = mean_acc;
                report.best_epoch = epoch;
                best = valid;
            }
            let stop = epoch.saturating_sub(report.best_epoch) >= c.patience;
            report.stopped_early = stop && epoch < c.epochs;
            let finished = stop || epoch == c.epochs;
            if let Some(dir) = &self.checkpoint_dir {
                // The best weights in the checkpoint layout: a finished (or interrupted) run's
                // folder loads with `HyperNet::load` / `TabularModelGptBuilder::checkpoint`.
                best.save(&self.hyper, dir, Some(&report))?;
                if !finished {
                    save_resumable(&model, &resumable(dir, 0, epoch))?;
                    if c.rule == MetaRule::Delta {
                        save_inner(&inner, &resumable(dir, 2, epoch))?;
                    }
                    let path = resumable(dir, 1, epoch);
                    modelgpt_core::replace_atomically(
                        &path,
                        |tmp| {
                            optim.save(tmp).map_err(|source| Error::Record {
                                path: path.clone(),
                                source,
                            })
                        },
                        |source| Error::Io {
                            path: path.clone(),
                            source,
                        },
                    )?;
                }
                let state = CheckpointState {
                    hypernet: self.hyper.clone(),
                    train: c.clone(),
                    tasks: names.clone(),
                    extra: extra_desc.clone(),
                    report: report.clone(),
                    finished,
                };
                let bytes = serde_json::to_vec_pretty(&state).map_err(|source| Error::Json {
                    path: dir.join(STATE),
                    source,
                })?;
                write_atomic(&dir.join(STATE), &bytes)?;
                if !finished {
                    remove_stale_resumables(dir, epoch);
                }
            }
            if finished {
                break;
            }
        }
        bar.finish_and_clear();
        Ok((best.to_device(device), report))
    }

    /// Mean validation accuracy of the models `hyper` generates for `tasks`.
    fn mean_valid_acc(
        &self,
        hyper: &HyperNet,
        tasks: &[PreparedTask],
        device: &Device,
    ) -> Result<f64> {
        let mut sum = 0.0;
        for task in tasks {
            sum += evaluate_generated(hyper, &self.hyper, task, &task.valid, 0, device)?;
        }
        Ok(sum / tasks.len() as f64)
    }

    /// Draws everything random about one task step: the requirement sentence, the (sub-)task
    /// view, the support sample, the random feature seed and the loss minibatch.
    fn draw(&self, ti: usize, task: &PreparedTask, rng: &mut StdRng) -> StepDraw {
        let c = &self.config;
        let req = rng.random_range(0..task.requirements.len());
        let augment =
            self.hyper.mode != HyperMode::Paper && rng.random_bool(c.augment.clamp(0.0, 1.0));
        let view = if augment {
            TaskView::random(task, rng)
        } else {
            TaskView::full(task)
        };
        // Episodic split: the statistics come from a "support" sample, the loss from disjoint
        // "query" rows, as at generation time (statistics from the user's training rows,
        // accuracy on new rows).
        let mut pool = view.rows(&task.train);
        pool.shuffle(rng);
        let n = pool.len();
        let hi = c.sample_max_rows.min(n - n / 4).max(1);
        let lo = c.sample_min_rows.min(hi).max(1);
        let m = rng.random_range(lo..=hi);
        let (support, query) = pool.split_at(m);
        let query = if query.is_empty() { support } else { query };
        // Kernel mode: fresh random directions every step.
        let feature_seed = rng.random();
        let rows: Vec<usize> = (0..c.batch_size.min(query.len()))
            .map(|_| query[rng.random_range(0..query.len())])
            .collect();
        StepDraw {
            ti,
            req,
            view,
            support: support.to_vec(),
            feature_seed,
            rows,
        }
    }

    /// The loss of one task step and the gradients of the generator's parameters (`model`, on
    /// `device`), each task's loss weighted `1 / k` when `k` tasks share the step.
    fn task_gradients(
        &self,
        model: &HyperNet,
        task: &PreparedTask,
        draw: &StepDraw,
        state: &mut Option<InnerAdam>,
        k: usize,
        device: &Device,
    ) -> Result<(f64, GradientsParams)> {
        let c = &self.config;
        let view = &draw.view;
        let mut ctx = view.context(task, draw.req, &draw.support, device)?;
        ctx.feature_seed = draw.feature_seed;
        let (xb, yb) = view.gather(&task.train, task.cols, &draw.rows);
        let xb = Tensor::<2>::from_data(
            TensorData::new(xb, [draw.rows.len(), view.cols.len()]),
            device,
        );
        let weight = |t: Tensor<1>| if k == 1 { t } else { t / k as f64 };
        let tensors = model.generate_tensors(&task.name, &ctx)?;
        // The widths come from the tensors (kernel mode widens with the rows).
        let family = &MlpFamily::new(self.hyper.spec_for(&tensors)?)?;
        let (loss_value, grads) = match c.rule {
            MetaRule::EndToEnd => {
                let params = to_params(family, tensors)?;
                let loss = cross_entropy(family.try_forward_with(&params, xb)?, &yb);
                let v = loss.clone().into_scalar::<f32>() as f64;
                (v, weight(loss).backward())
            }
            MetaRule::Delta => {
                if let Some(st) = state.as_mut() {
                    // The state may come from a step on another device.
                    for t in st.m.iter_mut().chain(st.v.iter_mut()) {
                        *t = t.clone().to_device(device);
                    }
                }
                let (v, delta) = self.inner_steps(family, &tensors, xb, &yb, state)?;
                let mut surrogate: Option<Tensor<1>> = None;
                for ((w, b), (dw, db)) in tensors.into_iter().zip(delta) {
                    let term = (w * dw).sum() + (b * db).sum();
                    surrogate = Some(match surrogate {
                        Some(s) => s + term,
                        None => term,
                    });
                }
                // `tensors` is never empty: an MLP has at least one layer.
                let surrogate = surrogate.ok_or_else(|| Error::InvalidInput {
                    what: "generated tensors".into(),
                    reason: "empty".into(),
                })?;
                (v, weight(surrogate).backward())
            }
        };
        Ok((loss_value, GradientsParams::from_grads(grads, model)))
    }

    /// Inner Adam steps of the Delta rule; returns the first step's loss and `θ − θ'` per tensor.
    fn inner_steps(
        &self,
        family: &MlpFamily,
        tensors: &MlpTensors,
        xb: Tensor<2>,
        yb: &[usize],
        state: &mut Option<InnerAdam>,
    ) -> Result<(f64, Vec<(Tensor<2>, Tensor<1>)>)> {
        let c = &self.config;
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
        let theta: Vec<Tensor<1>> = tensors
            .iter()
            .flat_map(|(w, b)| {
                let n = w.dims()[0] * w.dims()[1];
                [w.clone().detach().reshape([n]), b.clone().detach()]
            })
            .collect();
        let fresh = || InnerAdam {
            m: theta.iter().map(|t| t.zeros_like()).collect(),
            v: theta.iter().map(|t| t.zeros_like()).collect(),
            t: 0,
        };
        let st = state.get_or_insert_with(fresh);
        // A state of another shape (another task layout, or a corrupt file: `m` and `v` are
        // read separately) starts afresh.
        let fits = |moments: &[Tensor<1>]| {
            moments.len() == theta.len()
                && moments
                    .iter()
                    .zip(&theta)
                    .all(|(m, t)| m.dims() == t.dims())
        };
        if !fits(&st.m) || !fits(&st.v) {
            *st = fresh();
        }
        let mut current = theta.clone();
        let mut first_loss = 0.0;
        for step in 0..c.local_steps.max(1) {
            let leaves: Vec<Tensor<1>> = current
                .iter()
                .map(|t| t.clone().detach().require_grad())
                .collect();
            let params =
                modelgpt_core::GeneratedParams::from_flat(family_spec(family), leaves.clone())?;
            let loss = cross_entropy(family.try_forward_with(&params, xb.clone())?, yb);
            if step == 0 {
                first_loss = loss.clone().into_scalar::<f32>() as f64;
            }
            let grads = loss.backward();
            st.t = st.t.saturating_add(1);
            let bc1 = 1.0 - b1.powi(st.t);
            let bc2 = 1.0 - b2.powi(st.t);
            for (i, leaf) in leaves.iter().enumerate() {
                let Some(g) = leaf.grad(&grads) else { continue };
                let g = g.detach();
                st.m[i] = st.m[i].clone() * b1 + g.clone() * (1.0 - b1);
                st.v[i] = st.v[i].clone() * b2 + g.powf_scalar(2.0) * (1.0 - b2);
                let update = (st.m[i].clone() / bc1) / ((st.v[i].clone() / bc2).sqrt() + eps);
                current[i] = current[i].clone() - update * c.inner_lr;
            }
        }
        let mut delta = Vec::with_capacity(tensors.len());
        for (li, (w, _)) in tensors.iter().enumerate() {
            let [a, b] = w.dims();
            let dw = (theta[2 * li].clone() - current[2 * li].clone()).reshape([a, b]);
            let db = theta[2 * li + 1].clone() - current[2 * li + 1].clone();
            delta.push((dw, db));
        }
        Ok((first_loss, delta))
    }
}

fn family_spec(family: &MlpFamily) -> modelgpt_core::ParamSpec {
    use modelgpt_core::TargetFamily;
    family.spec().clone()
}

/// Saves the module for resuming, in burn's own format, which keeps the parameter ids the
/// optimizer state is keyed by (safetensors does not). Written to a temporary file, then renamed.
fn save_resumable<M: Module>(module: &M, path: &Path) -> Result<()> {
    modelgpt_core::replace_atomically(
        path,
        |tmp| {
            let mut store = BurnpackStore::from_file(tmp)
                .auto_extension(false)
                .overwrite(true);
            module.save_into(&mut store).map_err(|source| Error::Pack {
                path: path.to_path_buf(),
                source,
            })
        },
        |source| Error::Io {
            path: path.to_path_buf(),
            source,
        },
    )
}

/// Loads a module saved by [`save_resumable`], parameter ids included.
fn load_resumable<M: Module>(mut module: M, path: &Path) -> Result<M> {
    let mut store = BurnpackStore::from_file(path).auto_extension(false);
    module.load_from(&mut store).map_err(|source| Error::Pack {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(module)
}

/// Saves the Delta rule's per-task inner Adam states (moments as `f32` tensors named
/// `{task}.m.{i}` / `{task}.v.{i}`, step counts in the metadata), atomically.
fn save_inner(inner: &[Option<InnerAdam>], path: &Path) -> Result<()> {
    let bad = |source| Error::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let mut named: Vec<(String, Vec<u8>, usize)> = Vec::new();
    let mut steps = std::collections::HashMap::new();
    for (ti, state) in inner.iter().enumerate() {
        let Some(st) = state else { continue };
        steps.insert(format!("t.{ti}"), st.t.to_string());
        for (kind, list) in [("m", &st.m), ("v", &st.v)] {
            for (i, t) in list.iter().enumerate() {
                let values: Vec<f32> = t
                    .clone()
                    .try_into_data()?
                    .convert::<f32>()
                    .try_into_vec::<f32>()?;
                let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                named.push((format!("{ti}.{kind}.{i}"), bytes, values.len()));
            }
        }
    }
    let views = named
        .iter()
        .map(|(name, bytes, n)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![*n], bytes)
                .map(|v| (name.clone(), v))
                .map_err(bad)
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, Some(steps)).map_err(bad)?;
    write_atomic(path, &bytes)
}

/// Loads what [`save_inner`] wrote; a missing file means no state yet.
fn load_inner(path: &Path, n_tasks: usize, device: &Device) -> Result<Vec<Option<InnerAdam>>> {
    let mut inner: Vec<Option<InnerAdam>> = (0..n_tasks).map(|_| None).collect();
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(inner);
    };
    let unreadable = |source| Error::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(unreadable)?;
    let tensors = safetensors::SafeTensors::deserialize(&bytes).map_err(unreadable)?;
    let steps = meta.metadata().clone().unwrap_or_default();
    for (ti, slot) in inner.iter_mut().enumerate() {
        let Some(t) = steps.get(&format!("t.{ti}")) else {
            continue;
        };
        let t: i32 = t.parse().map_err(|_| Error::CheckpointMismatch {
            path: path.to_path_buf(),
            reason: format!("inner optimizer state: bad step count `{t}`"),
        })?;
        let read = |kind: &str| -> Result<Vec<Tensor<1>>> {
            let mut out = Vec::new();
            while let Ok(view) = tensors.tensor(&format!("{ti}.{kind}.{}", out.len())) {
                let values: Vec<f32> = view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                let n = values.len();
                out.push(Tensor::from_data(TensorData::new(values, [n]), device));
            }
            Ok(out)
        };
        *slot = Some(InnerAdam {
            m: read("m")?,
            v: read("v")?,
            t,
        });
    }
    Ok(inner)
}
