//! Property tests of the loaders of saved folders, on mutated copies of real ones written here by
//! the library's own `save` (or meta-training run) from tiny synthetic tasks: a tailored tabular
//! model (`TailoredTabularModel::load`: `tailored.json`, `mlp.json`, `model.safetensors`),
//! tabular hypernetwork checkpoints in every mode (`HyperNet::load` and the in-memory
//! `checkpoint::manifest_from_bytes`: `checkpoint.json`, `hypernet.safetensors`), text
//! hypernetwork checkpoints (`TextHyperNet::load`), a finished meta-training folder
//! (`MetaTrainer::load_finished`: `state.json` and the weights), an interrupted one
//! (`MetaTrainer::train` resuming: `state.json`, `last-1.bpk`, `optimizer-1.bin`,
//! `inner_adam-1.safetensors`) and meta-training's embedding cache file (`EmbeddingCache::open`).
//! Each case mutates one file (JSON-aware value swaps, SafeTensors-aware header and data
//! mutations, byte flips, truncations, splices) and restores it afterwards. Nothing may panic,
//! every failure is a typed error with a message, and what loads must work: it predicts on new
//! rows (tailored models), generates a model that predicts (tabular hypernetworks), or generates
//! LoRA tensors (text). 100,000 inputs per loader (`FUZZ_CASES` overrides), except resuming
//! ([`RESUME_CASES`]). The mutation engine is `modelgpt-core/tests/fuzz/mod.rs`.

#[path = "../../modelgpt-core/tests/fuzz/mod.rs"]
mod fuzz;

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use common::{HashEncoder, TaskShape};
use fuzz::{Rng, mutate_json, mutate_safetensors};
use modelgpt_core::data::{CsvTable, TabularDataset};
use modelgpt_core::{Modality, Requirement};
use modelgpt_hypernet::checkpoint::manifest_from_bytes;
use modelgpt_hypernet::{
    EmbeddingCache, Error, HyperMode, HyperNet, HyperNetConfig, MetaTrainConfig, MetaTrainer,
    PaperTask, PreparedTask, TabularModelGpt, TailoredTabularModel, TextHyperNet,
    TextHyperNetConfig, TextTaskInput,
};
use modelgpt_targets::{TextLoraConfig, TextLoraFamily};

fn device() -> Device {
    Device::flex()
}

/// A table with numeric, categorical and missing cells: 5 features after one-hot encoding.
const CSV: &str =
    "x,colour,size,label\n1,red,3,a\n2,blue,,b\n3,red,5,a\n4,green,6,b\n5,blue,7,a\n6,red,8,b\n";
const REQ: &str = "This is a 2-class tabular classification task.";
const D_EMBED: usize = 8;

fn data() -> (TabularDataset, CsvTable) {
    (
        TabularDataset::from_csv_str(CSV, "label", "fuzz").unwrap(),
        CsvTable::parse_str(CSV, "new.csv").unwrap(),
    )
}

/// Two prepared two-class tasks `fuzz_a` (2 features) and `fuzz_b` (3) of `rows` rows each.
fn two_tiny_tasks(rows: usize, device: &Device) -> Vec<PreparedTask> {
    let encoder = HashEncoder { dim: D_EMBED };
    let mut cache = EmbeddingCache::new();
    let shape = |n_features, seed| TaskShape {
        n_features,
        n_classes: 2,
        rows,
        separation: 3.0,
        seed,
    };
    [("fuzz_a", shape(2, 1)), ("fuzz_b", shape(3, 2))]
        .into_iter()
        .map(|(name, s)| common::prepared(name, s, &encoder, &mut cache, device))
        .collect()
}

/// A tiny hypernetwork configuration of `mode` (paper mode: one task, `fuzz`).
fn tiny(mode: HyperMode) -> HyperNetConfig {
    let mut c = match mode {
        HyperMode::General => HyperNetConfig::general(D_EMBED),
        HyperMode::Kernel => HyperNetConfig::kernel(D_EMBED),
        HyperMode::Paper => HyperNetConfig::paper(
            D_EMBED,
            vec![PaperTask {
                name: "fuzz".into(),
                n_features: 5,
                n_classes: 2,
            }],
        ),
    };
    c.d_hidden = 8;
    c.target_width = 8;
    c.target_depth = 1;
    c
}

/// A facade with the hash encoder and `hyper`.
fn facade(hyper: HyperNet, config: HyperNetConfig) -> Result<TabularModelGpt, Error> {
    let dim = config.d_embed;
    TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder { dim }))
        .hypernet(hyper, config)
        .build(&device())
}

