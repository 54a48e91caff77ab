//! Architecture choice: which member of the MLP family ([`MlpSpace`]) the kernel generator
//! writes for a task.
//!
//! ```text
//! sample ─► TaskMeta (rows, features, classes, balance, binary share, η², in-sample accuracy
//!           of the sample's linear discriminant)
//! r ─► Linear ─► r'                         (8 numbers of the requirement)
//! for every candidate a:  [TaskMeta, desc(a), r'] ─► MLP ─► score s_a     (one batched pass)
//! constraints (max_params, a fixed member) and the generation-cost cap filter the candidates;
//! chosen = the smallest member whose score is within `tolerance` of the best
//! ```
//!
//! `desc(a)` describes the candidate relative to the task: its depth, log width, log
//! parameter count, parameters per sample row and width per feature. The scores are trained
//! ([`train_selector`]) on measured outcomes: for many training tasks (synthetic prior tasks and
//! the catalog's seen tasks at several sample sizes) the validation accuracy of the model the
//! generator writes for every candidate. The loss is a weighted pairwise ranking loss (as in
//! zero-shot AutoML, Öztürk et al. 2022) plus a regression of the scores onto the accuracies
//! centred per task, so that scores are in accuracy units and `tolerance` is a number of
//! accuracy points the user may trade for a smaller model.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{leaky_relu, softplus};
use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_targets::{MlpArchitecture, MlpSpace};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::sample::{N_FEATURE_STATS, TaskSample};
use crate::error::{Error, Result};
use crate::trunk::SLOPE;

/// Number of task meta-features ([`TaskMeta::values`]).
pub const N_TASK_META: usize = 12;
/// Number of numbers describing a candidate relative to a task.
pub const N_CANDIDATE_DESC: usize = 8;
/// Width of the requirement's projection.
const D_REQ: usize = 8;

/// What the selector reads of a task's sample: [`N_TASK_META`] numbers.
///
/// `ln n / 8`, `ln d / 5`, `ln K / 3`, the class entropy over `ln K`, `K` × the smallest class
/// share, `ln(n / d) / 5`, `ln(n / K) / 8`, the share of binary features, the mean and largest
/// per-feature η² (between-class share of the variance), the in-sample accuracy of the sample's
/// shrunk linear discriminant and that accuracy minus the majority share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskMeta {
    /// Sample rows.
    pub n_rows: usize,
    /// Features (after preprocessing).
    pub n_features: usize,
    /// Classes.
    pub n_classes: usize,
    /// The meta-features.
    pub values: Vec<f32>,
}

impl TaskMeta {
    /// The meta-features of `sample` (its rows, statistics and linear discriminant).
    pub fn from_sample(sample: &TaskSample) -> Self {
        let n = sample.rows_y.len().max(1);
        let d = sample.n_features.max(1);
        let k = sample.n_classes.max(1);
        let mut counts = vec![0usize; k];
        for &c in &sample.rows_y {
            if c < k {
                counts[c] += 1;
            }
        }
        let shares: Vec<f64> = counts.iter().map(|&c| c as f64 / n as f64).collect();
        let entropy: f64 = shares
            .iter()
            .filter(|&&s| s > 0.0)
            .map(|s| -s * s.ln())
            .sum();
        let min_share = shares.iter().copied().fold(1.0, f64::min);
        let majority = shares.iter().copied().fold(0.0, f64::max);
        let fs = &sample.feature_stats;
        let eta2 = |j: usize| f64::from(fs.get(j * N_FEATURE_STATS + 3).copied().unwrap_or(0.0));
        let binary = (0..d)
            .filter(|&j| fs.get(j * N_FEATURE_STATS).copied().unwrap_or(0.0) > 0.5)
            .count() as f64
            / d as f64;
        let mean_eta2 = (0..d).map(eta2).sum::<f64>() / d as f64;
        let max_eta2 = (0..d).map(eta2).fold(0.0, f64::max);
        // In-sample accuracy of the sample's linear discriminant.
        let mut hits = 0usize;
        for (r, &y) in sample.rows_y.iter().enumerate() {
            let x = &sample.rows_x[r * d..(r + 1) * d];
            let mut best = (f32::NEG_INFINITY, 0usize);
            for c in 0..k {
                let w = &sample.class_dirs[c * d..(c + 1) * d];
                let s = w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>() + sample.class_offsets[c];
                if s > best.0 {
                    best = (s, c);
                }
            }
            hits += usize::from(best.1 == y);
        }
        let lda_acc = hits as f64 / n as f64;
        let ln = |v: f64| v.max(1e-12).ln();
        let values = [
            ln(n as f64) / 8.0,
            ln(d as f64) / 5.0,
            ln(k as f64) / 3.0,
            if k > 1 { entropy / ln(k as f64) } else { 0.0 },
            min_share * k as f64,
            ln(n as f64 / d as f64) / 5.0,
            ln(n as f64 / k as f64) / 8.0,
            binary,
            mean_eta2,
            max_eta2,
            lda_acc,
            lda_acc - majority,
        ]
        .map(|v| v as f32)
        .to_vec();
        Self {
            n_rows: n,
            n_features: d,
            n_classes: k,
            values,
        }
    }

