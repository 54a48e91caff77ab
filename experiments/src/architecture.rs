//! Architecture choice for the tabular generator: measured outcomes, the selector's training,
//! the shipped selector checkpoint and `reports/architecture.{json,md}`.
//!
//! 1. **Outcomes.** For every training task — synthetic prior tasks (indices after the ones the
//!    shipped generator was meta-trained on) and the catalog's seen tasks at several sample
//!    sizes — the shipped kernel generator writes every member of the [`MlpSpace`] from the
//!    task's training rows, and each is scored on rows it did not read (prior tasks: their
//!    validation and test rows; catalog tasks: the validation split). Cached in
//!    `$MODELGPT_CACHE/architecture/` in chunks, so an interrupted run resumes.
//! 2. **Selector.** [`train_selector`] on 85 % of the training tasks, validated on the rest.
//! 3. **Report.** For every held-out catalog task: the member the selector chooses from the
//!    user's sample, the fixed default, and the oracle (the best member on the test split),
//!    with accuracies, parameter counts and regret, the selector's rank correlation with the
//!    measured test accuracies, budgets and timings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::Device;
use modelgpt_core::RequirementEncoder;
use modelgpt_datasets::prior::PriorConfig;
use modelgpt_hypernet::checkpoint::{Manifest, save_checkpoint};
use modelgpt_hypernet::tabular::select::{
    ArchConstraints, ArchSelector, ArchSelectorConfig, SelectorExample, SelectorTrainConfig,
    SelectorTrainReport, TaskMeta, select_architecture, spearman, train_selector,
};
use modelgpt_hypernet::{
    EpochTasks, HyperNet, HyperNetConfig, PreparedTask, SplitData, TaskSample, write_atomic,
};
use modelgpt_targets::metrics::accuracy;
use modelgpt_targets::{MlpArchitecture, MlpSpace};
use serde::{Deserialize, Serialize};

use crate::prior::PriorSource;
use crate::tabular::{
    ExperimentConfig, KERNEL_EPOCHS, KERNEL_PRIOR_PER_EPOCH, TaskSet, progress_bar, user_sample,
};

/// Settings of the experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchExperimentConfig {
    /// Synthetic prior tasks measured for the selector's training.
    pub prior_tasks: usize,
    /// Sample sizes the catalog's seen tasks are measured at (capped at their training rows).
    pub seen_sizes: Vec<usize>,
    /// The candidates.
    pub space: MlpSpace,
    /// The selector's training.
    pub train: SelectorTrainConfig,
    /// Seed of the sub-samples.
    pub seed: u64,
}

impl Default for ArchExperimentConfig {
    fn default() -> Self {
        Self {
            prior_tasks: 600,
            seen_sizes: vec![48, 128, 400, 1200, 2000],
            space: MlpSpace::default(),
            train: SelectorTrainConfig::default(),
            seed: 11,
        }
    }
}

/// The generation-cost cap of the report's alternative rule (the target's 2x).
pub const CAPPED_RATIO: f32 = 2.0;

/// Tasks per cached chunk of outcomes.
const CHUNK: usize = 50;

/// Validation accuracy (on `eval`) of every candidate generated from `sample`.
fn measure(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    task: &PreparedTask,
    sample: &TaskSample,
    eval: &SplitData,
    candidates: &[MlpArchitecture],
    device: &Device,
) -> Result<Vec<f32>> {
    let ctx = task.context(0, sample, device);
    let x = eval.x_tensor(task.cols, device);
    let mut out = Vec::with_capacity(candidates.len());
    for arch in candidates {
        let tensors = hyper.generate_tensors_arch(&task.name, &ctx, *arch)?;
        let (family, params) = config.family_and_params(tensors)?;
        let logits = family.try_forward_with(&params, x.clone())?;
        out.push(accuracy(logits, &eval.y)? as f32);
    }
    Ok(out)
}