/// New rows to predict on: missing cells in every column (the categorical one is imputed with
/// the fitted mode) and an unseen level.
const NEW_ROWS: &str = "x,colour,size\n1,?,3\n,green,\n9,purple,1\n";

fn new_rows() -> CsvTable {
    CsvTable::parse_str(NEW_ROWS, "new.csv").unwrap()
}

/// Widest generated layer [`exercise`] generates: kernel mode's width is not fixed by the
/// weights, so a mutated `checkpoint.json` may ask for up to
/// [`HyperNetConfig::MAX_TARGET_WIDTH`] (4096) units, whose `[4096, 4096]` discriminant takes
/// seconds per case; wider ones are loaded but not generated from.
const MAX_EXERCISED_WIDTH: usize = 512;

/// What a loaded hypernetwork must do: generate a model for the sample that predicts new rows.
fn exercise(hyper: HyperNet, config: HyperNetConfig) -> Result<(), Error> {
    if config.target_width > MAX_EXERCISED_WIDTH {
        return Ok(());
    }
    let (ds, table) = data();
    let model = facade(hyper, config)?.generate(&ds, &Requirement::from(REQ))?;
    let predicted = model.predict_table(&table)?;
    assert_eq!(predicted.len(), table.rows.len());
    assert_eq!(model.predict_table(&new_rows())?.len(), 3);
    Ok(())
}

/// One mutated file of a saved folder: which file, and its new bytes.
struct Case {
    folder: usize,
    file: &'static str,
    bytes: Vec<u8>,
}

impl fuzz::Preview for Case {
    fn preview(&self) -> String {
        format!(
            "folder {}, {}: {}",
            self.folder,
            self.file,
            fuzz::hex_preview(&self.bytes)
        )
    }
}

/// Mutates `file` of a folder whose original files are `originals`: JSON-aware for `.json`,
/// SafeTensors-aware for `.safetensors`.
fn mutate_file(
    rng: &mut Rng,
    folder: usize,
    file: &'static str,
    original: &[u8],
    strings: &[&str],
) -> Case {
    let bytes = if file.ends_with(".safetensors") {
        mutate_safetensors(rng, original, &[])
    } else {
        mutate_json(rng, original, strings, &[])
    };
    Case {
        folder,
        file,
        bytes,
    }
}

