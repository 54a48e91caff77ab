//! The tabular experiment: meta-train on catalog tasks (the kernel mode also on synthetic prior
//! tasks), generate models for seen and held-out tasks, compare with per-task training, logistic
//! regression, the majority class, the untrained and the linear-discriminant generators and the
//! reference baselines of `scripts/tabular_baselines.py` (LightGBM, random forest, k-NN), measure
//! what the requirement adds, and write `reports/tabular.{json,md}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use modelgpt_core::TargetFamily;
use modelgpt_core::data::Dataset;
use modelgpt_core::{Modality, RequirementEncoder};
use modelgpt_datasets::Catalog;
use modelgpt_datasets::prior::PriorConfig;
use modelgpt_hypernet::{
    EmbeddingCache, HyperMode, HyperNet, HyperNetConfig, MetaRule, MetaTrainConfig,
    MetaTrainReport, MetaTrainer, PaperTask, PreparedTask, TaskSample,
};
use modelgpt_targets::MlpSpec;
use modelgpt_targets::metrics::accuracy;
use modelgpt_targets::train::{
    EpochStats, LabeledRows, TrainConfig, logistic_regression, majority_accuracy, time_to_reach,
    train_classifier,
};
use serde::{Deserialize, Serialize};

/// Tasks held out of meta-training (22). Siblings that share their data (`vowel0` is `vowel`
/// with another labelling) are held out together, so nothing of a held-out task is seen in
/// training. Several are clearly non-linear (banana, ring, monk-2, phoneme, magic, penbased,
/// vowel, letter), several have a feature or class count no training task has (letter: 26
/// classes, splice: 251 features, movement-libras: 15 classes).
pub const HELDOUT: &[&str] = &[
    "iris",
    "wine",
    "letter",
    "movement-libras",
    "vowel",
    "vowel0",
    "sonar",
    "wdbc",
    "tae",
    "hayes-roth",
    "banana",
    "ring",
    "monk-2",
    "phoneme",
    "magic",
    "penbased",
    "splice",
    "led7digit",
    "ecoli1",
    "pima",
    "saheart",
    "spambase",
];

/// Settings of the experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExperimentConfig {
    /// Seed of splits, training and generation.
    pub seed: u64,
    /// Cap on the training rows the hypernetwork reads per task (meta-training and the sample
    /// statistics); baselines train on the whole training split.
    pub max_train_rows: usize,
    /// Baseline training (per-task MLP and logistic regression).
    pub baseline: TrainConfig,
    /// Meta-training.
    pub meta: MetaTrainConfig,
    /// Kernel mode: synthetic prior tasks added to every meta-training epoch (0: none).
    pub prior_per_epoch: usize,
    /// The synthetic task prior.
    pub prior: PriorConfig,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            max_train_rows: 2000,
            baseline: TrainConfig::new()
                .with_max_epochs(60)
                .with_patience(8)
                .with_seed(42),
            meta: MetaTrainConfig::default(),
            prior_per_epoch: KERNEL_PRIOR_PER_EPOCH,
            prior: PriorConfig::default(),
        }
    }
}

/// Epoch cap of the kernel mode's meta-training (each epoch also trains on
/// [`KERNEL_PRIOR_PER_EPOCH`] prior tasks; about 40 minutes on 2 cores).
pub const KERNEL_EPOCHS: usize = 100;

/// Synthetic prior tasks per meta-training epoch of the kernel mode.
pub const KERNEL_PRIOR_PER_EPOCH: usize = 200;

/// All tabular tasks, prepared (preprocessed and embedded), with a held-out flag.
pub struct TaskSet {
    /// Tasks used for meta-training.
    pub seen: Vec<PreparedTask>,
    /// Tasks never seen in meta-training.
    pub heldout: Vec<PreparedTask>,
}