    /// How candidate `arch` relates to this task ([`N_CANDIDATE_DESC`] numbers): depth one-hot
    /// (0, 1, 2, ≥ 3), `ln(width + 1) / 7`, `ln(params) / 12`, `ln(params / n) / 5` and
    /// `ln(width / d) / 4` (0 for the linear member).
    pub fn describe(&self, arch: &MlpArchitecture) -> [f32; N_CANDIDATE_DESC] {
        let params = arch.n_params(self.n_features, self.n_classes).max(1) as f64;
        let mut out = [0f32; N_CANDIDATE_DESC];
        out[arch.depth.min(3)] = 1.0;
        out[4] = ((arch.width as f64 + 1.0).ln() / 7.0) as f32;
        out[5] = (params.ln() / 12.0) as f32;
        out[6] = ((params / self.n_rows.max(1) as f64).ln() / 5.0) as f32;
        out[7] = if arch.depth == 0 {
            0.0
        } else {
            ((arch.width as f64 / self.n_features.max(1) as f64).ln() / 4.0) as f32
        };
        out
    }
}

/// Configuration of an [`ArchSelector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchSelectorConfig {
    /// Width of the requirement embeddings (384 for MiniLM).
    pub d_embed: usize,
    /// Width of the scorer's hidden layers.
    pub d_hidden: usize,
    /// The candidates.
    pub space: MlpSpace,
    /// Accuracy (as a fraction) the selector gives up for a smaller member: it picks the member
    /// with the fewest parameters among those scored within `tolerance` of the best.
    pub tolerance: f32,
    /// Most generation cost a chosen member may have, as a multiple of the default member's
    /// ([`generation_cost`]): with `Some(r)` the selector only considers members the generator
    /// writes within `r` times the default's time; `None` (the default) considers them all.
    #[serde(default)]
    pub max_cost_ratio: Option<f32>,
}

impl ArchSelectorConfig {
    /// Defaults: 64 hidden units, the default [`MlpSpace`], tolerance 0.002 (0.2 points), no
    /// cap on the generation cost.
    pub fn new(d_embed: usize) -> Self {
        Self {
            d_embed,
            d_hidden: 64,
            space: MlpSpace::default(),
            tolerance: 0.002,
            max_cost_ratio: None,
        }
    }

    /// Checks widths, the space and the tolerance.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.d_embed == 0 || self.d_hidden == 0 {
            return Err(Error::InvalidConfig {
                field: "d_embed/d_hidden",
                reason: "widths must be positive".into(),
            });
        }
        if !(0.0..=1.0).contains(&self.tolerance) {
            return Err(Error::InvalidConfig {
                field: "tolerance",
                reason: format!("must be in [0, 1], got {}", self.tolerance),
            });
        }
        if let Some(r) = self.max_cost_ratio
            && !(r >= 1.0 && r.is_finite())
        {
            return Err(Error::InvalidConfig {
                field: "max_cost_ratio",
                reason: format!(
                    "must be finite and at least 1 (the default member is always allowed), \
                     got {r}"
                ),
            });
        }
        self.space.validate()?;
        Ok(())
    }

    /// Initialises the selector.
    pub fn init(&self, device: &Device) -> ArchSelector {
        let h = self.d_hidden;
        ArchSelector {
            req: LinearConfig::new(self.d_embed, D_REQ).init(device),
            l1: LinearConfig::new(N_TASK_META + N_CANDIDATE_DESC + D_REQ, h).init(device),
            l2: LinearConfig::new(h, h).init(device),
            out: LinearConfig::new(h, 1).init(device),
        }
    }
}