/// The files of a saved folder, to restore after each case.
struct Saved {
    dir: PathBuf,
    files: Vec<(&'static str, Vec<u8>)>,
}

impl Saved {
    fn read(dir: &Path, names: &[&'static str]) -> Self {
        Self {
            dir: dir.to_path_buf(),
            files: names
                .iter()
                .map(|&n| (n, std::fs::read(dir.join(n)).unwrap()))
                .collect(),
        }
    }

    fn original(&self, file: &str) -> &[u8] {
        &self.files.iter().find(|(n, _)| *n == file).unwrap().1
    }

    /// Writes the case's file, runs `f` on the folder, restores the file.
    fn with_case<T>(&self, case: &Case, f: impl FnOnce(&Path) -> T) -> T {
        let path = self.dir.join(case.file);
        std::fs::write(&path, &case.bytes).expect("write the case");
        let out = f(&self.dir);
        std::fs::write(&path, self.original(case.file)).expect("restore");
        out
    }
}

const TAILORED_STRINGS: &[&str] = &[
    "requirement",
    "labels",
    "preprocessor",
    "columns",
    "Numeric",
    "Categorical",
    "name",
    "mean",
    "std",
    "levels",
    "mode",
    "x",
    "colour",
    "size",
    "red",
    "d_input",
    "hidden",
    "n_classes",
    "activation",
    "Relu",
    "LeakyRelu",
];

/// `TailoredTabularModel::load` on 100,000 folders with `tailored.json` (40 %), `mlp.json` (30 %)
/// or `model.safetensors` mutated; a loaded model must predict the rows of a new table (or say
/// why not) and give probabilities.
#[test]
fn fuzz_tailored_tabular_load() {
    let device = device();
    let config = tiny(HyperMode::General);
    let (ds, table) = data();
    let model = facade(config.init(&device), config)
        .unwrap()
        .generate(&ds, &Requirement::from(REQ))
        .unwrap();
    let dir = fuzz::scratch_dir();
    model.save(dir.path()).unwrap();
    let saved = Saved::read(
        dir.path(),
        &["tailored.json", "mlp.json", "model.safetensors"],
    );
    let loaded = TailoredTabularModel::load(dir.path(), &device).unwrap();
    assert_eq!(loaded.predict_table(&table).unwrap().len(), 6);
    let new_rows = new_rows();
    assert_eq!(loaded.predict_table(&new_rows).unwrap().len(), 3);
    let rows: Vec<usize> = (0..ds.n_rows()).collect();
    let report = fuzz::run(
        "tailored_tabular_load",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let file = match rng.below(10) {
                0..=3 => "tailored.json",
                4..=6 => "mlp.json",
                _ => "model.safetensors",
            };
            mutate_file(rng, 0, file, saved.original(file), TAILORED_STRINGS)
        },
        |case| {
            let model = saved.with_case(case, |d| TailoredTabularModel::load(d, &device))?;
            assert_eq!(model.mlp().n_classes(), model.labels().len());
            for t in [&table, &new_rows] {
                if let Ok(p) = model.predict_table(t) {
                    assert_eq!(p.len(), t.rows.len());
                    assert!(
                        p.iter().all(|l| model.labels().contains(l)),
                        "unknown label"
                    );
                }
            }
            if let Ok(p) = model.predict_proba(&ds, &rows) {
                assert!(p.iter().all(|r| r.len() == model.labels().len()));
            }
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

const CHECKPOINT_STRINGS: &[&str] = &[
    "version",
    "modality",
    "config",
    "mode",
    "general",
    "paper",
    "kernel",
    "tabular",
    "text",
    "image",
    "d_embed",
    "d_hidden",
    "target_width",
    "target_depth",
    "dropout",
    "tasks",
    "name",
    "n_features",
    "n_classes",
    "fuzz",
    "report",
    "provenance",
];

/// `HyperNet::load` (after `manifest_from_bytes` on the manifest's bytes) on 100,000 checkpoint
/// folders of the three modes with `checkpoint.json` (60 %) or `hypernet.safetensors` mutated;
/// a loaded hypernetwork must generate a model that predicts new rows (or say why not). The
/// modes share one trunk and head layout each, so the seeds are small (8-wide).
#[test]
fn fuzz_hypernet_checkpoint() {
    let device = device();
    let root = fuzz::scratch_dir();
    let folders: Vec<Saved> = [HyperMode::General, HyperMode::Kernel, HyperMode::Paper]
        .into_iter()
        .map(|mode| {
            let config = tiny(mode);
            let dir = root.path().join(mode.as_str());
            config.init(&device).save(&config, &dir, None).unwrap();
            let (hyper, loaded) = HyperNet::load(&dir, &device).unwrap();
            assert_eq!(loaded, config);
            exercise(hyper, loaded).unwrap_or_else(|e| panic!("{}: {e}", mode.as_str()));
            Saved::read(&dir, &["checkpoint.json", "hypernet.safetensors"])
        })
        .collect();
    let report = fuzz::run(
        "hypernet_checkpoint",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let folder = rng.below(folders.len());
            let file = if rng.chance(60) {
                "checkpoint.json"
            } else {
                "hypernet.safetensors"
            };
            mutate_file(
                rng,
                folder,
                file,
                folders[folder].original(file),
                CHECKPOINT_STRINGS,
            )
        },
        |case| {
            let saved = &folders[case.folder];
            if case.file == "checkpoint.json" {
                let manifest = manifest_from_bytes::<HyperNetConfig>(
                    &case.bytes,
                    Path::new("checkpoint.json"),
                    Modality::Tabular,
                );
                if let Ok(m) = manifest {
                    assert_eq!(m.version, modelgpt_hypernet::CHECKPOINT_VERSION);
                    assert_eq!(m.modality, Modality::Tabular);
                }
            }
            let (hyper, config) = saved.with_case(case, |d| HyperNet::load(d, &device))?;
            exercise(hyper, config)
        },
    );
    fuzz::assert_mixed(&report);
}

/// A tiny text hypernetwork configuration: width 8, LoRA rank 1 on layer 0.
fn tiny_text() -> TextHyperNetConfig {
    TextHyperNetConfig {
        d_embed: 8,
        d_model: 8,
        d_hidden: 8,
        d_class: 4,
        lora: TextLoraConfig::default()
            .with_rank(1)
            .with_layers(vec![0])
            .with_max_length(8),
        ..TextHyperNetConfig::default()
    }
}

/// What a loaded text hypernetwork must do: generate the LoRA tensors and head of a 2-class task
/// from a support sample of four texts (random embeddings).
fn exercise_text(hyper: &TextHyperNet, config: &TextHyperNetConfig) -> Result<(), Error> {
    let d = config.d_model;
    let n_layers = config.lora.layers.last().map_or(1, |&l| l + 1);
    let family = TextLoraFamily::new(config.lora.clone(), d, n_layers, 2)?;
    let mut rng = Rng::new(5);
    let mut values = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| rng.below(1000) as f32 / 500.0 - 1.0)
            .collect()
    };
    let targets = [0, 1, 0, 1];
    let sample = hyper.sample(&values(4 * d), &targets, &[0, 1, 2, 3], 2)?;
    let input = TextTaskInput::from_host(
        &values(config.d_embed),
        &values(2 * config.d_embed),
        &sample,
        &device(),
    )?;
    let params = hyper.generate(&family, &input)?;
    assert_eq!(params.spec().len(), family.spec().len());
    Ok(())
}

const TEXT_STRINGS: &[&str] = &[
    "version",
    "modality",
    "config",
    "text",
    "tabular",
    "d_embed",
    "d_model",
    "d_hidden",
    "d_class",
    "dropout",
    "init_temperature",
    "lora",
    "rank",
    "alpha",
    "layers",
    "max_length",
    "min_shrinkage",
];

/// `TextHyperNet::load` on 100,000 text checkpoint folders with `checkpoint.json` (60 %) or
/// `hypernet.safetensors` mutated; a loaded hypernetwork must generate (or say why not).
#[test]
fn fuzz_text_hypernet_checkpoint() {
    let device = device();
    let dir = fuzz::scratch_dir();
    let config = tiny_text();
    config
        .init(&device)
        .unwrap()
        .save(&config, dir.path(), None)
        .unwrap();
    let (hyper, loaded) = TextHyperNet::load(dir.path(), &device).unwrap();
    assert_eq!(loaded, config);
    exercise_text(&hyper, &loaded).unwrap();
    let saved = Saved::read(dir.path(), &["checkpoint.json", "hypernet.safetensors"]);
    let report = fuzz::run(
        "text_hypernet_checkpoint",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let file = if rng.chance(60) {
                "checkpoint.json"
            } else {
                "hypernet.safetensors"
            };
            mutate_file(rng, 0, file, saved.original(file), TEXT_STRINGS)
        },
        |case| {
            let (hyper, config) = saved.with_case(case, |d| TextHyperNet::load(d, &device))?;
            exercise_text(&hyper, &config)
        },
    );
    fuzz::assert_mixed(&report);
}

