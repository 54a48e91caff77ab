//! The same library code on several backends, measured in one run beside flex
//! (`cargo run --release -p modelgpt-experiments --features wgpu,tch --bin backends`, driven
//! by `scripts/check_backends.py`, which writes `reports/backends.json`).
//!
//! For every backend asked for, on its default device:
//! - parity: MiniLM sentence embeddings against the sentence-transformers fixture; the shipped
//!   tabular generator's tensors and class probabilities, and the shipped text generator's
//!   LoRA tensors and logits, against the same generation on flex;
//! - speed: MiniLM throughput at batch 1 and 32 on the requirement sentences of
//!   `benches/data/requirement_sentences.json`, the shipped tabular generation latency
//!   (requirement encoding included, names cached), and the time of one meta-training task step
//!   of the shipped generator on synthetic prior tasks.
//!
//! A backend that fails (cannot start, an op it lacks) gets its error in the report instead of
//! figures; the others are still measured.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::{Device, Tensor};
use modelgpt_core::data::{TabularDataset, TextDataset, assets_dir};
use modelgpt_core::{Requirement, RequirementEncoder};
use modelgpt_datasets::prior::PriorConfig;
use modelgpt_hypernet::{
    EpochTasks, MetaRule, MetaTrainConfig, MetaTrainer, TabularModelGpt, TextModelGpt,
};
use serde::{Deserialize, Serialize};

use crate::load_encoder;
use crate::prior::PriorSource;

/// Figures of one backend.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BackendFigures {
    /// Backend name (`flex`, `wgpu`, `tch`, ...).
    pub backend: String,
    /// The device, as burn prints it.
    pub device: String,
    /// Largest absolute difference of the MiniLM embeddings from the PyTorch reference.
    pub minilm_max_abs_diff: Option<f32>,
    /// Largest absolute difference of the generated tabular tensors from flex's, relative to
    /// the largest magnitude of each tensor (at least 1).
    pub tabular_tensor_rel_diff: Option<f32>,
    /// Largest absolute difference of the generated MLP's class probabilities from flex's.
    pub tabular_proba_max_abs_diff: Option<f32>,
    /// As `tabular_tensor_rel_diff`, for the generated LoRA adapters and head.
    pub text_tensor_rel_diff: Option<f32>,
    /// Largest absolute difference of the generated text classifier's logits from flex's.
    pub text_logit_max_abs_diff: Option<f32>,
    /// MiniLM sentences per second, one sentence per call.
    pub encoder_batch1_per_s: Option<f64>,
    /// MiniLM sentences per second, 32 sentences per call.
    pub encoder_batch32_per_s: Option<f64>,
    /// Median wall time of one shipped tabular generation (warm), milliseconds.
    pub tabular_generation_ms: Option<f64>,
    /// Wall time of one meta-training task step (end-to-end rule, shipped generator, prior
    /// tasks; the epoch's validation pass included, spread over its steps), milliseconds.
    pub meta_step_ms: Option<f64>,
    /// Why a figure is missing, when one is.
    pub error: Option<String>,
}

/// The reference outputs computed on flex that other backends are compared with.
struct Reference {
    tabular: (Vec<Vec<f32>>, Vec<f32>),
    text: (Vec<Vec<f32>>, Vec<f32>),
}

#[derive(Deserialize)]
struct Fixture {
    sentences: Vec<String>,
    embeddings: Vec<Vec<f32>>,
}