/// Scores every candidate architecture of a task. See the [module docs](self).
#[derive(Module, Debug)]
pub struct ArchSelector {
    req: Linear,
    l1: Linear,
    l2: Linear,
    out: Linear,
}

/// One scored candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// The member.
    pub architecture: MlpArchitecture,
    /// The selector's score (predicted accuracy relative to the task's other candidates).
    pub score: f32,
    /// Its parameter count for the task.
    pub n_params: usize,
}

/// What [`select_architecture`] decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchitectureChoice {
    /// The member generated.
    pub chosen: MlpArchitecture,
    /// How it was decided: `selector`, `default`, `fixed` or `budget`.
    pub how: String,
    /// The candidates that satisfied the constraints, best score first (empty without a
    /// selector).
    pub ranking: Vec<Ranked>,
}

/// What a user may impose on the architecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchConstraints {
    /// Most parameters the generated model may have.
    pub max_params: Option<usize>,
    /// A member to generate instead of choosing one.
    pub architecture: Option<MlpArchitecture>,
}

impl ArchSelector {
    /// Scores of `candidates` for a batch of tasks: `metas[b]` with requirement embedding
    /// `requirements[b]` (`[B, d_embed]`) → `[B, C]`.
    pub fn scores(
        &self,
        metas: &[&TaskMeta],
        requirements: Tensor<2>,
        candidates: &[MlpArchitecture],
    ) -> Tensor<2> {
        let device = requirements.device();
        let b = metas.len();
        let c = candidates.len();
        let mut rows = Vec::with_capacity(b * c * (N_TASK_META + N_CANDIDATE_DESC));
        for m in metas {
            for a in candidates {
                rows.extend_from_slice(&m.values);
                rows.extend_from_slice(&m.describe(a));
            }
        }
        let x = Tensor::<2>::from_data(
            TensorData::new(rows, [b * c, N_TASK_META + N_CANDIDATE_DESC]),
            &device,
        );
        let r = self
            .req
            .forward(requirements)
            .reshape([b, 1, D_REQ])
            .expand([b, c, D_REQ])
            .reshape([b * c, D_REQ]);
        let h = leaky_relu(self.l1.forward(Tensor::cat(vec![x, r], 1)), SLOPE);
        let h = leaky_relu(self.l2.forward(h), SLOPE);
        self.out.forward(h).reshape([b, c])
    }

    /// The candidates of `space` that satisfy `max_params` for `meta`'s task, best score first.
    ///
    /// # Errors
    /// Reading the scores back from the device.
    pub fn rank(
        &self,
        meta: &TaskMeta,
        requirement: Tensor<2>,
        candidates: &[MlpArchitecture],
    ) -> Result<Vec<Ranked>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let s = self
            .scores(&[meta], requirement, candidates)
            .try_into_data()?
            .convert::<f32>()
            .try_into_vec::<f32>()?;
        let mut out: Vec<Ranked> = candidates
            .iter()
            .zip(s)
            .map(|(a, score)| Ranked {
                architecture: *a,
                score,
                n_params: a.n_params(meta.n_features, meta.n_classes),
            })
            .collect();
        out.sort_by(|x, y| y.score.total_cmp(&x.score));
        Ok(out)
    }
}

/// The kernel generator's cost model: multiply–adds spent writing `arch` from a sample of
/// `n_rows` rows with `d` features and `k` classes.
///
/// Depth 0 is the sample's covariance (`n d²`) and its factorisation (`d³ / 3`). A member of
/// width `w` and depth `L` adds the products of the sample through its layers (`n d_in w` per
/// layer, half of it for the last one, whose mirrored pairs share their products), the
/// covariance of the last layer's units (`¾ n w²` from the mirrored blocks), its Cholesky
/// factorisation (`w³ / 3`) and the class solves (`2 k w²`).
pub fn generation_cost(arch: &MlpArchitecture, n_rows: usize, d: usize, k: usize) -> f64 {
    let (n, d, k) = (n_rows.max(1) as f64, d.max(1) as f64, k.max(1) as f64);
    if arch.depth == 0 {
        return n * d * d + d * d * d / 3.0 + 2.0 * k * d * d;
    }
    let w = arch.width as f64;
    let mut products = 0.0;
    let mut d_in = d;
    for layer in 1..=arch.depth {
        products += n * d_in * w * if layer == arch.depth { 0.5 } else { 1.0 };
        d_in = w;
    }
    products + 0.75 * n * w * w + w * w * w / 3.0 + 2.0 * k * w * w
}

