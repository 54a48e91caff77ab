//! Meta-training of the text hypernetwork over many text tasks (end-to-end rule).

use std::path::PathBuf;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use modelgpt_targets::metrics::cross_entropy;
use modelgpt_targets::{BertModel, PrefixFeatures, TextLoraFamily};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::hypernet::{TextHyperNet, TextHyperNetConfig, TextTaskInput};
use super::sample::TextSample;
use crate::error::{Error, Result};
use modelgpt_core::data::sample_per_class;

/// One meta-training task: cached frozen-prefix features of its training texts plus the
/// embeddings the hypernetwork reads.
#[derive(Debug, Clone)]
pub struct TextMetaTask {
    /// Task name.
    pub name: String,
    /// Embeddings of the task's requirement pool, one `Vec` of `d_embed` per sentence.
    pub requirements: Vec<Vec<f32>>,
    /// Label-name embeddings `[k · d_embed]`, row-major.
    pub labels: Vec<f32>,
    /// Number of classes.
    pub n_classes: usize,
    /// Prefix features of the training texts (plain device).
    pub features: PrefixFeatures,
    /// Frozen-encoder sentence embeddings of the training texts `[n · d]`, row-major.
    pub base_embeddings: Vec<f32>,
    /// Class of each training text.
    pub targets: Vec<usize>,
}

/// Meta-training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextMetaConfig {
    /// Optimiser steps (one task and one batch each).
    pub steps: usize,
    /// Texts per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Gradient-norm clip.
    pub grad_clip: f32,
    /// Support texts per class the generator reads (drawn from the rows not in the batch).
    pub support_per_class: usize,
    /// Validation every this many steps (and before the first), keeping the best hypernetwork;
    /// 0 keeps the last one and never validates.
    pub eval_every: usize,
    /// Seed of task, requirement, batch and support sampling.
    pub seed: u64,
}

impl Default for TextMetaConfig {
    fn default() -> Self {
        Self {
            steps: 300,
            batch_size: 16,
            lr: 1e-3,
            grad_clip: 1.0,
            support_per_class: 64,
            eval_every: 50,
            seed: 42,
        }
    }
}

/// What meta-training did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TextMetaReport {
    /// Mean training loss per block of 25 steps.
    pub loss_curve: Vec<f64>,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Steps run.
    pub steps: usize,
    /// Tasks trained on.
    pub tasks: Vec<String>,
    /// Where the checkpoint was written, if anywhere.
    pub checkpoint: Option<PathBuf>,
    /// `(step, validation score)` at every validation (step 0 = the untrained generator).
    pub valid_curve: Vec<(usize, f64)>,
    /// Step of the returned hypernetwork (the best validation score; `steps` without validation).
    pub best_step: usize,
}