fn repo_file(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn flat(t: Tensor<1>) -> Result<Vec<f32>> {
    Ok(t.into_data().convert::<f32>().try_into_vec::<f32>()?)
}

fn max_gap(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(
        if a.len() == b.len() {
            0.0
        } else {
            f32::INFINITY
        },
        f32::max,
    )
}

/// Largest per-tensor difference relative to the tensor's magnitude (at least 1).
fn rel_gap(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    if a.len() != b.len() {
        return f32::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| max_gap(x, y) / x.iter().map(|v| v.abs()).fold(1.0, f32::max))
        .fold(0.0, f32::max)
}

/// The synthetic table every backend generates for (fixed seed).
fn check_table() -> Result<TabularDataset> {
    let mut csv = String::from("width,height,depth,weight,temperature,label\n");
    let mut s = 0x2545_f491_u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    for _ in 0..400 {
        let v: Vec<f64> = (0..5).map(|_| next()).collect();
        let label = if v[0] * v[1] > 0.0 {
            "small"
        } else if v[2] + 0.5 * v[3] > 0.0 {
            "medium"
        } else {
            "large"
        };
        let cells: Vec<String> = v.iter().map(|x| format!("{x:.5}")).collect();
        csv.push_str(&format!("{},{label}\n", cells.join(",")));
    }
    Ok(TabularDataset::from_csv_str(
        &csv,
        "label",
        "backend_check",
    )?)
}

fn check_text() -> Result<TextDataset> {
    let pairs = [
        ("The striker scored twice to win the match.", "sports"),
        ("The team trained hard before the final.", "sports"),
        ("She ran the marathon in under three hours.", "sports"),
        ("Simmer the sauce with garlic and basil.", "cooking"),
        ("Knead the dough until it is smooth.", "cooking"),
        ("Roast the vegetables with olive oil.", "cooking"),
    ];
    Ok(TextDataset::from_pairs("topic", pairs)?)
}

const TABULAR_REQ: &str = "Sort the parcels into small, medium and large from their measurements.";
const TEXT_REQ: &str = "Tell sports news from cooking recipes.";

/// Tabular tensors and probabilities of the shipped generator on `device` for `ds`, and the
/// generator.
fn tabular_outputs(
    ds: &TabularDataset,
    device: &Device,
) -> Result<(TabularModelGpt, Vec<Vec<f32>>, Vec<f32>)> {
    let gpt = TabularModelGpt::builder()
        .encoder(Box::new(load_encoder(device)?))
        .shipped()
        .build(device)?;
    let model = gpt.generate(ds, &Requirement::new(TABULAR_REQ))?;
    let tensors = model
        .mlp()
        .to_params()
        .iter()
        .map(|(_, t)| flat(t.clone()))
        .collect::<Result<Vec<_>>>()?;
    let rows: Vec<usize> = (0..ds.n_rows()).collect();
    let proba = model.predict_proba(ds, &rows)?.concat();
    Ok((gpt, tensors, proba))
}

fn text_outputs(device: &Device) -> Result<(Vec<Vec<f32>>, Vec<f32>)> {
    let gpt = TextModelGpt::shipped(assets_dir().join("minilm"), device)?;
    let data = check_text()?;
    let model = gpt.tailor(&data, TEXT_REQ)?;
    let tensors = model
        .params()
        .iter()
        .map(|(_, t)| flat(t.clone()))
        .collect::<Result<Vec<_>>>()?;
    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    Ok((tensors, model.logits(&texts)?.concat()))
}

/// Sentences per second of `encoder` on `sentences`, `batch` per call, over at least `min_s`
/// seconds (after one warm-up pass, which compiles a GPU backend's kernels).
fn throughput(
    encoder: &dyn RequirementEncoder,
    sentences: &[&str],
    batch: usize,
    min_s: f64,
    device: &Device,
) -> Result<f64> {
    let pass = || -> Result<()> {
        for chunk in sentences.chunks(batch) {
            let e = encoder.encode(chunk, device)?;
            // Read back: a GPU backend's work is asynchronous.
            let _ = e.into_data();
        }
        Ok(())
    };
    pass()?;
    let t0 = Instant::now();
    let mut n = 0usize;
    while n == 0 || t0.elapsed().as_secs_f64() < min_s {
        pass()?;
        n += sentences.len();
    }
    Ok(n as f64 / t0.elapsed().as_secs_f64())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Measures one backend (`name`) against the flex `reference`.
fn measure(
    name: &str,
    reference: Option<&Reference>,
    fixture: &Fixture,
    sentences: &[&str],
    min_s: f64,
    f: &mut BackendFigures,
) -> Result<()> {
    let device = modelgpt_core::backend::device_by_name(name)?;
    f.device = format!("{device:?}");
    eprintln!("backends: {name}: MiniLM parity");
    let encoder = load_encoder(&device)?;
    let texts: Vec<&str> = fixture.sentences.iter().map(String::as_str).collect();
    let got = encoder.encode(&texts, &device)?;
    let [_, d] = got.dims();
    let got: Vec<f32> = got.into_data().convert::<f32>().try_into_vec::<f32>()?;
    let mut gap = 0f32;
    for (i, want) in fixture.embeddings.iter().enumerate() {
        gap = gap.max(max_gap(&got[i * d..(i + 1) * d], want));
    }
    f.minilm_max_abs_diff = Some(gap);

    eprintln!("backends: {name}: encoder throughput");
    f.encoder_batch1_per_s = Some(throughput(&encoder, sentences, 1, min_s, &device)?);
    f.encoder_batch32_per_s = Some(throughput(&encoder, sentences, 32, min_s, &device)?);

    eprintln!("backends: {name}: tabular generation");
    let ds = check_table()?;
    let (gpt, tensors, proba) = tabular_outputs(&ds, &device)?;
    let req = Requirement::new(TABULAR_REQ);
    let mut times = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let model = gpt.generate(&ds, &req)?;
        let _ = model.mlp().to_params().flat()[0].clone().into_data();
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    f.tabular_generation_ms = Some(median(times));
    if let Some(r) = reference {
        f.tabular_tensor_rel_diff = Some(rel_gap(&r.tabular.0, &tensors));
        f.tabular_proba_max_abs_diff = Some(max_gap(&r.tabular.1, &proba));
    }

    eprintln!("backends: {name}: text generation");
    let (tensors, logits) = text_outputs(&device)?;
    if let Some(r) = reference {
        f.text_tensor_rel_diff = Some(rel_gap(&r.text.0, &tensors));
        f.text_logit_max_abs_diff = Some(max_gap(&r.text.1, &logits));
    }

    eprintln!("backends: {name}: meta-training step");
    let (hyper, config) = modelgpt_hypernet::shipped::tabular(&device)?;
    let mut source = PriorSource::new(PriorConfig::default(), 4, &encoder, 500, &device)?;
    let tasks = source.tasks(1)?;
    let steps_per_task = 2;
    let train = MetaTrainConfig {
        rule: MetaRule::EndToEnd,
        epochs: 1,
        steps_per_task,
        sample_max_rows: 400,
        ..MetaTrainConfig::default()
    };
    let (_, report) = MetaTrainer::new(config, train)
        .with_progress(false)
        .with_initial(hyper)
        .train(&tasks, &device)?;
    let elapsed = report.history.last().map_or(0.0, |h| h.elapsed_s);
    f.meta_step_ms = Some(elapsed * 1e3 / (tasks.len() * steps_per_task) as f64);
    Ok(())
}

/// Measures every backend of `names` (flex first, as the reference) and returns their figures.
///
/// # Errors
/// When the fixture or the sentence list cannot be read, or flex itself fails.
pub fn run(names: &[String], min_s: f64) -> Result<Vec<BackendFigures>> {
    let path = repo_file("modelgpt-targets/tests/fixtures/minilm-reference.json");
    let fixture: Fixture = serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| path.display().to_string())?,
    )?;
    let path = repo_file("benches/data/requirement_sentences.json");
    let owned: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| path.display().to_string())?,
    )?;
    let sentences: Vec<&str> = owned.iter().map(String::as_str).collect();

    let flex = modelgpt_core::backend::device_by_name("flex")?;
    let (_, tab_t, tab_p) = tabular_outputs(&check_table()?, &flex)?;
    let reference = Reference {
        tabular: (tab_t, tab_p),
        text: text_outputs(&flex)?,
    };
    let mut out = Vec::new();
    for name in names {
        let mut f = BackendFigures {
            backend: name.clone(),
            ..BackendFigures::default()
        };
        let reference = (name != "flex").then_some(&reference);
        // A backend's failure (including a panic inside burn) is reported, not fatal.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            measure(name, reference, &fixture, &sentences, min_s, &mut f)
        }));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => f.error = Some(format!("{e:#}")),
            Err(p) => {
                let what = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into());
                f.error = Some(format!("panicked: {what}"));
            }
        }
        eprintln!("backends: {name}: {f:?}");
        out.push(f);
    }
    Ok(out)
}