/// Loads and prepares every tabular catalog task.
///
/// # Errors
/// Missing assets, loader errors.
pub fn prepare_tasks(
    encoder: &dyn RequirementEncoder,
    cache_dir: &Path,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Result<TaskSet> {
    let catalog = Catalog::load()
        .context("loading the task catalog (run `python3 scripts/fetch_assets.py`)")?;
    let mut cache = EmbeddingCache::open(cache_dir.join("embeddings.json"));
    let mut seen = Vec::new();
    let mut heldout = Vec::new();
    let entries: Vec<_> = catalog.by_modality(Modality::Tabular).cloned().collect();
    let bar = progress_bar(
        entries.len(),
        "prepare  [{elapsed_precise}] {bar:30} {pos}/{len} tasks {msg}",
    );
    for entry in entries {
        bar.set_message(entry.name.clone());
        let Dataset::Tabular(data) = catalog.load_task(&entry.name)? else {
            bail!("catalog task {} is not tabular", entry.name)
        };
        let split = entry.split(&data.targets, cfg.seed)?;
        let task = PreparedTask::prepare(
            &entry.name,
            &data,
            &split,
            entry.requirements.clone(),
            encoder,
            &mut cache,
            cfg.max_train_rows,
            device,
        )
        .with_context(|| format!("preparing task {}", entry.name))?;
        if HELDOUT.contains(&entry.name.as_str()) {
            heldout.push(task);
        } else {
            seen.push(task);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    cache.save()?;
    Ok(TaskSet { seen, heldout })
}

/// A progress bar over `len` items with `template` (the plain bar if the template is invalid).
pub(crate) fn progress_bar(len: usize, template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The variant users get: kernel mode, end-to-end rule.
pub const DEFAULT_VARIANT: Variant = Variant {
    mode: HyperMode::Kernel,
    rule: MetaRule::EndToEnd,
};

/// Every variant the quickstart compares, the default first.
pub const ALL_VARIANTS: [Variant; 5] = [
    DEFAULT_VARIANT,
    Variant {
        mode: HyperMode::General,
        rule: MetaRule::EndToEnd,
    },
    Variant {
        mode: HyperMode::General,
        rule: MetaRule::Delta,
    },
    Variant {
        mode: HyperMode::Paper,
        rule: MetaRule::EndToEnd,
    },
    Variant {
        mode: HyperMode::Paper,
        rule: MetaRule::Delta,
    },
];

/// Epoch cap of the comparison variants (keeps the first quickstart run near 10 minutes on 2
/// cores).
pub const COMPARISON_EPOCHS: usize = 150;

/// One meta-training variant (mode x rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Hypernetwork mode.
    pub mode: HyperMode,
    /// Outer rule.
    pub rule: MetaRule,
}

impl Variant {
    /// `general-end_to_end` etc.
    pub fn name(&self) -> String {
        format!("{}-{}", self.mode.as_str(), self.rule.as_str())
    }
}

/// The hypernetwork configuration of one variant over the seen tasks.
pub fn variant_config(variant: Variant, tasks: &TaskSet, encoder_dim: usize) -> HyperNetConfig {
    match variant.mode {
        HyperMode::General => HyperNetConfig::general(encoder_dim),
        HyperMode::Kernel => HyperNetConfig::kernel(encoder_dim),
        HyperMode::Paper => HyperNetConfig::paper(
            encoder_dim,
            tasks
                .seen
                .iter()
                .map(|t| PaperTask {
                    name: t.name.clone(),
                    n_features: t.cols,
                    n_classes: t.n_classes(),
                })
                .collect(),
        ),
    }
}

/// Meta-trains (or loads the cached checkpoint of) one variant.
///
/// # Errors
/// Training and checkpoint errors.
pub fn meta_train(
    variant: Variant,
    tasks: &TaskSet,
    encoder: &dyn RequirementEncoder,
    cache_dir: &Path,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Result<(HyperNet, HyperNetConfig, MetaTrainReport, f64)> {
    let hyper = variant_config(variant, tasks, encoder.embed_dim());
    let mut meta = cfg.meta.clone();
    meta.rule = variant.rule;
    meta.seed = cfg.seed;
    if variant.mode == HyperMode::Kernel {
        meta.epochs = meta.epochs.min(KERNEL_EPOCHS);
    } else if variant != DEFAULT_VARIANT {
        meta.epochs = meta.epochs.min(COMPARISON_EPOCHS);
    }
    let dir = cache_dir.join(format!("tabular-{}", variant.name()));
    let t0 = Instant::now();
    let mut trainer = MetaTrainer::new(hyper.clone(), meta).with_checkpoint_dir(&dir);
    if variant.mode != HyperMode::Paper {
        // Held-out validation accuracy per epoch: the learning curve (the paper mode cannot
        // serve held-out tasks).
        trainer = trainer.with_monitor(tasks.heldout.clone());
    }
    let mut prior = if variant.mode == HyperMode::Kernel && cfg.prior_per_epoch > 0 {
        Some(crate::prior::PriorSource::new(
            cfg.prior.clone(),
            cfg.prior_per_epoch,
            encoder,
            cfg.max_train_rows,
            device,
        )?)
    } else {
        None
    };
    let run = |prior: &mut Option<crate::prior::PriorSource>| match prior {
        Some(source) => trainer.train_with(&tasks.seen, Some(source), device),
        None => trainer.train(&tasks.seen, device),
    };
    let (model, report) = match run(&mut prior) {
        // A cache written by another configuration (e.g. an older version): train afresh.
        Err(modelgpt_hypernet::Error::CheckpointMismatch { .. }) => {
            eprintln!(
                "{}: cached checkpoint is for another configuration; retraining",
                dir.display()
            );
            std::fs::remove_dir_all(&dir)?;
            run(&mut prior)?
        }
        other => other?,
    };
    Ok((model, hyper, report, t0.elapsed().as_secs_f64()))
}

/// The hypernetwork of one variant: the checkpoint shipped with `modelgpt-hypernet`
/// ([`modelgpt_hypernet::shipped::tabular_variant`]), or with `retrain` a fresh meta-training run
/// ([`meta_train`], cached in `cache_dir`). Returns the meta-training wall time of the run that
/// made it.
///
/// # Errors
/// Without `retrain`: when `cfg` or the task list differ from what the shipped checkpoint was
/// made with (pass `--retrain`). With it: as [`meta_train`].
pub fn hypernet_for(
    variant: Variant,
    tasks: &TaskSet,
    encoder: &dyn RequirementEncoder,
    cache_dir: &Path,
    cfg: &ExperimentConfig,
    retrain: bool,
    device: &Device,
) -> Result<(HyperNet, HyperNetConfig, MetaTrainReport, f64)> {
    if retrain {
        return meta_train(variant, tasks, encoder, cache_dir, cfg, device);
    }
    let default = ExperimentConfig::default();
    let (hyper, config, report) =
        modelgpt_hypernet::shipped::tabular_variant(variant.mode, variant.rule, device)?;
    let same_settings = cfg.meta == default.meta
        && cfg.seed == default.seed
        && cfg.max_train_rows == default.max_train_rows
        && cfg.prior_per_epoch == default.prior_per_epoch
        && cfg.prior == default.prior;
    if !same_settings || config != variant_config(variant, tasks, encoder.embed_dim()) {
        bail!(
            "the shipped {} checkpoint was meta-trained with the default settings on the default \
             seen tasks; this run differs: pass --retrain to meta-train it",
            variant.name()
        );
    }
    let report = report.context("the shipped checkpoint has no meta-training report")?;
    let secs = report.history.last().map_or(0.0, |e| e.elapsed_s);
    Ok((hyper, config, report, secs))
}

/// Baseline results of one task (cached: they do not depend on the hypernetwork).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baselines {
    /// Test accuracy of the per-task trained MLP (same shape as the generated one).
    pub finetuned_acc: f64,
    /// Test accuracy of logistic regression.
    pub logreg_acc: f64,
    /// Test accuracy of predicting the training majority class.
    pub majority_acc: f64,
    /// Per-epoch history of the per-task MLP (validation accuracy, cumulative wall time).
    pub history: Vec<EpochStats>,
    /// Best validation accuracy of the per-task MLP.
    pub best_valid_acc: f64,
}

/// Trains the baselines of `task`.
///
/// # Errors
/// Training errors.
pub fn baselines(
    task: &PreparedTask,
    hyper: &HyperNetConfig,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Result<Baselines> {
    let k = task.n_classes();
    let tr = LabeledRows::new(&task.train_full.x, task.cols, &task.train_full.y)?;
    let va = LabeledRows::new(&task.valid.x, task.cols, &task.valid.y)?;
    let spec: MlpSpec = hyper.mlp_spec_for_rows(task.cols, k, user_rows(task).len());
    let mlp = train_classifier(&spec, None, tr, va, &cfg.baseline, device, None)?;
    let test_acc = |m: &modelgpt_targets::Mlp| -> Result<f64> {
        let x = task.test.x_tensor(task.cols, device);
        Ok(accuracy(m.forward(x), &task.test.y)?)
    };
    let tr = LabeledRows::new(&task.train_full.x, task.cols, &task.train_full.y)?;
    let va = LabeledRows::new(&task.valid.x, task.cols, &task.valid.y)?;
    let lr = logistic_regression(k, tr, va, &cfg.baseline, device, None)?;
    Ok(Baselines {
        finetuned_acc: test_acc(&mlp.model)?,
        logreg_acc: test_acc(&lr.model)?,
        majority_acc: majority_accuracy(&task.train_full.y, &task.test.y) as f64,
        history: mlp.history,
        best_valid_acc: mlp.best_valid_acc as f64,
    })
}

/// Baselines for all tasks, cached in `cache_dir/tabular-baselines.json`.
///
/// # Errors
/// Training and I/O errors.
pub fn all_baselines(
    tasks: &[&PreparedTask],
    hyper: &HyperNetConfig,
    cache_dir: &Path,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Result<BTreeMap<String, Baselines>> {
    let path = cache_dir.join("tabular-baselines.json");
    let key = serde_json::to_string(&(
        &cfg.baseline,
        cfg.seed,
        cfg.max_train_rows,
        hyper.target_width,
        hyper.max_target_width,
        hyper.target_depth,
    ))?;
    let mut cached: (String, BTreeMap<String, Baselines>) = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|(k, _): &(String, BTreeMap<String, Baselines>)| *k == key)
        .unwrap_or_else(|| (key.clone(), BTreeMap::new()));
    let todo: Vec<&&PreparedTask> = tasks
        .iter()
        .filter(|t| !cached.1.contains_key(&t.name))
        .collect();
    if !todo.is_empty() {
        let bar = progress_bar(
            todo.len(),
            "baseline [{elapsed_precise}] {bar:30} {pos}/{len} tasks, ETA {eta} {msg}",
        );
        for t in todo {
            bar.set_message(t.name.clone());
            let b = baselines(t, hyper, cfg, device)
                .with_context(|| format!("baselines of {}", t.name))?;
            cached.1.insert(t.name.clone(), b);
            modelgpt_hypernet::write_atomic(&path, &serde_json::to_vec(&cached)?)?;
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    Ok(cached.1)
}

/// One row of `reports/tabular.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    /// Task name.
    pub task: String,
    /// `seen` or `heldout`.
    pub split: String,
    /// Test accuracy of the generated model.
    pub generated_acc: f64,
    /// Test accuracy of the per-task trained MLP.
    pub finetuned_acc: f64,
    /// Test accuracy of the majority class.
    pub majority_acc: f64,
    /// Test accuracy of logistic regression.
    pub logreg_acc: f64,
    /// Generation latency (median of repeats): sample statistics + hypernetwork forward +
    /// materialisation, with the task's texts already embedded.
    pub generation_ms: f64,
    /// Encoding the requirement, feature names and label names without cache.
    pub encode_ms: f64,
    /// Time the per-task MLP needed to reach the generated model's validation accuracy (its
    /// whole training time when it never did).
    pub finetune_ms: f64,
    /// Whether the per-task MLP reached the generated model's validation accuracy.
    pub reached: bool,
    /// Preprocessed feature count.
    pub n_features: usize,
    /// Class count.
    pub n_classes: usize,
    /// Held-out task whose feature or class count no training task has.
    pub unseen_shape: bool,
    /// Validation accuracy of the generated model.
    pub generated_valid_acc: f64,
    /// Test accuracy of the untrained generator of the same mode (epoch 0 of meta-training).
    pub untrained_acc: f64,
    /// Test accuracy of today's closed-form linear-discriminant generator (the untrained
    /// general mode).
    pub lda_generator_acc: f64,
    /// Reference baselines from `scripts/tabular_baselines.py` (default settings, same splits),
    /// when its results are present and match the split.
    #[serde(default)]
    pub reference: Option<ReferenceBaselines>,
}

/// What `scripts/tabular_baselines.py` measured for one task (scikit-learn and LightGBM with
/// default settings, fitted on the same preprocessed training split).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceBaselines {
    /// LightGBM test accuracy.
    pub lightgbm: f64,
    /// LightGBM fit time, ms.
    pub lightgbm_fit_ms: f64,
    /// Random forest test accuracy.
    pub random_forest: f64,
    /// k-nearest-neighbours (k = 5) test accuracy.
    pub knn: f64,
    /// scikit-learn logistic regression test accuracy.
    pub logreg: f64,
}

/// Fingerprint of a task's split (rows, columns and a hash of the labels and features), written
/// beside the exported split and checked when the reference results are merged.
pub fn split_fingerprint(task: &PreparedTask) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for part in [&task.train_full, &task.test] {
        part.y.hash(&mut h);
        for v in &part.x {
            v.to_bits().hash(&mut h);
        }
    }
    format!(
        "{}x{}+{}:{:016x}",
        task.train_full.rows(),
        task.cols,
        task.test.rows(),
        h.finish()
    )
}

/// Writes every task's preprocessed training and test split as CSV (`f0..`, `label`) with a
/// `meta.json` (task, fingerprint) into `dir/{task}/`, for `scripts/tabular_baselines.py`.
/// Folders whose fingerprint is current are left alone.
///
/// # Errors
/// I/O errors.
pub fn export_splits(tasks: &TaskSet, dir: &Path) -> Result<()> {
    for task in tasks.seen.iter().chain(&tasks.heldout) {
        let folder = dir.join(&task.name);
        let fp = split_fingerprint(task);
        let meta_path = folder.join("meta.json");
        let current = std::fs::read(&meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|m| m["fingerprint"] == fp.as_str());
        if current {
            continue;
        }
        std::fs::create_dir_all(&folder)?;
        for (file, part) in [("train.csv", &task.train_full), ("test.csv", &task.test)] {
            let mut out = String::new();
            for j in 0..task.cols {
                out.push_str(&format!("f{j},"));
            }
            out.push_str("label\n");
            for (r, y) in part.y.iter().enumerate() {
                for v in &part.x[r * task.cols..(r + 1) * task.cols] {
                    out.push_str(&format!("{v},"));
                }
                out.push_str(&format!("{y}\n"));
            }
            modelgpt_hypernet::write_atomic(&folder.join(file), out.as_bytes())?;
        }
        let meta = serde_json::json!({"task": task.name, "fingerprint": fp});
        modelgpt_hypernet::write_atomic(&meta_path, &serde_json::to_vec_pretty(&meta)?)?;
    }
    Ok(())
}

/// Reads `path` (written by `scripts/tabular_baselines.py`): the reference baselines of every
/// task whose split fingerprint matches the current one. A missing file gives an empty map.
///
/// # Errors
/// A file that is present but not the script's JSON.
pub fn read_reference(
    path: &Path,
    tasks: &TaskSet,
) -> Result<BTreeMap<String, ReferenceBaselines>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(BTreeMap::new());
    };
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let mut out = BTreeMap::new();
    for task in tasks.seen.iter().chain(&tasks.heldout) {
        let row = &v["tasks"][&task.name];
        if row["fingerprint"] != split_fingerprint(task).as_str() {
            continue;
        }
        let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        out.insert(
            task.name.clone(),
            ReferenceBaselines {
                lightgbm: f("lightgbm"),
                lightgbm_fit_ms: f("lightgbm_fit_ms"),
                random_forest: f("random_forest"),
                knn: f("knn"),
                logreg: f("logreg"),
            },
        );
    }
    Ok(out)
}

/// Median wall time of `reps` generations of `task`'s model, in milliseconds: the sample
/// statistics (class means, discriminant directions) from [`user_rows`], the context,
/// the hypernetwork forward and the materialisation into an `Mlp`. The texts' embeddings are
/// taken as given (see [`encode_ms`]).
///
/// # Errors
/// Generation errors.
pub fn generation_ms(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    task: &PreparedTask,
    reps: usize,
    device: &Device,
) -> Result<f64> {
    let all = user_rows(task);
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t0 = Instant::now();
        let sample = TaskSample::from_rows(
            &task.train_full.x,
            task.cols,
            &task.train_full.y,
            &all,
            task.n_classes(),
        )?;
        let ctx = task.context(0, &sample, device);
        let tensors = hyper.generate_tensors(&task.name, &ctx)?;
        let (family, params) = config.family_and_params(tensors)?;
        let mlp = family.materialize(params, device)?;
        // Read one weight back so that lazy backends finish the work inside the timing.
        let _ = mlp.layers()[0].weight.val().into_data();
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Wall time of encoding a task's requirement, feature names and label names from scratch
/// (no cache), in milliseconds.
///
/// # Errors
/// Encoder errors.
pub fn encode_ms(
    encoder: &dyn RequirementEncoder,
    task: &PreparedTask,
    device: &Device,
) -> Result<f64> {
    let mut texts: Vec<String> = vec![task.requirements[0].clone()];
    texts.extend(
        task.feature_names
            .iter()
            .map(|n| modelgpt_hypernet::feature_text(n)),
    );
    texts.extend(task.label_names.iter().cloned());
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t0 = Instant::now();
    let e = encoder.encode(&refs, device)?;
    let _ = e.into_data();
    Ok(t0.elapsed().as_secs_f64() * 1e3)
}

/// Evaluates a trained hypernetwork on all tasks.
///
/// # Errors
/// Generation errors (paper mode skips held-out tasks instead).
pub fn evaluate(
    encoder: &dyn RequirementEncoder,
    hyper: &HyperNet,
    config: &HyperNetConfig,
    tasks: &TaskSet,
    base: &BTreeMap<String, Baselines>,
    reference: &BTreeMap<String, ReferenceBaselines>,
    device: &Device,
) -> Result<Vec<TaskResult>> {
    // The untrained generator of this mode (its correction heads start at zero, so its output
    // does not depend on the random trunk) and today's linear-discriminant generator.
    let untrained = config.init(device);
    let lda_config = HyperNetConfig::general(config.d_embed);
    let lda = lda_config.init(device);
    let seen_features: std::collections::HashSet<usize> =
        tasks.seen.iter().map(|t| t.cols).collect();
    let seen_classes: std::collections::HashSet<usize> =
        tasks.seen.iter().map(|t| t.n_classes()).collect();
    let mut out = Vec::new();
    for (split, list) in [("seen", &tasks.seen), ("heldout", &tasks.heldout)] {
        for task in list.iter() {
            // What a user gets: the model generated from the whole training split (capped as
            // `TabularModelGpt::generate` caps it).
            let ctx = task.context(0, &user_sample(task)?, device);
            let gen_test = match accuracy_with(hyper, config, task, &ctx, &task.test, device) {
                Ok(a) => a,
                Err(modelgpt_hypernet::Error::UnseenTask { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let gen_valid = accuracy_with(hyper, config, task, &ctx, &task.valid, device)?;
            let b = &base[&task.name];
            let reach = time_to_reach(&b.history, gen_valid as f32);
            let total = b.history.last().map(|h| h.elapsed_ms).unwrap_or(0.0);
            out.push(TaskResult {
                task: task.name.clone(),
                split: split.to_string(),
                generated_acc: gen_test,
                finetuned_acc: b.finetuned_acc,
                majority_acc: b.majority_acc,
                logreg_acc: b.logreg_acc,
                generation_ms: generation_ms(hyper, config, task, 7, device)?,
                encode_ms: encode_ms(encoder, task, device)?,
                finetune_ms: reach.unwrap_or(total),
                reached: reach.is_some(),
                n_features: task.cols,
                n_classes: task.n_classes(),
                unseen_shape: split == "heldout"
                    && (!seen_features.contains(&task.cols)
                        || !seen_classes.contains(&task.n_classes())),
                generated_valid_acc: gen_valid,
                untrained_acc: accuracy_with(&untrained, config, task, &ctx, &task.test, device)?,
                lda_generator_acc: accuracy_with(
                    &lda,
                    &lda_config,
                    task,
                    &ctx,
                    &task.test,
                    device,
                )?,
                reference: reference.get(&task.name).cloned(),
            });
        }
    }
    Ok(out)
}

/// Summary numbers of one variant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Variant name.
    pub variant: String,
    /// Mean generated / mean trained-MLP accuracy on seen tasks.
    pub seen_ratio: f64,
    /// Same on held-out tasks (NaN when the variant cannot serve them).
    pub heldout_ratio: f64,
    /// Held-out tasks where the generated model beats the majority class.
    pub heldout_above_majority: usize,
    /// Held-out tasks evaluated.
    pub heldout_count: usize,
    /// Median generation latency, ms.
    pub median_generation_ms: f64,
    /// Median speedup (time to equal accuracy / generation time).
    pub median_speedup: f64,
    /// Median speedup counting uncached text encoding as part of generation.
    pub median_speedup_with_encoding: f64,
    /// Median uncached encoding time, ms.
    pub median_encode_ms: f64,
    /// Meta-training wall time in this run (0 when loaded from cache), seconds.
    pub meta_train_s: f64,
    /// Best mean validation accuracy during meta-training and its epoch.
    pub best_valid_acc: f64,
    /// Epoch of the best checkpoint.
    pub best_epoch: usize,
    /// Held-out means (NaN where a column is unavailable): generated, trained MLP, untrained
    /// generator, linear-discriminant generator, LightGBM, random forest, k-NN (the last three
    /// over the tasks with reference results).
    pub heldout_means: HeldoutMeans,
}

/// Mean test accuracies over the held-out tasks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeldoutMeans {
    /// Generated models.
    pub generated: f64,
    /// Per-task trained MLPs.
    pub trained_mlp: f64,
    /// The untrained generator of the same mode.
    pub untrained: f64,
    /// Today's linear-discriminant generator.
    pub lda_generator: f64,
    /// Logistic regression (ours).
    pub logreg: f64,
    /// LightGBM (reference script).
    pub lightgbm: f64,
    /// Random forest (reference script).
    pub random_forest: f64,
    /// k-NN (reference script).
    pub knn: f64,
    /// Tasks with reference results.
    pub n_reference: usize,
    /// Median over the held-out tasks with reference results of LightGBM's fit time /
    /// generation time.
    #[serde(default)]
    pub median_speedup_vs_lightgbm: f64,
}

fn fmt_opt(v: f64) -> String {
    if v.is_nan() {
        "n/a (run scripts/tabular_baselines.py)".to_string()
    } else {
        format!("{v:.4}")
    }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Summarises a variant's results.
pub fn summarise(
    variant: &str,
    rows: &[TaskResult],
    report: &MetaTrainReport,
    meta_train_s: f64,
) -> Summary {
    fn part<'a>(rows: &'a [TaskResult], s: &'static str) -> impl Iterator<Item = &'a TaskResult> {
        rows.iter().filter(move |r| r.split == s)
    }
    let ratio = |s: &'static str| {
        mean(part(rows, s).map(|r| r.generated_acc)) / mean(part(rows, s).map(|r| r.finetuned_acc))
    };
    Summary {
        variant: variant.to_string(),
        seen_ratio: ratio("seen"),
        heldout_ratio: ratio("heldout"),
        heldout_above_majority: part(rows, "heldout")
            .filter(|r| r.generated_acc > r.majority_acc)
            .count(),
        heldout_count: part(rows, "heldout").count(),
        median_generation_ms: median(rows.iter().map(|r| r.generation_ms).collect()),
        median_speedup: median(
            rows.iter()
                .map(|r| r.finetune_ms / r.generation_ms.max(1e-9))
                .collect(),
        ),
        median_speedup_with_encoding: median(
            rows.iter()
                .map(|r| r.finetune_ms / (r.generation_ms + r.encode_ms).max(1e-9))
                .collect(),
        ),
        median_encode_ms: median(rows.iter().map(|r| r.encode_ms).collect()),
        meta_train_s,
        best_valid_acc: report.best_valid_acc,
        best_epoch: report.best_epoch,
        heldout_means: {
            let held: Vec<&TaskResult> = part(rows, "heldout").collect();
            let refd: Vec<(&TaskResult, &ReferenceBaselines)> = held
                .iter()
                .filter_map(|r| r.reference.as_ref().map(|b| (*r, b)))
                .collect();
            let m = |f: &dyn Fn(&TaskResult) -> f64| mean(held.iter().map(|r| f(r)));
            let all_ref = refd.len() == held.len() && !held.is_empty();
            let mr = |f: &dyn Fn(&ReferenceBaselines) -> f64| {
                if all_ref {
                    mean(refd.iter().map(|(_, b)| f(b)))
                } else {
                    f64::NAN
                }
            };
            HeldoutMeans {
                generated: m(&|r| r.generated_acc),
                trained_mlp: m(&|r| r.finetuned_acc),
                untrained: m(&|r| r.untrained_acc),
                lda_generator: m(&|r| r.lda_generator_acc),
                logreg: m(&|r| r.logreg_acc),
                lightgbm: mr(&|b| b.lightgbm),
                random_forest: mr(&|b| b.random_forest),
                knn: mr(&|b| b.knn),
                n_reference: refd.len(),
                median_speedup_vs_lightgbm: median(
                    held.iter()
                        .filter_map(|r| {
                            r.reference
                                .as_ref()
                                .map(|b| b.lightgbm_fit_ms / r.generation_ms.max(1e-9))
                        })
                        .collect(),
                ),
            }
        },
    }
}

/// Writes `reports/tabular.json` (rows of the default variant) and `reports/tabular.md`.
///
/// # Errors
/// I/O errors.
pub fn write_reports(
    dir: &Path,
    default_rows: &[TaskResult],
    summaries: &[Summary],
    curves: &[FinetuneCurves],
    ablation: &[AblationRow],
    learning: &MetaTrainReport,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join("tabular.json");
    modelgpt_hypernet::write_atomic(&json, &serde_json::to_vec_pretty(default_rows)?)?;
    let mut md = String::new();
    md.push_str("# Tabular ModelGPT: generated vs trained models\n\n");
    let kernel = HyperNetConfig::kernel(0);
    md.push_str(&format!(
        "Produced by `cargo run --release --example quickstart` on {device:?}, {} CPU threads. Seed {}; meta-training reads at most {} training rows per task; a generated model reads the whole training split \
         (at most {} rows, stratified, as `TabularModelGpt::generate` does); \
         per-task MLP baseline: Adam lr {}, up to {} epochs, early stopping (patience {}), trained on the whole training split, with the shape \
         of the generated model (kernel mode: 1 hidden layer of {} ReLU units; general and paper modes: {} hidden layers of {}, LeakyReLU). \
         LightGBM, random forest (scikit-learn), k-NN (k = 5) and scikit-learn's logistic regression use default settings and the same \
         preprocessed splits; they come from `scripts/tabular_baselines.py` (`reports/tabular_baselines.json`) and are merged when \
         present and matching the splits.\n\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        cfg.seed,
        cfg.max_train_rows,
        modelgpt_hypernet::MAX_SAMPLE_ROWS,
        cfg.baseline.lr,
        cfg.baseline.max_epochs,
        cfg.baseline.patience,
        kernel.target_width,
        HyperNetConfig::general(0).target_depth,
        HyperNetConfig::general(0).target_width,
    ));
    md.push_str("## Variants (mode x meta-training rule)\n\n");
    md.push_str("| variant | seen: generated/trained | held-out: generated/trained | held-out above majority | held-out mean: generated / untrained / LDA generator / trained MLP | median generation ms | median speedup | best mean valid acc (epoch) | meta-train s |\n|---|---|---|---|---|---|---|---|---|\n");
    for s in summaries {
        let h = &s.heldout_means;
        md.push_str(&format!(
            "| {} | {:.3} | {} | {}/{} | {} | {:.3} | {:.0}x | {:.3} ({}) | {:.0} |\n",
            s.variant,
            s.seen_ratio,
            if s.heldout_ratio.is_nan() {
                "n/a (cannot serve unseen tasks)".to_string()
            } else {
                format!("{:.3}", s.heldout_ratio)
            },
            s.heldout_above_majority,
            s.heldout_count,
            if h.generated.is_nan() {
                "n/a".to_string()
            } else {
                format!(
                    "{:.3} / {:.3} / {:.3} / {:.3}",
                    h.generated, h.untrained, h.lda_generator, h.trained_mlp
                )
            },
            s.median_generation_ms,
            s.median_speedup,
            s.best_valid_acc,
            s.best_epoch,
            s.meta_train_s
        ));
    }
    md.push_str(&format!(
        "\nMeta-training: Adam lr {}, batch {}, {} steps per catalog task per epoch, up to {} epochs for the default variant and {} for the others, \
         patience {}; epoch 0 is the untrained generator (in kernel mode the plain random-feature discriminant, in general mode the \
         linear discriminant). The paper mode has per-task heads and cannot serve held-out tasks. \
         The hypernetworks are the checkpoints shipped in `modelgpt-hypernet/checkpoints/` (made by this code: \
         `cargo run --release -p modelgpt-experiments --bin checkpoints`; `--retrain` meta-trains them afresh); \
         `meta-train s` is the wall time of the run that made them.\n",
        cfg.meta.lr, cfg.meta.batch_size, cfg.meta.steps_per_task, cfg.meta.epochs, cfg.meta.epochs.min(COMPARISON_EPOCHS), cfg.meta.patience
    ));
    if let Some(s) = summaries.first() {
        let h = &s.heldout_means;
        let miss = |ok: bool| if ok { "met" } else { "MISSED" };
        md.push_str(&format!(
            "\n## Held-out tasks (default variant `{}`, {} tasks)\n\n| model | mean test accuracy |\n|---|---|\n\
             | generated (meta-trained) | {:.4} |\n| generated (untrained generator) | {:.4} |\n| linear-discriminant generator | {:.4} |\n\
             | per-task trained MLP | {:.4} |\n| logistic regression | {:.4} |\n| LightGBM | {} |\n| random forest | {} |\n| k-NN | {} |\n\n",
            s.variant,
            s.heldout_count,
            h.generated,
            h.untrained,
            h.lda_generator,
            h.trained_mlp,
            h.logreg,
            fmt_opt(h.lightgbm),
            fmt_opt(h.random_forest),
            fmt_opt(h.knn),
        ));
        md.push_str(&format!(
            "Targets: generated >= 0.98 x trained MLP ({:.3}: {}); >= LightGBM ({}) and >= random forest ({}); above majority on every held-out task \
             ({}/{}: {}); meta-training beats its untrained start and the LDA generator by >= 0.03 ({:+.3} and {:+.3}: {}); \
             median generation <= 2 ms ({:.2} ms: {}); median speedup >= 300x ({:.0}x: {}); median speedup over LightGBM's fit >= 100x \
             ({:.1}x over {} tasks: {}).\n\n",
            h.generated / h.trained_mlp,
            miss(h.generated >= 0.98 * h.trained_mlp),
            if h.lightgbm.is_nan() { "no reference results".to_string() } else { format!("{:.3} vs {:.3}: {}", h.generated, h.lightgbm, miss(h.generated >= h.lightgbm)) },
            if h.random_forest.is_nan() { "no reference results".to_string() } else { format!("{:.3} vs {:.3}: {}", h.generated, h.random_forest, miss(h.generated >= h.random_forest)) },
            s.heldout_above_majority,
            s.heldout_count,
            miss(s.heldout_above_majority == s.heldout_count),
            h.generated - h.untrained,
            h.generated - h.lda_generator,
            miss(h.generated - h.untrained >= 0.03 && h.generated - h.lda_generator >= 0.03),
            s.median_generation_ms,
            miss(s.median_generation_ms <= 2.0),
            s.median_speedup,
            miss(s.median_speedup >= 300.0),
            h.median_speedup_vs_lightgbm,
            h.n_reference,
            miss(h.median_speedup_vs_lightgbm >= 100.0),
        ));
        md.push_str(&format!(
            "Generation time = the sample statistics + the hypernetwork forward (kernel mode: the hidden-unit features of the sample and the \
             closed-form discriminant solve) + materialisation of the MLP. Encoding the requirement, feature names and label names with MiniLM is \
             reported apart (median {:.1} ms uncached; strings are cached across calls). Speedup = wall time the per-task MLP needed to \
             reach the generated model's validation accuracy / generation time.\n\n",
            s.median_encode_ms
        ));
    }
    md.push_str("## Per task (default variant)\n\n| task | split | features | classes | generated | untrained | LDA gen. | trained MLP | logreg | LightGBM | RF | k-NN | majority | generation ms | speedup |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in default_rows {
        let rf = |f: &dyn Fn(&ReferenceBaselines) -> f64| {
            r.reference
                .as_ref()
                .map_or("-".to_string(), |b| format!("{:.3}", f(b)))
        };
        md.push_str(&format!(
            "| {}{} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {:.3} | {:.3} | {:.0}x{} |\n",
            r.task,
            if r.unseen_shape { " *" } else { "" },
            r.split,
            r.n_features,
            r.n_classes,
            r.generated_acc,
            r.untrained_acc,
            r.lda_generator_acc,
            r.finetuned_acc,
            r.logreg_acc,
            rf(&|b| b.lightgbm),
            rf(&|b| b.random_forest),
            rf(&|b| b.knn),
            r.majority_acc,
            r.generation_ms,
            r.finetune_ms / r.generation_ms.max(1e-9),
            if r.reached { "" } else { " (never reached)" },
        ));
    }
    md.push_str("\n`*`: held-out task whose feature count or class count no training task has.\n\
                 Speedup: wall time of the per-task MLP's training until its validation accuracy first reached the generated model's \
                 (epoch 0, the random init, counts; when it never did, its whole training time), over the generation time.\n");
    if !curves.is_empty() {
        md.push_str("\n## ModelGPT-F: finetuning from generated weights vs from random init (held-out tasks)\n\n![curves](finetune_curves.png)\n\n\
                     | task | generated (0 epochs) | ModelGPT-F (1 epoch) | random init, 1 epoch | valid acc after 1 / 5 / 20 epochs from generated | from random |\n|---|---|---|---|---|---|\n");
        for c in curves {
            let at = |v: &[f64], i: usize| v.get(i).or(v.last()).copied().unwrap_or(f64::NAN);
            let gen_test = default_rows
                .iter()
                .find(|r| r.task == c.task)
                .map(|r| r.generated_acc)
                .unwrap_or(f64::NAN);
            md.push_str(&format!(
                "| {} | {:.3} | {:.3} | {:.3} | {:.3} / {:.3} / {:.3} | {:.3} / {:.3} / {:.3} |\n",
                c.task,
                gen_test,
                c.modelgpt_f_test_acc,
                c.random_1epoch_test_acc,
                at(&c.from_generated, 1),
                at(&c.from_generated, 5),
                at(&c.from_generated, 20),
                at(&c.from_random, 1),
                at(&c.from_random, 5),
                at(&c.from_random, 20)
            ));
        }
        md.push_str("\nTest accuracies in the first three columns; validation accuracies in the last two. Same optimiser, learning rate, batch size and seed for both starts.\n");
    }
    if !ablation.is_empty() {
        let m = |f: &dyn Fn(&AblationRow) -> f64| mean(ablation.iter().map(f));
        md.push_str(&format!(
            "\n## What the requirement adds (held-out tasks, default variant)\n\n\
             Mean test accuracy with the task's own requirement {:.4}, another task's requirement {:.4}, the empty sentence {:.4}; \
             tasks where the three differ: {}/{}.\n",
            m(&|r| r.true_requirement),
            m(&|r| r.shuffled_requirement),
            m(&|r| r.empty_requirement),
            ablation
                .iter()
                .filter(|r| r.true_requirement != r.shuffled_requirement || r.true_requirement != r.empty_requirement)
                .count(),
            ablation.len()
        ));
    }
    if !learning.history.is_empty() {
        md.push_str("\n## Learning curve of the default variant\n\n| epoch | prior tasks seen | mean valid acc, seen tasks (selection) | mean valid acc, held-out tasks (monitor) | elapsed s |\n|---|---|---|---|---|\n");
        let step = (learning.history.len() / 12).max(1);
        for (i, e) in learning.history.iter().enumerate() {
            if i % step == 0 || i + 1 == learning.history.len() || e.epoch == learning.best_epoch {
                md.push_str(&format!(
                    "| {}{} | {} | {:.4} | {} | {:.0} |\n",
                    e.epoch,
                    if e.epoch == learning.best_epoch {
                        " (best)"
                    } else {
                        ""
                    },
                    e.extra_tasks_seen,
                    e.mean_valid_acc,
                    e.monitor_valid_acc
                        .map_or("-".to_string(), |v| format!("{v:.4}")),
                    e.elapsed_s
                ));
            }
        }
        if let Some(last) = learning.history.last()
            && last.elapsed_s > 0.0
            && last.extra_tasks_seen > 0
        {
            md.push_str(&format!(
                "\nThroughput: {:.1} prior tasks per second of meta-training (catalog steps included).\n",
                last.extra_tasks_seen as f64 / last.elapsed_s
            ));
        }
    }
    let mdp = dir.join("tabular.md");
    modelgpt_hypernet::write_atomic(&mdp, md.as_bytes())?;
    Ok((json, mdp))
}

/// Test accuracy of the default variant on one held-out task with the task's own requirement, with
/// another task's requirement, and with the empty sentence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AblationRow {
    /// Task name.
    pub task: String,
    /// The task's own requirement (the report's number).
    pub true_requirement: f64,
    /// The next held-out task's requirement.
    pub shuffled_requirement: f64,
    /// The embedding of the empty sentence.
    pub empty_requirement: f64,
}

fn accuracy_with(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    task: &PreparedTask,
    ctx: &modelgpt_hypernet::TaskContext,
    split: &modelgpt_hypernet::SplitData,
    device: &Device,
) -> Result<f64, modelgpt_hypernet::Error> {
    let tensors = hyper.generate_tensors(&task.name, ctx)?;
    let (family, params) = config.family_and_params(tensors)?;
    let logits = family.try_forward_with(&params, split.x_tensor(task.cols, device))?;
    Ok(accuracy(logits, &split.y)?)
}

/// The training rows a user's generation reads, as `TabularModelGpt::generate` reads them: the
/// whole training split, stratified-subsampled to
/// [`MAX_SAMPLE_ROWS`](modelgpt_hypernet::MAX_SAMPLE_ROWS) beyond.
pub fn user_rows(task: &PreparedTask) -> Vec<usize> {
    let all: Vec<usize> = (0..task.train_full.rows()).collect();
    let max = modelgpt_hypernet::MAX_SAMPLE_ROWS;
    if all.len() <= max {
        return all;
    }
    let mut rows =
        modelgpt_core::data::sample_stratified(&task.train_full.y, &all, task.n_classes(), max, 0);
    rows.sort_unstable();
    rows
}

/// The sample statistics of [`user_rows`].
///
/// # Errors
/// Sample errors (never for a prepared task).
pub fn user_sample(task: &PreparedTask) -> Result<TaskSample> {
    Ok(TaskSample::from_rows(
        &task.train_full.x,
        task.cols,
        &task.train_full.y,
        &user_rows(task),
        task.n_classes(),
    )?)
}

/// What the requirement sentence adds: every held-out task generated with its own requirement,
/// a shuffled one (the next held-out task's) and the empty sentence.
///
/// # Errors
/// Generation and encoder errors.
pub fn requirement_ablation(
    encoder: &dyn RequirementEncoder,
    hyper: &HyperNet,
    config: &HyperNetConfig,
    tasks: &TaskSet,
    device: &Device,
) -> Result<Vec<AblationRow>> {
    let empty = encoder.encode(&[""], device)?;
    let n = tasks.heldout.len();
    let mut out = Vec::with_capacity(n);
    for (i, task) in tasks.heldout.iter().enumerate() {
        let mut ctx = task.context(0, &user_sample(task)?, device);
        let true_requirement = accuracy_with(hyper, config, task, &ctx, &task.test, device)?;
        ctx.requirement = tasks.heldout[(i + 1) % n].requirement_embedding(0, device);
        let shuffled_requirement = accuracy_with(hyper, config, task, &ctx, &task.test, device)?;
        ctx.requirement = empty.clone();
        let empty_requirement = accuracy_with(hyper, config, task, &ctx, &task.test, device)?;
        out.push(AblationRow {
            task: task.name.clone(),
            true_requirement,
            shuffled_requirement,
            empty_requirement,
        });
    }
    Ok(out)
}

/// Validation-accuracy curves of finetuning one task from the generated weights (ModelGPT-F) and
/// from a random initialisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinetuneCurves {
    /// Task name.
    pub task: String,
    /// Validation accuracy per epoch (epoch 0 = before any step), from the generated weights.
    pub from_generated: Vec<f64>,
    /// Same, from random initialisation.
    pub from_random: Vec<f64>,
    /// Test accuracy after one epoch from the generated weights (ModelGPT-F, paper §3).
    pub modelgpt_f_test_acc: f64,
    /// Test accuracy after one epoch from random initialisation.
    pub random_1epoch_test_acc: f64,
}

/// Finetunes `task` for `epochs` epochs from the generated weights and from random init.
///
/// # Errors
/// Generation or training errors.
pub fn finetune_curves(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    task: &PreparedTask,
    epochs: usize,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Result<FinetuneCurves> {
    let ctx = task.context(0, &user_sample(task)?, device);
    let (family, params) = config.family_and_params(hyper.generate_tensors(&task.name, &ctx)?)?;
    let spec = family.mlp_spec();
    let generated = family.materialize(params, device)?;
    let run = |init: Option<modelgpt_targets::Mlp>,
               epochs: usize|
     -> Result<modelgpt_targets::train::TrainOutcome> {
        let tr = LabeledRows::new(&task.train_full.x, task.cols, &task.train_full.y)?;
        let va = LabeledRows::new(&task.valid.x, task.cols, &task.valid.y)?;
        let tc = cfg
            .baseline
            .clone()
            .with_max_epochs(epochs)
            .with_patience(0);
        Ok(train_classifier(&spec, init, tr, va, &tc, device, None)?)
    };
    let curve = |o: &modelgpt_targets::train::TrainOutcome| {
        o.history
            .iter()
            .map(|h| h.valid_acc as f64)
            .collect::<Vec<_>>()
    };
    let from_gen = run(Some(generated.clone()), epochs)?;
    let rnd = run(None, epochs)?;
    // ModelGPT-F: one epoch from the generated weights, evaluated with the final (not the best)
    // model, as the paper does; likewise for random init.
    let last_after_one = |init: Option<modelgpt_targets::Mlp>| -> Result<f64> {
        let tr = LabeledRows::new(&task.train_full.x, task.cols, &task.train_full.y)?;
        let va = LabeledRows::new(&task.valid.x, task.cols, &task.valid.y)?;
        let tc = cfg.baseline.clone().with_max_epochs(1).with_patience(0);
        let o = train_classifier(&spec, init, tr, va, &tc, device, None)?;
        Ok(accuracy(
            o.model.forward(task.test.x_tensor(task.cols, device)),
            &task.test.y,
        )?)
    };
    Ok(FinetuneCurves {
        task: task.name.clone(),
        from_generated: curve(&from_gen),
        from_random: curve(&rnd),
        modelgpt_f_test_acc: last_after_one(Some(generated))?,
        random_1epoch_test_acc: last_after_one(None)?,
    })
}

/// Draws the curves as a PNG grid (one panel per task), with the DejaVu font from the assets.
///
/// # Errors
/// Missing font asset, drawing or I/O errors.
pub fn plot_curves(curves: &[FinetuneCurves], path: &Path) -> Result<()> {
    use plotters::prelude::*;
    let font = std::fs::read(modelgpt_core::data::asset("fonts/DejaVuSans.ttf")?)?;
    // plotters keeps registered fonts for the whole process.
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| anyhow::anyhow!("could not register the DejaVu font"))?;
    let cols = 2usize;
    let rows = curves.len().div_ceil(cols).max(1);
    let root = BitMapBackend::new(path, (1000, 380 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let panels = root.split_evenly((rows, cols));
    for (c, area) in curves.iter().zip(panels.iter()) {
        let n = c.from_generated.len().max(c.from_random.len()).max(2);
        let lo = c
            .from_generated
            .iter()
            .chain(&c.from_random)
            .copied()
            .fold(1.0f64, f64::min)
            .max(0.0);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{}: validation accuracy while finetuning", c.task),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..(n - 1) as f64, (lo - 0.02).max(0.0)..1.0f64)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy")
            .draw()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        for (series, color, label) in [
            (&c.from_generated, RED, "from generated weights"),
            (&c.from_random, BLUE, "from random init"),
        ] {
            chart
                .draw_series(LineSeries::new(
                    series.iter().enumerate().map(|(i, v)| (i as f64, *v)),
                    color.stroke_width(2),
                ))
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    root.present().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(())
}

/// Options of [`run_report`] (the quickstart's command line).
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// `default` (kernel mode, end-to-end rule) or `all` (kernel end-to-end, and the general and
    /// paper modes with both rules).
    pub variants: String,
    /// Ignore cached meta-training state and baselines (with `retrain`).
    pub fresh: bool,
    /// Meta-train the hypernetworks now instead of using the shipped checkpoints.
    pub retrain: bool,
    /// Where the reports go.
    pub reports: PathBuf,
    /// Meta-training epochs (implies `retrain`; default from [`MetaTrainConfig`]).
    pub epochs: Option<usize>,
}

/// The tabular experiment end to end: prepare every tabular catalog task, take each variant's
/// hypernetwork ([`hypernet_for`]: shipped, or meta-trained with `retrain`), generate a model for
/// every seen and held-out task, compare with the baselines, draw the ModelGPT-F curves and write
/// `reports/tabular.{json,md}` and `reports/finetune_curves.png`.
///
/// # Errors
/// Missing assets, data, training and I/O failures.
pub fn run_report(args: &ReportOptions) -> Result<()> {
    let device = crate::device();
    let cache = crate::cache_dir();
    let retrain = args.retrain || args.epochs.is_some();
    if args.fresh && cache.exists() {
        for entry in std::fs::read_dir(&cache)? {
            let p = entry?.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tabular-"))
            {
                if p.is_dir() {
                    std::fs::remove_dir_all(&p)?;
                } else {
                    std::fs::remove_file(&p)?;
                }
            }
        }
    }
    let mut cfg = ExperimentConfig::default();
    if let Some(e) = args.epochs {
        cfg.meta.epochs = e;
    }
    let encoder = crate::load_encoder(&device)?;
    let tasks = prepare_tasks(&encoder, &cache, &cfg, &device)?;
    println!(
        "{} training tasks, {} held-out tasks (never seen in meta-training)",
        tasks.seen.len(),
        tasks.heldout.len()
    );
    let variants: Vec<Variant> = match args.variants.as_str() {
        "all" => ALL_VARIANTS.to_vec(),
        "default" => vec![DEFAULT_VARIANT],
        other => bail!("--variants must be `default` or `all`, not `{other}`"),
    };
    let splits_dir = cache.join("tabular-splits");
    export_splits(&tasks, &splits_dir)?;
    let reference_path = args.reports.join("tabular_baselines.json");
    let reference = read_reference(&reference_path, &tasks)?;
    println!(
        "reference baselines: {} of {} tasks from {} (splits for `python3 scripts/tabular_baselines.py` in {})",
        reference.len(),
        tasks.seen.len() + tasks.heldout.len(),
        reference_path.display(),
        splits_dir.display()
    );
    let mut summaries = Vec::new();
    let mut default_rows = Vec::new();
    let mut default_run = None;
    let mut baselines = None;
    for (i, variant) in variants.iter().enumerate() {
        let (hyper, config, report, secs) =
            hypernet_for(*variant, &tasks, &encoder, &cache, &cfg, retrain, &device)?;
        if baselines.is_none() {
            let all: Vec<_> = tasks.seen.iter().chain(&tasks.heldout).collect();
            baselines = Some(all_baselines(&all, &config, &cache, &cfg, &device)?);
        }
        let base = baselines.as_ref().expect("set above");
        let rows = evaluate(&encoder, &hyper, &config, &tasks, base, &reference, &device)?;
        let s = summarise(&variant.name(), &rows, &report, secs);
        println!(
            "{:<22} seen {:.3}  held-out {:.3}  above-majority {}/{}  gen {:.3} ms  speedup {:.0}x  (meta-train {:.0}s, best epoch {})",
            s.variant,
            s.seen_ratio,
            s.heldout_ratio,
            s.heldout_above_majority,
            s.heldout_count,
            s.median_generation_ms,
            s.median_speedup,
            s.meta_train_s,
            s.best_epoch
        );
        summaries.push(s);
        if i == 0 {
            default_rows = rows;
            default_run = Some((hyper, config, report));
        }
    }
    println!(
        "\n{:<18} {:<8} {:>9} {:>9} {:>7} {:>8} {:>9}",
        "task", "split", "generated", "trained", "logreg", "majority", "speedup"
    );
    for r in default_rows.iter().filter(|r| r.split == "heldout") {
        println!(
            "{:<18} {:<8} {:>9.3} {:>9.3} {:>7.3} {:>8.3} {:>8.0}x",
            r.task,
            r.split,
            r.generated_acc,
            r.finetuned_acc,
            r.logreg_acc,
            r.majority_acc,
            r.finetune_ms / r.generation_ms.max(1e-9)
        );
    }
    // The requirement ablation and the ModelGPT-F curves on a few held-out tasks, from the
    // default variant (the first; `variants` is never empty).
    let (hyper, config, default_report) = default_run.context("no variant was evaluated")?;
    let ablation = requirement_ablation(&encoder, &hyper, &config, &tasks, &device)?;
    let mut curves = Vec::new();
    for name in ["iris", "wine", "vowel", "letter", "banana", "ring"] {
        if let Some(task) = tasks.heldout.iter().find(|t| t.name == name) {
            curves.push(finetune_curves(&hyper, &config, task, 30, &cfg, &device)?);
        }
    }
    std::fs::create_dir_all(&args.reports)?;
    let png = args.reports.join("finetune_curves.png");
    match plot_curves(&curves, &png) {
        Ok(()) => println!("figure written: {}", png.display()),
        Err(e) => eprintln!("warning: could not draw {}: {e:#}", png.display()),
    }
    let (json, md) = write_reports(
        &args.reports,
        &default_rows,
        &summaries,
        &curves,
        &ablation,
        &default_report,
        &cfg,
        &device,
    )?;
    println!("\nreports written: {} and {}", json.display(), md.display());
    Ok(())
}