/// Meta-trains a [`TextHyperNet`] end-to-end on `tasks` (paper Algorithm 1 offers a first-order
/// rule; here the task loss is backpropagated straight through the generated tensors, which the
/// design notes allow and which is the cheaper one with a single step per batch).
///
/// Each step samples a task (shuffled rounds), one requirement of its pool (paper: robustness to
/// wording), a batch of training texts and a disjoint support set that the generator reads
/// ([`TextSample`]), generates the adapters and head, runs the adapted tail of `backbone` on the
/// cached prefix features and takes an Adam step on the hypernetwork. `backbone` must live on
/// `device.clone().autodiff()` (load it there and call `no_grad`); the task features live on the
/// plain device.
///
/// With `meta.eval_every > 0`, `evaluate` scores the hypernetwork (inference mode, plain device;
/// higher is better, e.g. mean validation accuracy over the tasks) before the first step and
/// every `eval_every` steps, and the best one is returned: meta-training never returns a
/// generator worse on validation than the untrained one. `progress` gets `(step, mean loss)`
/// every 25 steps.
///
/// # Errors
/// [`Error::InvalidConfig`] for an empty task list, zero steps/batch; generation and `evaluate`
/// errors.
pub fn meta_train_text(
    config: &TextHyperNetConfig,
    meta: &TextMetaConfig,
    tasks: &[TextMetaTask],
    backbone: &BertModel,
    device: &Device,
    mut progress: impl FnMut(usize, f64),
    mut evaluate: impl FnMut(&TextHyperNet) -> Result<f64>,
) -> Result<(TextHyperNet, TextMetaReport)> {
    if tasks.is_empty() || meta.steps == 0 || meta.batch_size == 0 {
        return Err(Error::InvalidConfig {
            field: "steps",
            reason: "need at least one task, one step and a positive batch size".into(),
        });
    }
    let ad = device.clone().autodiff();
    ad.seed(meta.seed);
    let mut model = config.init(&ad)?.train();
    let mut optim = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(meta.grad_clip)))
        .init();
    let families: Vec<TextLoraFamily> = tasks
        .iter()
        .map(|t| TextLoraFamily::for_model(backbone, config.lora.clone(), t.n_classes))
        .collect::<std::result::Result<_, _>>()?;
    let d = config.d_model;
    let mut rng = StdRng::seed_from_u64(meta.seed);
    let mut order: Vec<usize> = Vec::new();
    let mut report = TextMetaReport {
        tasks: tasks.iter().map(|t| t.name.clone()).collect(),
        ..TextMetaReport::default()
    };
    let mut best: Option<(f64, TextHyperNet)> = None;
    let mut validate = |step: usize, model: &TextHyperNet, report: &mut TextMetaReport| {
        let score = evaluate(model)?;
        report.valid_curve.push((step, score));
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, model.clone()));
            report.best_step = step;
        }
        Ok::<(), Error>(())
    };
    if meta.eval_every > 0 {
        validate(0, &model.clone().valid(), &mut report)?;
    }
    let t0 = Instant::now();
    let mut block = (0.0, 0usize);
    for step in 0..meta.steps {
        if order.is_empty() {
            order = (0..tasks.len()).collect();
            order.shuffle(&mut rng);
        }
        // `order` was refilled just above.
        let ti = order.pop().unwrap_or(0);
        let task = &tasks[ti];
        let n = task.targets.len();
        let mut all: Vec<usize> = (0..n).collect();
        all.shuffle(&mut rng);
        let b = meta.batch_size.min(n.saturating_sub(task.n_classes)).max(1);
        let (batch, rest) = all.split_at(b);
        let support = sample_per_class(
            &task.targets,
            rest,
            task.n_classes,
            meta.support_per_class,
            rng.random(),
        );
        let sample = TextSample::from_embeddings(
            &task.base_embeddings,
            d,
            &task.targets,
            &support,
            task.n_classes,
            config.min_shrinkage,
        )?;
        let req = &task.requirements[rng.random_range(0..task.requirements.len())];
        let input = TextTaskInput::from_host(req, &task.labels, &sample, &ad)?;
        let params = model.generate(&families[ti], &input)?;
        let feats = task.features.select(batch).autodiff();
        let logits = families[ti].forward(backbone, &params, &feats)?;
        let yb: Vec<usize> = batch.iter().map(|&r| task.targets[r]).collect();
        let loss = cross_entropy(logits, &yb);
        let value = loss.clone().into_scalar::<f32>() as f64;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(meta.lr, model, grads);
        block.0 += value;
        block.1 += 1;
        if block.1 == 25 || step + 1 == meta.steps {
            let mean = block.0 / block.1 as f64;
            report.loss_curve.push(mean);
            progress(step + 1, mean);
            block = (0.0, 0);
        }
        if meta.eval_every > 0 && ((step + 1) % meta.eval_every == 0 || step + 1 == meta.steps) {
            validate(step + 1, &model.clone().valid(), &mut report)?;
        }
    }
    report.elapsed_s = t0.elapsed().as_secs_f64();
    report.steps = meta.steps;
    Ok(match best {
        Some((_, model)) => (model, report),
        None => {
            report.best_step = meta.steps;
            (model.valid(), report)
        }
    })
}