fn requirement_of(task: &PreparedTask, device: &Device) -> Result<Vec<f32>> {
    Ok(task
        .requirement_embedding(0, device)
        .try_into_data()?
        .convert::<f32>()
        .try_into_vec::<f32>()?)
}

fn concat(a: &SplitData, b: &SplitData) -> SplitData {
    let mut x = a.x.clone();
    x.extend_from_slice(&b.x);
    let mut y = a.y.clone();
    y.extend_from_slice(&b.y);
    SplitData { x, y }
}

/// A stratified-ish sub-sample of `m` training rows (every `step`-th row of the shuffled split).
fn sub_sample(task: &PreparedTask, m: usize) -> Result<TaskSample> {
    let n = task.train.rows();
    let m = m.min(n).max(1);
    let step = n as f64 / m as f64;
    let rows: Vec<usize> = (0..m).map(|i| (i as f64 * step) as usize).collect();
    Ok(TaskSample::from_rows(
        &task.train.x,
        task.cols,
        &task.train.y,
        &rows,
        task.n_classes(),
    )?)
}

/// Measured outcomes of the selector's training tasks (cached and resumable).
///
/// # Errors
/// Generation, encoder and cache errors.
pub fn collect_outcomes(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    tasks: &TaskSet,
    encoder: &dyn RequirementEncoder,
    cache: &Path,
    cfg: &ArchExperimentConfig,
    device: &Device,
) -> Result<Vec<SelectorExample>> {
    let candidates = cfg.space.candidates();
    let key = format!(
        "{:016x}",
        fnv(&serde_json::to_string(&(
            &cfg.space,
            &cfg.seen_sizes,
            config,
            modelgpt_datasets::prior::PRIOR_VERSION
        ))?)
    );
    let dir = cache.join("architecture").join(key);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = Vec::new();

    // The catalog's seen tasks at several sample sizes.
    let seen_path = dir.join("seen.json");
    if let Ok(bytes) = std::fs::read(&seen_path) {
        out.extend(serde_json::from_slice::<Vec<SelectorExample>>(&bytes)?);
    } else {
        let bar = progress_bar(
            tasks.seen.len(),
            "outcomes [{elapsed_precise}] {bar:30} {pos}/{len} seen tasks {msg}",
        );
        let mut seen = Vec::new();
        for task in &tasks.seen {
            bar.set_message(task.name.clone());
            let mut sizes: Vec<usize> = cfg
                .seen_sizes
                .iter()
                .map(|&m| m.min(task.train.rows()))
                .collect();
            sizes.dedup();
            for m in sizes {
                let sample = sub_sample(task, m)?;
                let acc = measure(
                    hyper,
                    config,
                    task,
                    &sample,
                    &task.valid,
                    &candidates,
                    device,
                )?;
                seen.push(SelectorExample {
                    task: format!("{}@{m}", task.name),
                    meta: TaskMeta::from_sample(&sample),
                    requirement: requirement_of(task, device)?,
                    candidates: candidates.clone(),
                    accuracy: acc,
                });
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        write_atomic(&seen_path, &serde_json::to_vec(&seen)?)?;
        out.extend(seen);
    }

    // Synthetic prior tasks, after the ones the shipped generator was meta-trained on.
    let mut source = PriorSource::new(
        PriorConfig::default(),
        CHUNK,
        encoder,
        ExperimentConfig::default().max_train_rows,
        device,
    )?;
    let skip = KERNEL_EPOCHS * KERNEL_PRIOR_PER_EPOCH / CHUNK;
    let chunks = cfg.prior_tasks.div_ceil(CHUNK);
    let bar = progress_bar(
        chunks * CHUNK,
        "outcomes [{elapsed_precise}] {bar:30} {pos}/{len} prior tasks ({per_sec}) {msg}",
    );
    for chunk in 0..chunks {
        let path = dir.join(format!("prior-{chunk:04}.json"));
        if let Ok(bytes) = std::fs::read(&path) {
            out.extend(serde_json::from_slice::<Vec<SelectorExample>>(&bytes)?);
            bar.inc(CHUNK as u64);
            continue;
        }
        let prepared = source.tasks(skip + chunk + 1)?;
        let mut part = Vec::with_capacity(prepared.len());
        for task in &prepared {
            bar.set_message(format!("{} rows", task.train.rows()));
            let eval = concat(&task.valid, &task.test);
            if eval.rows() < 8 {
                bar.inc(1);
                continue;
            }
            let acc = measure(
                hyper,
                config,
                task,
                &task.sample,
                &eval,
                &candidates,
                device,
            )?;
            part.push(SelectorExample {
                task: task.name.clone(),
                meta: TaskMeta::from_sample(&task.sample),
                requirement: requirement_of(task, device)?,
                candidates: candidates.clone(),
                accuracy: acc,
            });
            bar.inc(1);
        }
        write_atomic(&path, &serde_json::to_vec(&part)?)?;
        out.extend(part);
    }
    bar.finish_and_clear();
    Ok(out)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Splits the examples into training and validation tasks (every 7th task family validates;
/// all sample sizes of a catalog task stay on one side).
pub fn split_examples(all: &[SelectorExample]) -> (Vec<SelectorExample>, Vec<SelectorExample>) {
    let family = |t: &SelectorExample| t.task.split('@').next().unwrap_or("").to_string();
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for t in all {
        if fnv(&family(t)) % 7 == 0 {
            valid.push(t.clone());
        } else {
            train.push(t.clone());
        }
    }
    (train, valid)
}

/// One held-out task of the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchTaskResult {
    /// Task.
    pub task: String,
    /// Rows the generator read.
    pub n_rows: usize,
    /// Features.
    pub n_features: usize,
    /// Classes.
    pub n_classes: usize,
    /// The selector's choice.
    pub chosen: String,
    /// Its test accuracy.
    pub chosen_acc: f64,
    /// Its parameters.
    pub chosen_params: usize,
    /// The fixed default (what the generator writes without a selector).
    pub default: String,
    /// Its test accuracy.
    pub default_acc: f64,
    /// Its parameters.
    pub default_params: usize,
    /// The best member on the test split.
    pub oracle: String,
    /// Its test accuracy.
    pub oracle_acc: f64,
    /// Its parameters.
    pub oracle_params: usize,
    /// oracle − chosen.
    pub regret: f64,
    /// Spearman correlation of the selector's scores with the members' test accuracies.
    pub spearman: f64,
    /// Every member's test accuracy, by name.
    pub accuracies: BTreeMap<String, f64>,
    /// Selector + generation of the chosen member, ms (median of 5).
    pub selected_ms: f64,
    /// Generation of the default member, ms (median of 5).
    pub default_ms: f64,
    /// The selector's choice with the generation cost capped at [`CAPPED_RATIO`] times the
    /// default's.
    pub capped: String,
    /// Its test accuracy.
    pub capped_acc: f64,
    /// Its parameters.
    pub capped_params: usize,
    /// Selector + generation of the capped choice, ms (median of 5).
    pub capped_ms: f64,
}

/// Budget compliance over the held-out tasks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BudgetCheck {
    /// The budget.
    pub max_params: usize,
    /// Requests made (held-out tasks).
    pub requests: usize,
    /// Requests answered with a member within the budget.
    pub honoured: usize,
    /// Requests refused with a typed error (no member fits).
    pub refused: usize,
    /// Mean test accuracy of the answered requests.
    pub mean_acc: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchReport {
    /// Settings.
    pub config: ArchExperimentConfig,
    /// The selector's training.
    pub training: SelectorTrainReport,
    /// Training tasks measured (prior + seen sub-samples).
    pub n_outcomes: usize,
    /// Per held-out task.
    pub tasks: Vec<ArchTaskResult>,
    /// Means over the held-out tasks.
    pub mean_chosen_acc: f64,
    /// Mean default accuracy.
    pub mean_default_acc: f64,
    /// Mean oracle accuracy.
    pub mean_oracle_acc: f64,
    /// Mean Spearman.
    pub mean_spearman: f64,
    /// Mean parameters of the chosen members.
    pub mean_chosen_params: f64,
    /// Mean parameters of the defaults.
    pub mean_default_params: f64,
    /// Tasks where the oracle is not the default.
    pub oracle_differs: usize,
    /// Of those, tasks where the choice beats the default.
    pub better_than_default: usize,
    /// Median of selected_ms / default_ms.
    pub median_time_ratio: f64,
    /// Mean accuracy of the choices with the generation cost capped at [`CAPPED_RATIO`].
    pub mean_capped_acc: f64,
    /// Their mean parameters.
    pub mean_capped_params: f64,
    /// Median of capped_ms / default_ms.
    pub median_capped_time_ratio: f64,
    /// The shipped selector's generation-cost cap (`None`: none).
    pub config_max_cost_ratio: Option<f32>,
    /// Budgets.
    pub budgets: Vec<BudgetCheck>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time_ms(mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut t = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        f()?;
        t.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(t))
}

/// Evaluates `selector` on the held-out tasks.
///
/// # Errors
/// Generation errors.
pub fn evaluate_heldout(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    selector: &ArchSelector,
    sel_cfg: &ArchSelectorConfig,
    tasks: &TaskSet,
    device: &Device,
) -> Result<(Vec<ArchTaskResult>, Vec<BudgetCheck>)> {
    let candidates = sel_cfg.space.candidates();
    let budgets = [1_000usize, 5_000, 20_000];
    let mut checks: Vec<BudgetCheck> = budgets
        .iter()
        .map(|&b| BudgetCheck {
            max_params: b,
            requests: 0,
            honoured: 0,
            refused: 0,
            mean_acc: 0.0,
        })
        .collect();
    let mut out = Vec::new();
    for task in &tasks.heldout {
        let sample = user_sample(task)?;
        let meta = TaskMeta::from_sample(&sample);
        let (d, k) = (task.cols, task.n_classes());
        let acc = measure(
            hyper,
            config,
            task,
            &sample,
            &task.test,
            &candidates,
            device,
        )?;
        let by_name: BTreeMap<String, f64> = candidates
            .iter()
            .zip(&acc)
            .map(|(a, &v)| (a.name(), f64::from(v)))
            .collect();
        let req = task.requirement_embedding(0, device);
        let default = hyper.default_architecture(sample.rows_y.len());
        // The selector's decision under `cfg` for the sample's meta-features `m`.
        let choose = |cfg: &ArchSelectorConfig, m: &TaskMeta, c: &ArchConstraints| {
            select_architecture(
                Some((selector, cfg)),
                &cfg.space,
                m,
                req.clone(),
                default,
                c,
            )
        };
        let capped_cfg = ArchSelectorConfig {
            max_cost_ratio: Some(CAPPED_RATIO),
            ..sel_cfg.clone()
        };
        let chosen = choose(sel_cfg, &meta, &ArchConstraints::default())?.chosen;
        let capped = choose(&capped_cfg, &meta, &ArchConstraints::default())?.chosen;
        // The scores of every member (a choice's ranking holds only the admissible ones).
        let scores = selector
            .scores(&[&meta], req.clone(), &candidates)
            .try_into_data()?
            .convert::<f32>()
            .try_into_vec::<f32>()?;
        // Every choice is a member of the space, so it was measured.
        let acc_of =
            |a: &MlpArchitecture| -> f64 { by_name.get(&a.name()).copied().unwrap_or(0.0) };
        // The default widens with the rows and need not be a member of the space.
        let default_acc = match by_name.get(&default.name()) {
            Some(&v) => v,
            None => {
                f64::from(measure(hyper, config, task, &sample, &task.test, &[default], device)?[0])
            }
        };
        let oracle_i = (0..acc.len())
            .max_by(|&i, &j| acc[i].total_cmp(&acc[j]).then(j.cmp(&i)))
            .unwrap_or(0);
        let oracle = candidates[oracle_i];
        let ctx = task.context(0, &sample, device);
        // Selection from the sample's statistics plus generation, as a user's request runs it.
        let timed = |cfg: &ArchSelectorConfig| {
            time_ms(|| {
                let m = TaskMeta::from_sample(&sample);
                let c = choose(cfg, &m, &ArchConstraints::default())?;
                let t = hyper.generate_tensors_arch(&task.name, &ctx, c.chosen)?;
                let (_, p) = config.family_and_params(t)?;
                drop(p);
                Ok(())
            })
        };
        let selected_ms = timed(sel_cfg)?;
        let capped_ms = timed(&capped_cfg)?;
        let default_ms = time_ms(|| {
            let t = hyper.generate_tensors(&task.name, &ctx)?;
            let (_, p) = config.family_and_params(t)?;
            drop(p);
            Ok(())
        })?;
        for check in &mut checks {
            check.requests += 1;
            let c = ArchConstraints {
                max_params: Some(check.max_params),
                architecture: None,
            };
            match choose(sel_cfg, &meta, &c) {
                Ok(ch) => {
                    if ch.chosen.n_params(d, k) <= check.max_params {
                        check.honoured += 1;
                        check.mean_acc += acc_of(&ch.chosen);
                    }
                }
                Err(modelgpt_hypernet::Error::ConstraintUnmet { .. }) => check.refused += 1,
                Err(e) => return Err(e.into()),
            }
        }
        let chosen_acc = acc_of(&chosen);
        let capped_acc = acc_of(&capped);
        out.push(ArchTaskResult {
            task: task.name.clone(),
            n_rows: sample.rows_y.len(),
            n_features: d,
            n_classes: k,
            chosen: chosen.name(),
            chosen_acc,
            chosen_params: chosen.n_params(d, k),
            default: default.name(),
            default_acc,
            default_params: default.n_params(d, k),
            oracle: oracle.name(),
            oracle_acc: f64::from(acc[oracle_i]),
            oracle_params: oracle.n_params(d, k),
            regret: f64::from(acc[oracle_i]) - chosen_acc,
            spearman: spearman(&scores, &acc),
            accuracies: by_name,
            selected_ms,
            default_ms,
            capped: capped.name(),
            capped_acc,
            capped_params: capped.n_params(d, k),
            capped_ms,
        });
    }
    for c in &mut checks {
        c.mean_acc /= c.honoured.max(1) as f64;
    }
    Ok((out, checks))
}

/// Where the shipped selector lives.
pub fn shipped_selector_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../modelgpt-hypernet/checkpoints/tabular-selector"
    ))
}