/// The selection rule: the index of the candidate with the fewest parameters among those
/// scored within `tolerance` of the best (the first such on ties; 0 for no candidates).
fn pick(scores: &[f32], n_params: &[usize], tolerance: f32) -> usize {
    let best = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    (0..scores.len())
        .filter(|&i| scores[i] >= best - tolerance)
        .min_by_key(|&i| n_params[i])
        .unwrap_or(0)
}

/// Decides which member of `space` to generate for the task `meta` describes.
///
/// - a fixed `constraints.architecture` is generated as asked (it must fit `max_params`);
/// - with a selector, the candidates within `max_params` (and, with a `max_cost_ratio`, whose
///   [`generation_cost`] is at most that many times the default's) are ranked, and the one with
///   the fewest parameters among those scored within `tolerance` of the best is chosen;
/// - without one, `default` is generated when it fits the budget, otherwise the member of
///   depth ≤ 1 with the most parameters that fits.
///
/// # Errors
/// [`Error::InvalidConfig`] for an invalid space; [`Error::ConstraintUnmet`] when no member (or
/// not the fixed one) fits `max_params`.
pub fn select_architecture(
    selector: Option<(&ArchSelector, &ArchSelectorConfig)>,
    space: &MlpSpace,
    meta: &TaskMeta,
    requirement: Tensor<2>,
    default: MlpArchitecture,
    constraints: &ArchConstraints,
) -> Result<ArchitectureChoice> {
    space.validate()?;
    let (d, k) = (meta.n_features, meta.n_classes);
    let all = space.candidates();
    let smallest = all
        .iter()
        .min_by_key(|a| a.n_params(d, k))
        .copied()
        .unwrap_or_else(MlpArchitecture::linear);
    let unmet = |constraint: String| Error::ConstraintUnmet {
        constraint,
        smallest: smallest.name(),
        smallest_params: smallest.n_params(d, k),
    };
    let budget = constraints.max_params.unwrap_or(usize::MAX);
    if let Some(fixed) = constraints.architecture {
        if fixed.n_params(d, k) > budget {
            return Err(unmet(format!(
                "architecture {fixed} has {} parameters, above max_params = {budget}",
                fixed.n_params(d, k)
            )));
        }
        return Ok(ArchitectureChoice {
            chosen: fixed,
            how: "fixed".into(),
            ranking: Vec::new(),
        });
    }
    let fits: Vec<MlpArchitecture> = all
        .iter()
        .copied()
        .filter(|a| a.n_params(d, k) <= budget)
        .collect();
    if fits.is_empty() {
        return Err(unmet(format!("max_params = {budget}")));
    }
    match selector {
        Some((sel, cfg)) => {
            let n = meta.n_rows;
            let cap = cfg.max_cost_ratio.map_or(f64::INFINITY, |r| {
                f64::from(r) * generation_cost(&default, n, d, k)
            });
            let cheap: Vec<MlpArchitecture> = fits
                .iter()
                .copied()
                .filter(|a| generation_cost(a, n, d, k) <= cap)
                .collect();
            // Members within the budget are cheaper than an over-budget default; should the cap
            // still leave none, the budget alone decides.
            let fits = if cheap.is_empty() { fits } else { cheap };
            let ranking = sel.rank(meta, requirement, &fits)?;
            let scores: Vec<f32> = ranking.iter().map(|r| r.score).collect();
            let params: Vec<usize> = ranking.iter().map(|r| r.n_params).collect();
            let chosen = ranking[pick(&scores, &params, cfg.tolerance)].architecture;
            Ok(ArchitectureChoice {
                chosen,
                how: "selector".into(),
                ranking,
            })
        }
        None if default.n_params(d, k) <= budget => Ok(ArchitectureChoice {
            chosen: default,
            how: "default".into(),
            ranking: Vec::new(),
        }),
        None => {
            let chosen = fits
                .iter()
                .filter(|a| a.depth <= 1)
                .max_by_key(|a| a.n_params(d, k))
                .or_else(|| fits.iter().min_by_key(|a| a.n_params(d, k)))
                .copied()
                .unwrap_or(smallest);
            Ok(ArchitectureChoice {
                chosen,
                how: "budget".into(),
                ranking: Vec::new(),
            })
        }
    }
}

