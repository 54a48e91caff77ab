//! Shared helpers of the integration tests: a deterministic fake requirement encoder and small
//! synthetic tabular tasks.
#![allow(dead_code)]

use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::RequirementEncoder;
use modelgpt_core::data::{Split, TabularDataset, TextDataset, assets_dir};
use modelgpt_hypernet::{EmbeddingCache, PreparedTask};
use modelgpt_targets::BertRequirementEncoder;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The device every test runs on (flex: tests never depend on which GPU backend is compiled).
pub fn test_device() -> Device {
    Device::flex()
}

/// Embedding width of [`HashEncoder`].
pub const D_EMBED: usize = 32;

/// A deterministic stand-in for the sentence encoder: every word seeds an RNG with its FNV-1a
/// hash and adds a pseudo-random vector; the sum is L2-normalised. Same text, same vector;
/// texts sharing words get similar vectors.
#[derive(Debug, Clone)]
pub struct HashEncoder {
    pub dim: usize,
}

impl Default for HashEncoder {
    fn default() -> Self {
        Self { dim: D_EMBED }
    }
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl HashEncoder {
    /// The embedding of one text, on the host.
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dim];
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let words = if words.is_empty() {
            vec![String::new()]
        } else {
            words
        };
        for w in &words {
            let mut rng = StdRng::seed_from_u64(fnv1a(w));
            for x in v.iter_mut() {
                *x += rng.random_range(-1.0f32..1.0);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

impl RequirementEncoder for HashEncoder {
    fn embed_dim(&self) -> usize {
        self.dim
    }

    fn encode(&self, texts: &[&str], device: &Device) -> modelgpt_core::Result<Tensor<2>> {
        let data: Vec<f32> = texts.iter().flat_map(|t| self.embed_one(t)).collect();
        Ok(Tensor::from_data(
            TensorData::new(data, [texts.len(), self.dim]),
            device,
        ))
    }
}

/// Description of a synthetic task.
#[derive(Debug, Clone, Copy)]
pub struct TaskShape {
    pub n_features: usize,
    pub n_classes: usize,
    pub rows: usize,
    /// Distance between class centres in units of the noise standard deviation.
    pub separation: f32,
    pub seed: u64,
}

/// Approximately standard normal draw (sum of 12 uniforms − 6).
fn normal(rng: &mut StdRng) -> f32 {
    (0..12).map(|_| rng.random_range(0.0f32..1.0)).sum::<f32>() - 6.0
}

/// CSV text of a Gaussian-cluster task: class `c` is centred at `separation · e_c` on the
/// first `max(k, d/2)` (informative) features, so any two centres are `separation · √2` apart
/// in units of the unit noise; the other features are pure noise. Columns get different scales
/// and offsets (undone by the preprocessing). Labels are words (`alpha`, `beta`, ...).
pub fn cluster_csv(shape: TaskShape) -> String {
    const LABELS: [&str; 10] = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    ];
    let mut rng = StdRng::seed_from_u64(shape.seed);
    let d = shape.n_features;
    let informative = (d / 2).max(shape.n_classes).min(d);
    // Classes beyond the informative features share a coordinate with the opposite sign.
    let centres: Vec<Vec<f32>> = (0..shape.n_classes)
        .map(|c| {
            let mut v = vec![0f32; informative];
            let sign = if (c / informative).is_multiple_of(2) {
                1.0
            } else {
                -1.0
            };
            v[c % informative] = sign * shape.separation;
            v
        })
        .collect();
    let mut out = String::new();
    let header: Vec<String> = (0..d).map(|j| format!("measure_{j}")).collect();
    out.push_str(&header.join(","));
    out.push_str(",label\n");
    for r in 0..shape.rows {
        let c = r % shape.n_classes; // balanced
        let row: Vec<String> = (0..d)
            .map(|j| {
                let mu = if j < informative { centres[c][j] } else { 0.0 };
                // Different scales and offsets per column, undone by the preprocessing.
                let v = (mu + normal(&mut rng)) * (1.0 + j as f32 * 0.5) + j as f32;
                format!("{v:.4}")
            })
            .collect();
        out.push_str(&row.join(","));
        out.push(',');
        out.push_str(LABELS[c % LABELS.len()]);
        out.push('\n');
    }
    out
}

/// A synthetic data set named `name`.
pub fn dataset(name: &str, shape: TaskShape) -> TabularDataset {
    TabularDataset::from_csv_str(&cluster_csv(shape), "label", name).expect("synthetic CSV parses")
}

/// Requirement pool of a synthetic task.
pub fn requirements(name: &str, shape: TaskShape) -> Vec<String> {
    vec![
        format!(
            "This is a {}-class tabular classification task on {name} measurements.",
            shape.n_classes
        ),
        format!(
            "Classify {name} records into {} groups from {} numeric features.",
            shape.n_classes, shape.n_features
        ),
        format!("Predict the {name} label from sensor readings."),
    ]
}

/// A prepared task (60/10/30 split).
pub fn prepared(
    name: &str,
    shape: TaskShape,
    encoder: &HashEncoder,
    cache: &mut EmbeddingCache,
    device: &Device,
) -> PreparedTask {
    let ds = dataset(name, shape);
    let split =
        Split::seeded(ds.n_rows(), &ds.targets, (0.6, 0.1, 0.3), shape.seed).expect("split");
    PreparedTask::prepare(
        name,
        &ds,
        &split,
        requirements(name, shape),
        encoder,
        cache,
        10_000,
        device,
    )
    .expect("prepare")
}

/// Four small tasks with different feature and class counts, classes `separation` apart (see
/// [`cluster_csv`]; 4.0 is clearly separable, 2.0 overlaps).
pub fn shapes_with(separation: f32) -> Vec<(&'static str, TaskShape)> {
    let shape = |n_features, n_classes, rows, seed| TaskShape {
        n_features,
        n_classes,
        rows,
        separation,
        seed,
    };
    vec![
        ("sensors", shape(4, 2, 300, 1)),
        ("orchard", shape(6, 3, 360, 2)),
        ("turbines", shape(9, 4, 400, 3)),
        ("valves", shape(5, 2, 300, 4)),
    ]
}

/// [`shapes_with`] at the default separation of the tests (3.0).
pub fn shapes() -> Vec<(&'static str, TaskShape)> {
    shapes_with(3.0)
}

/// [`shapes_with`] prepared with a fresh cache.
pub fn tasks_with(separation: f32, device: &Device) -> Vec<PreparedTask> {
    let encoder = HashEncoder::default();
    let mut cache = EmbeddingCache::new();
    shapes_with(separation)
        .into_iter()
        .map(|(name, shape)| prepared(name, shape, &encoder, &mut cache, device))
        .collect()
}

/// [`shapes`] prepared.
pub fn tasks(device: &Device) -> Vec<PreparedTask> {
    tasks_with(3.0, device)
}

/// Every float parameter of a module as (rank, values), in visiting order.
pub fn weights_of<M: burn::module::Module>(model: &M) -> Vec<(usize, Vec<f32>)> {
    struct Collect(Vec<(usize, Vec<f32>)>);
    impl burn::module::ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let v = param
                .val()
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("f32 data");
            self.0.push((D, v));
        }
    }
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

/// Six sentences about sport.
pub const SPORTS: [&str; 6] = [
    "The striker scored twice in the second half to win the match.",
    "The team trained hard all week before the championship final.",
    "She ran the marathon in under three hours and broke the record.",
    "The goalkeeper saved a penalty in the last minute of the game.",
    "Fans cheered as the tennis player won the fifth set.",
    "The coach praised the defence after the basketball victory.",
];

/// Six sentences about cooking.
pub const COOKING: [&str; 6] = [
    "Simmer the tomato sauce with garlic and basil for twenty minutes.",
    "Knead the bread dough until it is smooth, then let it rise.",
    "Whisk the eggs with sugar and fold in the flour for the cake.",
    "Roast the vegetables in the oven with olive oil and salt.",
    "Season the soup with pepper and stir in fresh cream before serving.",
    "Fry the onions in butter until golden, then add the rice.",
];

/// The real MiniLM from the fetched assets, on `device` (a missing folder fails the test with
/// the command that fetches it).
pub fn minilm(device: &Device) -> BertRequirementEncoder {
    let dir = assets_dir().join("minilm");
    assert!(
        dir.is_dir(),
        "{} is missing: run `python3 scripts/fetch_assets.py` (these tests need the real MiniLM)",
        dir.display()
    );
    BertRequirementEncoder::from_dir(&dir, device).expect("MiniLM loads")
}

/// A two-class text task: [`SPORTS`] vs [`COOKING`].
pub fn sports_vs_cooking() -> TextDataset {
    let pairs = SPORTS
        .iter()
        .map(|t| (*t, "sports"))
        .chain(COOKING.iter().map(|t| (*t, "cooking")));
    TextDataset::from_pairs("topic", pairs).expect("two classes")
}