/// Collects the outcomes, trains the selector, writes its checkpoint to `checkpoint` and (when
/// `reports` is given) the report.
///
/// # Errors
/// Everything above.
pub fn run(
    encoder: &dyn RequirementEncoder,
    cache: &Path,
    checkpoint: &Path,
    reports: Option<&Path>,
    cfg: ArchExperimentConfig,
    device: &Device,
) -> Result<ArchReport> {
    let exp = ExperimentConfig::default();
    let tasks = crate::tabular::prepare_tasks(encoder, cache, &exp, device)?;
    let (hyper, config) = modelgpt_hypernet::shipped::tabular(device)?;
    let all = collect_outcomes(&hyper, &config, &tasks, encoder, cache, &cfg, device)?;
    let (train, valid) = split_examples(&all);
    eprintln!(
        "selector: {} training and {} validation tasks",
        train.len(),
        valid.len()
    );
    let sel_cfg = ArchSelectorConfig {
        space: cfg.space.clone(),
        ..ArchSelectorConfig::new(encoder.embed_dim())
    };
    let bar = progress_bar(
        cfg.train.steps,
        "selector [{elapsed_precise}] {bar:30} {pos}/{len} steps {msg}",
    );
    let (selector, training) = train_selector(
        &sel_cfg,
        &train,
        &valid,
        &cfg.train,
        device,
        |step, loss| {
            bar.set_position(step as u64);
            bar.set_message(format!("loss {loss:.4}"));
        },
    )?;
    bar.finish_and_clear();
    eprintln!(
        "selector: best step {} (valid regret {:.4}, Spearman {:.3}, chosen {:.4} vs oracle {:.4})",
        training.best_step,
        training.valid.regret,
        training.valid.spearman,
        training.valid.chosen_acc,
        training.valid.oracle_acc
    );
    let manifest = Manifest::new(modelgpt_core::Modality::Tabular, sel_cfg.clone())
        .with_report(&training)?
        .with_provenance("cargo run --release -p modelgpt-experiments --bin architecture");
    save_checkpoint(checkpoint, &manifest, &selector)?;
    let (results, budgets) =
        evaluate_heldout(&hyper, &config, &selector, &sel_cfg, &tasks, device)?;
    let n = results.len().max(1) as f64;
    let mean = |f: &dyn Fn(&ArchTaskResult) -> f64| results.iter().map(f).sum::<f64>() / n;
    let differs: Vec<&ArchTaskResult> = results
        .iter()
        .filter(|r| r.oracle_acc > r.default_acc)
        .collect();
    let report = ArchReport {
        config: cfg,
        training,
        n_outcomes: all.len(),
        mean_chosen_acc: mean(&|r| r.chosen_acc),
        mean_default_acc: mean(&|r| r.default_acc),
        mean_oracle_acc: mean(&|r| r.oracle_acc),
        mean_spearman: mean(&|r| r.spearman),
        mean_chosen_params: mean(&|r| r.chosen_params as f64),
        mean_default_params: mean(&|r| r.default_params as f64),
        oracle_differs: differs.len(),
        better_than_default: differs
            .iter()
            .filter(|r| r.chosen_acc > r.default_acc)
            .count(),
        median_time_ratio: median(
            results
                .iter()
                .map(|r| r.selected_ms / r.default_ms.max(1e-9))
                .collect(),
        ),
        config_max_cost_ratio: sel_cfg.max_cost_ratio,
        mean_capped_acc: mean(&|r| r.capped_acc),
        mean_capped_params: mean(&|r| r.capped_params as f64),
        median_capped_time_ratio: median(
            results
                .iter()
                .map(|r| r.capped_ms / r.default_ms.max(1e-9))
                .collect(),
        ),
        budgets,
        tasks: results,
    };
    if let Some(dir) = reports {
        write_report(&report, dir)?;
    }
    Ok(report)
}