const STATE_STRINGS: &[&str] = &[
    "hypernet",
    "train",
    "tasks",
    "extra",
    "report",
    "finished",
    "history",
    "best_epoch",
    "best_valid_acc",
    "stopped_early",
    "epoch",
    "mean_loss",
    "mean_valid_acc",
    "elapsed_s",
    "rule",
    "end_to_end",
    "delta",
    "epochs",
    "seed",
    "fuzz_a",
    "fuzz_b",
];

/// `MetaTrainer::load_finished` on 100,000 mutations of a finished meta-training folder (one
/// epoch on two tiny tasks): `state.json` (70 %) or `hypernet.safetensors`. A finished state
/// must come with a hypernetwork that generates.
#[test]
fn fuzz_meta_state() {
    let device = device();
    let dir = fuzz::scratch_dir();
    let tasks = two_tiny_tasks(40, &device);
    let config = tiny(HyperMode::General);
    let train = MetaTrainConfig {
        epochs: 1,
        steps_per_task: 1,
        batch_size: 8,
        sample_min_rows: 4,
        sample_max_rows: 16,
        ..MetaTrainConfig::default()
    };
    let trainer = MetaTrainer::new(config.clone(), train)
        .with_checkpoint_dir(dir.path())
        .with_progress(false);
    trainer.train(&tasks, &device).unwrap();
    let (hyper, _) = trainer
        .load_finished(&tasks, &device)
        .unwrap()
        .expect("finished");
    exercise(hyper, config.clone()).unwrap();
    let saved = Saved::read(dir.path(), &["state.json", "hypernet.safetensors"]);
    let report = fuzz::run(
        "meta_state",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let file = if rng.chance(70) {
                "state.json"
            } else {
                "hypernet.safetensors"
            };
            mutate_file(rng, 0, file, saved.original(file), STATE_STRINGS)
        },
        |case| {
            let loaded = saved.with_case(case, |_| trainer.load_finished(&tasks, &device))?;
            if let Some((hyper, _report)) = loaded {
                exercise(hyper, config.clone())?;
            }
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

/// Inputs of [`fuzz_meta_resume`]: each case that gets past the files trains an epoch, so a case
/// takes about 1.8 ms (measured 530–560 cases/s in release on the 2-core machine): 100,000 would
/// take three minutes alone; 25,000 take about 45 s, beside the other tests of this file.
const RESUME_CASES: usize = 25_000;

/// Resuming meta-training (`MetaTrainer::train` on an interrupted folder: `state.json` names
/// the epoch whose `last-1.bpk`, `optimizer-1.bin` and `inner_adam-1.safetensors` it reads)
/// on mutations of one of those four files; every file is restored after each case, since a
/// resumed run writes the folder. Each case that gets past the files trains an epoch (two tiny
/// tasks, Delta rule), hence [`RESUME_CASES`] inputs, not 100,000. A resumed run must return a
/// hypernetwork that generates.
#[test]
fn fuzz_meta_resume() {
    let device = device();
    let dir = fuzz::scratch_dir();
    let tasks = two_tiny_tasks(30, &device);
    let config = tiny(HyperMode::General);
    let train = MetaTrainConfig {
        rule: modelgpt_hypernet::MetaRule::Delta,
        epochs: 2,
        steps_per_task: 1,
        local_steps: 1,
        batch_size: 8,
        sample_min_rows: 4,
        sample_max_rows: 8,
        patience: 10,
        ..MetaTrainConfig::default()
    };
    let trainer = MetaTrainer::new(config.clone(), train)
        .with_checkpoint_dir(dir.path())
        .with_progress(false);
    trainer.train(&tasks, &device).unwrap();
    // Rewind to "interrupted after epoch 1": the final epoch left epoch 1's resumable files.
    let state_path = dir.path().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    state["finished"] = false.into();
    state["report"]["history"]
        .as_array_mut()
        .unwrap()
        .truncate(2);
    state["report"]["best_epoch"] = 1.into();
    std::fs::write(&state_path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let names: Vec<&'static str> = vec![
        "state.json",
        "last-1.bpk",
        "optimizer-1.bin",
        "inner_adam-1.safetensors",
        "hypernet.safetensors",
        "checkpoint.json",
    ];
    let saved = Saved::read(dir.path(), &names);
    let restore = || {
        for (n, b) in &saved.files {
            std::fs::write(dir.path().join(n), b).expect("restore");
        }
    };
    let (_, report) = trainer.train(&tasks, &device).unwrap();
    assert_eq!(report.history.len(), 3, "resumed from epoch 1");
    restore();
    let report = fuzz::run(
        "meta_resume",
        fuzz::cases(RESUME_CASES),
        |rng| {
            let file = *rng.pick(&names[..4]);
            let original = saved.original(file);
            let bytes = match file {
                "state.json" => mutate_json(rng, original, STATE_STRINGS, &[]),
                "inner_adam-1.safetensors" => mutate_safetensors(rng, original, &[]),
                _ => {
                    let mut b = original.to_vec();
                    fuzz::mutate_bytes(rng, &mut b, fuzz::F32_TOKENS, &[]);
                    b
                }
            };
            Case {
                folder: 0,
                file,
                bytes,
            }
        },
        |case| {
            std::fs::write(dir.path().join(case.file), &case.bytes).expect("write");
            let result = trainer.train(&tasks, &device);
            restore();
            let (hyper, _) = result?;
            exercise(hyper, config.clone())
        },
    );
    fuzz::assert_mixed(&report);
}

/// `EmbeddingCache::open` (meta-training's file of sentence embeddings) on 100,000 mutated cache
/// files, then `embed` of the cached and two new texts: `texts × dim` values whatever the file
/// held.
#[test]
fn fuzz_embedding_cache() {
    let device = device();
    let dir = fuzz::scratch_dir();
    let path = dir.path().join("embeddings.json");
    let encoder = HashEncoder { dim: D_EMBED };
    let cached: Vec<String> = [
        "alpha",
        "beta gamma",
        "This is a 2-class tabular classification task.",
    ]
    .map(String::from)
    .to_vec();
    let mut cache = EmbeddingCache::open(&path);
    cache.embed(&encoder, &cached, &device).unwrap();
    cache.save().unwrap();
    let seed = std::fs::read(&path).unwrap();
    let texts: Vec<String> = cached
        .iter()
        .cloned()
        .chain(["new text".to_string(), "alpha".to_string()])
        .collect();
    let report = fuzz::run(
        "embedding_cache",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| mutate_json(rng, &seed, &["alpha", "beta gamma", "new text"], &[]),
        |bytes| {
            std::fs::write(&path, bytes).expect("write");
            let mut cache = EmbeddingCache::open(&path);
            let values = cache.embed(&encoder, &texts, &device)?;
            assert_eq!(values.len(), texts.len() * D_EMBED, "embedding count");
            Ok::<_, Error>(())
        },
    );
    assert!(report.ok > 0, "{report:?}");
}