/// One training task of the selector: its meta-features, requirement embedding and the measured
/// validation accuracy of the model generated for every candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectorExample {
    /// Task name (with the sample size for sub-samples).
    pub task: String,
    /// Meta-features of the sample the models were generated from.
    pub meta: TaskMeta,
    /// Requirement embedding.
    pub requirement: Vec<f32>,
    /// Candidates, in the order of `accuracy`.
    pub candidates: Vec<MlpArchitecture>,
    /// Validation accuracy of the generated model of each candidate.
    pub accuracy: Vec<f32>,
}

/// Settings of [`train_selector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectorTrainConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Tasks per step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Temperature of the pairwise loss, in accuracy units.
    pub temperature: f64,
    /// Weight of the regression onto centred accuracies.
    pub regression_weight: f64,
    /// Steps between validations (the best validated selector is kept).
    pub eval_every: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for SelectorTrainConfig {
    fn default() -> Self {
        Self {
            steps: 3000,
            batch: 32,
            lr: 1e-3,
            temperature: 0.01,
            regression_weight: 20.0,
            eval_every: 100,
            seed: 7,
        }
    }
}

/// How a selector did on a set of tasks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectorQuality {
    /// Mean Spearman correlation of scores and measured accuracies per task.
    pub spearman: f64,
    /// Mean accuracy of the chosen candidate.
    pub chosen_acc: f64,
    /// Mean accuracy of the best candidate (the oracle).
    pub oracle_acc: f64,
    /// Mean oracle − chosen.
    pub regret: f64,
    /// Tasks.
    pub n_tasks: usize,
}

/// What [`train_selector`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectorTrainReport {
    /// Training tasks.
    pub n_train: usize,
    /// Steps run.
    pub steps: usize,
    /// Step of the kept selector.
    pub best_step: usize,
    /// Validation quality of the kept selector.
    pub valid: SelectorQuality,
    /// Validation quality per evaluation, `(step, quality)`.
    pub curve: Vec<(usize, SelectorQuality)>,
    /// Seconds.
    pub seconds: f64,
}