/// Writes `architecture.json` and `architecture.md` into `dir`.
///
/// # Errors
/// I/O errors.
pub fn write_report(r: &ArchReport, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(
        &dir.join("architecture.json"),
        &serde_json::to_vec_pretty(r)?,
    )?;
    let mut md = String::new();
    let pct = |v: f64| format!("{:.1}", 100.0 * v);
    md.push_str("# Architecture choice (tabular)\n\n");
    md.push_str(
        "Produced by `cargo run --release -p modelgpt-experiments --bin architecture`. The \
         shipped kernel generator writes every member of the MLP space (depth 0-3 x width \
         16-1024); the selector, meta-trained on measured outcomes of synthetic prior tasks and \
         the catalog's seen tasks, picks one from the user's sample and requirement. `default` \
         is the member written without a selector (one hidden layer, 256 units up to 2,048 \
         rows); `oracle` is the best member on the test split (an optimistic upper bound).\n\n",
    );
    md.push_str(&format!(
        "Selector training: {} measured tasks, best step {} of {}, validation regret {:.2} \
         points, validation Spearman {:.3}, {:.0} s.\n\n",
        r.n_outcomes,
        r.training.best_step,
        r.training.steps,
        100.0 * r.training.valid.regret,
        r.training.valid.spearman,
        r.training.seconds
    ));
    md.push_str("## Held-out tasks\n\n| task | rows | d | K | chosen | acc | params | default | acc | params | oracle | acc | regret | Spearman | ms sel+gen / default |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for t in &r.tasks {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.1} / {:.1} |\n",
            t.task,
            t.n_rows,
            t.n_features,
            t.n_classes,
            t.chosen,
            pct(t.chosen_acc),
            t.chosen_params,
            t.default,
            pct(t.default_acc),
            t.default_params,
            t.oracle,
            pct(t.oracle_acc),
            pct(t.regret),
            t.spearman,
            t.selected_ms,
            t.default_ms
        ));
    }
    md.push_str(&format!(
        "\n## Summary against the targets\n\n\
         | measure | value | target |\n|---|---|---|\n\
         | mean accuracy, chosen | {} | ≥ default ({}) |\n\
         | mean accuracy, oracle | {} | chosen within 1 point (gap {} points) |\n\
         | better than default where the oracle differs from it | {}/{} | ≥ 60% |\n\
         | mean parameters, chosen vs default | {:.0} vs {:.0} | smaller for simple data |\n\
         | mean Spearman (scores vs test accuracy) | {:.3} | — |\n\
         | median time, selector + generator / default generation | {:.2}x | ≤ 2x |\n",
        pct(r.mean_chosen_acc),
        pct(r.mean_default_acc),
        pct(r.mean_oracle_acc),
        pct(r.mean_oracle_acc - r.mean_chosen_acc),
        r.better_than_default,
        r.oracle_differs,
        r.mean_chosen_params,
        r.mean_default_params,
        r.mean_spearman,
        r.median_time_ratio
    ));
    md.push_str(&format!(
        "\n## With the generation cost capped\n\n\
         The shipped selector ranks every member (`max_cost_ratio = {}`). Capped at {}x the \
         default's cost ([`generation_cost`](modelgpt_hypernet::generation_cost), \
         `max_cost_ratio = Some({})`), it trades accuracy for time:\n\n\
         | rule | mean accuracy | gap to oracle | mean parameters | median time / default |\n\
         |---|---|---|---|---|\n\
         | shipped | {} | {} | {:.0} | {:.2}x |\n\
         | capped at {}x | {} | {} | {:.0} | {:.2}x |\n\n\
         Per task (capped): {}.\n",
        r.config_max_cost_ratio
            .map_or_else(|| "None".to_string(), |v| format!("Some({v})")),
        CAPPED_RATIO,
        CAPPED_RATIO,
        pct(r.mean_chosen_acc),
        pct(r.mean_oracle_acc - r.mean_chosen_acc),
        r.mean_chosen_params,
        r.median_time_ratio,
        CAPPED_RATIO,
        pct(r.mean_capped_acc),
        pct(r.mean_oracle_acc - r.mean_capped_acc),
        r.mean_capped_params,
        r.median_capped_time_ratio,
        r.tasks
            .iter()
            .map(|t| format!(
                "{} {} {} ({:.1} / {:.1} ms)",
                t.task,
                t.capped,
                pct(t.capped_acc),
                t.capped_ms,
                t.default_ms
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    md.push_str("\n## Budgets\n\n| max_params | requests | honoured | refused (typed error) | mean acc of answered |\n|---|---|---|---|---|\n");
    for b in &r.budgets {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            b.max_params,
            b.requests,
            b.honoured,
            b.refused,
            pct(b.mean_acc)
        ));
    }
    write_atomic(&dir.join("architecture.md"), md.as_bytes())?;
    Ok(())
}