/// Spearman's rank correlation of `a` and `b` (average ranks for ties; 0 when either is
/// constant).
pub fn spearman(a: &[f32], b: &[f32]) -> f64 {
    fn ranks(v: &[f32]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0f64; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0;
            for &t in &idx[i..=j] {
                r[t] = avg;
            }
            i = j + 1;
        }
        r
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    if va <= 0.0 || vb <= 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

/// How `selector` does on `tasks`: the choice it makes (with `config.tolerance`, over all the
/// candidates: the generation-cost cap needs the generator's default member, which the examples
/// do not carry) against the oracle, and the rank correlation of its scores with the measured
/// accuracies.
///
/// # Errors
/// Reading scores back from the device.
pub fn selector_quality(
    selector: &ArchSelector,
    config: &ArchSelectorConfig,
    tasks: &[SelectorExample],
    device: &Device,
) -> Result<SelectorQuality> {
    let mut q = SelectorQuality::default();
    for t in tasks {
        let req = Tensor::<2>::from_data(
            TensorData::new(t.requirement.clone(), [1, t.requirement.len()]),
            device,
        );
        let s = selector
            .scores(&[&t.meta], req, &t.candidates)
            .try_into_data()?
            .convert::<f32>()
            .try_into_vec::<f32>()?;
        let (d, k) = (t.meta.n_features, t.meta.n_classes);
        let params: Vec<usize> = t.candidates.iter().map(|a| a.n_params(d, k)).collect();
        let chosen = pick(&s, &params, config.tolerance);
        let oracle = t.accuracy.iter().copied().fold(0f32, f32::max);
        q.spearman += spearman(&s, &t.accuracy);
        q.chosen_acc += f64::from(t.accuracy[chosen]);
        q.oracle_acc += f64::from(oracle);
        q.n_tasks += 1;
    }
    let n = q.n_tasks.max(1) as f64;
    q.spearman /= n;
    q.chosen_acc /= n;
    q.oracle_acc /= n;
    q.regret = q.oracle_acc - q.chosen_acc;
    Ok(q)
}

/// Trains a selector on measured outcomes `train` (every example must list the same
/// candidates), keeping the one with the lowest regret on `valid` (the last one when `valid` is
/// empty).
///
/// # Errors
/// [`Error::InvalidConfig`] for no training tasks or examples with other candidate lists;
/// device read-back errors.
pub fn train_selector(
    config: &ArchSelectorConfig,
    train: &[SelectorExample],
    valid: &[SelectorExample],
    settings: &SelectorTrainConfig,
    device: &Device,
    mut progress: impl FnMut(usize, f64),
) -> Result<(ArchSelector, SelectorTrainReport)> {
    config.validate()?;
    let Some(first) = train.first() else {
        return Err(Error::InvalidConfig {
            field: "train",
            reason: "no training tasks".into(),
        });
    };
    let candidates = first.candidates.clone();
    if let Some(bad) = train
        .iter()
        .chain(valid)
        .find(|t| t.candidates != candidates || t.accuracy.len() != candidates.len())
    {
        return Err(Error::InvalidConfig {
            field: "train",
            reason: format!(
                "task {} lists other candidates than {}",
                bad.task, first.task
            ),
        });
    }
    let t0 = std::time::Instant::now();
    let ad = device.clone().autodiff();
    ad.seed(settings.seed);
    let mut model = config.init(&ad).train();
    let mut optim = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let c = candidates.len();
    let e = config.d_embed;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut report = SelectorTrainReport {
        n_train: train.len(),
        ..Default::default()
    };
    let mut best: Option<(f64, ArchSelector)> = None;
    let mut cursor = order.len();
    for step in 1..=settings.steps {
        let b = settings.batch.clamp(1, train.len());
        if cursor + b > order.len() {
            order.shuffle(&mut rng);
            cursor = 0;
        }
        let batch: Vec<&SelectorExample> = order[cursor..cursor + b]
            .iter()
            .map(|&i| &train[i])
            .collect();
        cursor += b;
        let metas: Vec<&TaskMeta> = batch.iter().map(|t| &t.meta).collect();
        let mut reqs = Vec::with_capacity(b * e);
        let mut acc = Vec::with_capacity(b * c);
        for t in &batch {
            reqs.extend_from_slice(&t.requirement);
            let mean = t.accuracy.iter().sum::<f32>() / c as f32;
            acc.extend(t.accuracy.iter().map(|a| a - mean));
        }
        let reqs = Tensor::<2>::from_data(TensorData::new(reqs, [b, e]), &ad);
        let acc = Tensor::<2>::from_data(TensorData::new(acc, [b, c]), &ad);
        let s = model.scores(&metas, reqs, &candidates); // [b, c]
        let s = s.clone() - s.mean_dim(1);
        // Pairwise: every (i, j) with acc_i > acc_j, weighted by the gap.
        let ds = s.clone().reshape([b, c, 1]) - s.clone().reshape([b, 1, c]);
        let da = acc.clone().reshape([b, c, 1]) - acc.clone().reshape([b, 1, c]);
        let w = burn::tensor::activation::relu(da);
        let wsum = w.clone().sum().into_scalar::<f32>().max(1e-6);
        let pair = (softplus(ds.neg() / settings.temperature, 1.0) * w).sum() / f64::from(wsum);
        let reg = (s - acc).powf_scalar(2.0).mean() * settings.regression_weight;
        let loss = pair + reg;
        let value = f64::from(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(settings.lr, model, grads);
        report.steps = step;
        if step % settings.eval_every == 0 || step == settings.steps {
            progress(step, value);
            if !valid.is_empty() {
                let m = model.valid();
                let q = selector_quality(&m, config, valid, device)?;
                report.curve.push((step, q.clone()));
                if best.as_ref().is_none_or(|(r, _)| q.regret < *r) {
                    report.best_step = step;
                    report.valid = q.clone();
                    best = Some((q.regret, m.to_device(device)));
                }
            }
        }
    }
    report.seconds = t0.elapsed().as_secs_f64();
    let model = match best {
        Some((_, m)) => m,
        None => {
            report.best_step = report.steps;
            model.valid().to_device(device)
        }
    };
    Ok((model, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_device;
    use rand::RngExt;

    fn meta(n: usize, d: usize, k: usize) -> TaskMeta {
        TaskMeta {
            n_rows: n,
            n_features: d,
            n_classes: k,
            values: vec![0.1; N_TASK_META],
        }
    }

    #[test]
    fn spearman_of_known_orders() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), 0.0);
    }

    #[test]
    fn budgets_are_honoured_or_refused() {
        let device = test_device();
        let space = MlpSpace::default();
        let m = meta(500, 10, 3);
        let req = Tensor::<2>::zeros([1, 4], &device);
        let cfg = ArchSelectorConfig::new(4);
        let sel = cfg.init(&device);
        let default = MlpArchitecture::new(1, 256);
        for budget in [40usize, 100, 1_000, 5_000, 1_000_000] {
            for s in [Some((&sel, &cfg)), None] {
                let c = ArchConstraints {
                    max_params: Some(budget),
                    architecture: None,
                };
                let choice = select_architecture(s, &space, &m, req.clone(), default, &c).unwrap();
                assert!(
                    choice.chosen.n_params(10, 3) <= budget,
                    "{budget}: {choice:?}"
                );
            }
        }
        let too_small = ArchConstraints {
            max_params: Some(10),
            architecture: None,
        };
        let err =
            select_architecture(None, &space, &m, req.clone(), default, &too_small).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("max_params = 10") && msg.contains("linear"),
            "{msg}"
        );
        let contradictory = ArchConstraints {
            max_params: Some(1_000),
            architecture: Some(MlpArchitecture::new(2, 64)),
        };
        let err = select_architecture(None, &space, &m, req.clone(), default, &contradictory)
            .unwrap_err();
        assert!(err.to_string().contains("mlp-2x64"), "{err}");
        let empty = MlpSpace {
            depths: vec![],
            widths: vec![],
        };
        assert!(
            select_architecture(None, &empty, &m, req, default, &ArchConstraints::default())
                .is_err()
        );
    }

    #[test]
    fn the_selector_learns_a_planted_preference() {
        // Accuracy peaks at width 64 for small samples and at 512 for large ones.
        let device = test_device();
        let space = MlpSpace {
            depths: vec![1],
            widths: vec![16, 64, 512],
        };
        let cands = space.candidates();
        let mut rng = StdRng::seed_from_u64(1);
        let make = |i: usize, rng: &mut StdRng| {
            let n = if i % 2 == 0 { 100 } else { 5000 };
            let mut m = meta(n, 8, 2);
            m.values[0] = (n as f32).ln() / 8.0;
            let best = if n == 100 { 1 } else { 2 };
            let accuracy = (0..3)
                .map(|j| if j == best { 0.9 } else { 0.8 } + rng.random_range(-0.01..0.01))
                .collect();
            SelectorExample {
                task: format!("t{i}"),
                meta: m,
                requirement: vec![0.0; 4],
                candidates: cands.clone(),
                accuracy,
            }
        };
        let train: Vec<_> = (0..64).map(|i| make(i, &mut rng)).collect();
        let valid: Vec<_> = (0..16).map(|i| make(i, &mut rng)).collect();
        let cfg = ArchSelectorConfig {
            space,
            tolerance: 0.0,
            ..ArchSelectorConfig::new(4)
        };
        let settings = SelectorTrainConfig {
            steps: 300,
            batch: 16,
            lr: 3e-3,
            eval_every: 50,
            ..Default::default()
        };
        let (_, report) =
            train_selector(&cfg, &train, &valid, &settings, &device, |_, _| {}).unwrap();
        assert!(report.valid.regret < 0.02, "{report:?}");
        assert!(report.valid.spearman > 0.5, "{report:?}");
    }
}
