//! The task prior through the public API: determinism and random access, the configured ranges,
//! compatibility with `modelgpt-core`'s preprocessing, and evidence that the prior holds tasks
//! a linear model cannot solve (a small MLP trained the same way does clearly better).

use std::collections::HashSet;
use std::time::Instant;

use modelgpt_core::data::{ColumnValues, Matrix, TabularDataset, TabularPreprocessor};
use modelgpt_datasets::Error;
use modelgpt_datasets::prior::{KindWeights, PriorConfig, PriorKind, PriorTask, TaskPrior};

/// Bit-exact equality of two tasks (`NaN` cells compare equal to `NaN`).
fn same_task(a: &PriorTask, b: &PriorTask) -> bool {
    let same_values = |x: &ColumnValues, y: &ColumnValues| match (x, y) {
        (ColumnValues::Numeric(u), ColumnValues::Numeric(v)) => {
            u.len() == v.len() && u.iter().zip(v).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => x == y,
    };
    let (da, db) = (&a.dataset, &b.dataset);
    a.index == b.index
        && a.kind == b.kind
        && a.requirements == b.requirements
        && a.target == b.target
        && a.informative == b.informative
        && a.description == b.description
        && da.name == db.name
        && da.targets == db.targets
        && da.label_names == db.label_names
        && da.columns.len() == db.columns.len()
        && da
            .columns
            .iter()
            .zip(&db.columns)
            .all(|(x, y)| x.name == y.name && same_values(&x.values, &y.values))
}

#[test]
fn tasks_are_deterministic_and_random_access() {
    let config = PriorConfig::default().with_seed(17);
    let prior = TaskPrior::new(config.clone()).unwrap();
    let again = TaskPrior::new(config).unwrap();
    for i in [0u64, 1, 2, 99, 12_345, u64::MAX] {
        assert!(same_task(&prior.task(i), &again.task(i)), "task {i}");
    }
    // Different indices, different seeds: different tasks.
    let a = prior.task(5);
    assert!(!same_task(&a, &prior.task(6)));
    let other = TaskPrior::new(PriorConfig::default().with_seed(18)).unwrap();
    assert!(a.dataset.targets != other.task(5).dataset.targets || a.kind != other.task(5).kind);
    // The stream is the tasks in order, from any start.
    let streamed: Vec<PriorTask> = prior.stream(40).take(4).collect();
    for (offset, t) in streamed.iter().enumerate() {
        assert!(same_task(t, &prior.task(40 + offset as u64)));
    }
    let mut end = prior.stream(u64::MAX);
    assert_eq!(end.next().map(|t| t.index), Some(u64::MAX));
    assert!(end.next().is_none());
}

#[test]
fn default_prior_covers_its_ranges() {
    let config = PriorConfig::default().with_seed(3);
    let prior = TaskPrior::new(config.clone()).unwrap();
    let mut kinds = HashSet::new();
    let (mut with_categorical, mut with_missing, mut with_noise_columns) = (0, 0, 0);
    let (mut many_classes, mut many_features, mut binary) = (0, 0, 0);
    let (mut imbalanced, mut label_noise) = (0, 0);
    let started = Instant::now();
    for task in prior.stream(0).take(300) {
        let ds = &task.dataset;
        let (n, d, k) = (ds.n_rows(), ds.n_features(), ds.n_classes());
        assert!((config.min_rows..=config.max_rows).contains(&n), "rows {n}");
        assert!(
            (config.min_features..=config.max_features).contains(&d),
            "features {d}"
        );
        assert!(
            (config.min_classes..=config.max_classes).contains(&k),
            "classes {k}"
        );
        let counts = ds.class_counts();
        assert!(counts.iter().all(|&c| c >= 2), "{}: {counts:?}", ds.name);
        assert_eq!(ds.name, format!("prior-{}", task.index));
        assert_eq!(task.requirements.len(), config.n_requirements);
        assert!(task.requirements.iter().all(|r| r.ends_with('.')));
        let names: HashSet<&String> = ds.columns.iter().map(|c| &c.name).collect();
        assert_eq!(names.len(), d, "feature names of {}", ds.name);
        let labels: HashSet<&String> = ds.label_names.iter().collect();
        assert_eq!(labels.len(), k, "label names of {}", ds.name);
        assert!(task.n_informative >= 1 && task.n_informative <= d);

        kinds.insert(task.kind);
        with_categorical += usize::from(task.n_categorical > 0);
        with_missing += usize::from(task.missing_fraction > 0.0);
        with_noise_columns += usize::from(task.n_informative < d);
        many_classes += usize::from(k >= 20);
        many_features += usize::from(d >= 60);
        binary += usize::from(k == 2);
        let (lo, hi) = (
            counts.iter().min().copied().unwrap_or(0),
            counts.iter().max().copied().unwrap_or(0),
        );
        imbalanced += usize::from(hi >= 3 * lo);
        label_noise += usize::from(task.label_noise > 0.0);

        // Missing cells use core's markers and the core preprocessor takes every task.
        let missing_cells: usize = ds
            .columns
            .iter()
            .map(|c| match &c.values {
                ColumnValues::Numeric(v) => v.iter().filter(|x| x.is_nan()).count(),
                ColumnValues::Categorical { codes, .. } => {
                    codes.iter().filter(|c| c.is_none()).count()
                }
            })
            .sum();
        assert_eq!(
            missing_cells as f64 / (n * d) as f64,
            task.missing_fraction,
            "{}",
            ds.name
        );
        let rows: Vec<usize> = (0..n).collect();
        let pre = TabularPreprocessor::fit(ds, &rows).unwrap();
        let m = pre.transform(ds, &rows).unwrap();
        assert!(m.data.iter().all(|x| x.is_finite()), "{}", ds.name);
        assert!(m.cols >= d);
    }
    let elapsed = started.elapsed();
    println!(
        "300 tasks in {elapsed:?}: categorical {with_categorical}, missing {with_missing}, \
         noise columns {with_noise_columns}, >=20 classes {many_classes}, >=60 features \
         {many_features}, binary {binary}, imbalanced {imbalanced}, label noise {label_noise}"
    );
    assert_eq!(kinds.len(), PriorKind::ALL.len(), "{kinds:?}");
    for (what, count, at_least) in [
        ("categorical", with_categorical, 30),
        ("missing", with_missing, 30),
        ("noise columns", with_noise_columns, 30),
        (">= 20 classes", many_classes, 5),
        (">= 60 features", many_features, 10),
        ("binary", binary, 50),
        ("imbalanced", imbalanced, 30),
        ("label noise", label_noise, 30),
    ] {
        assert!(count >= at_least, "{what}: {count} of 300 tasks");
    }
}

#[test]
fn wide_configs_reach_500_features_and_50_classes() {
    let config = PriorConfig::default()
        .with_seed(8)
        .with_features(2, 500)
        .with_classes(2, 50);
    let prior = TaskPrior::new(config).unwrap();
    let (mut max_d, mut max_k) = (0, 0);
    for task in prior.stream(0).take(40) {
        let ds = &task.dataset;
        assert!(ds.n_features() <= 500 && ds.n_classes() <= 50);
        assert!(ds.class_counts().iter().all(|&c| c >= 2));
        max_d = max_d.max(ds.n_features());
        max_k = max_k.max(ds.n_classes());
    }
    assert!(
        max_d > 200 && max_k >= 30,
        "largest: {max_d} features, {max_k} classes"
    );
    // Tiny tasks work too: one feature, rows just enough for the classes.
    let tiny = TaskPrior::new(
        PriorConfig::default()
            .with_features(1, 1)
            .with_classes(3, 3)
            .with_rows(6, 6),
    )
    .unwrap();
    for task in tiny.stream(0).take(50) {
        assert_eq!(
            task.dataset.class_counts(),
            [2, 2, 2],
            "{}",
            task.description
        );
    }
}

#[test]
fn invalid_configs_name_the_field() {
    let err = TaskPrior::new(PriorConfig::default().with_classes(1, 5)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "min_classes",
                ..
            }
        ),
        "{err}"
    );
    let err = TaskPrior::new(
        PriorConfig::default()
            .with_classes(30, 40)
            .with_rows(10, 50),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "max_rows",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("max_rows"), "{err}");
    let err = serde_json::from_str::<PriorConfig>(r#"{"max_row": 10}"#).unwrap_err();
    assert!(err.to_string().contains("max_row"), "{err}");
    let config = PriorConfig::default().with_weights(KindWeights::only(PriorKind::Boolean));
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(serde_json::from_str::<PriorConfig>(&json).unwrap(), config);
}

// ---------------------------------------------------------------------------------------------
// Linear vs MLP on prior tasks: plain-Rust softmax classifiers trained by full-batch Adam.

/// A classifier with an optional ReLU hidden layer: `x → [W1, b1, relu] → W2, b2 → logits`.
struct Net {
    d_input: usize,
    d_hidden: usize, // 0: linear softmax regression
    d_output: usize,
    params: Vec<f32>,
}

impl Net {
    fn new(d_input: usize, d_hidden: usize, d_output: usize, seed: u64) -> Self {
        let mut state = seed;
        let mut normal = move || {
            // Box–Muller on two SplitMix64 uniforms.
            let mut next = || {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
            };
            let (u, v) = (next().max(1e-12), next());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        };
        let d_last = if d_hidden > 0 { d_hidden } else { d_input };
        let mut params = Vec::new();
        if d_hidden > 0 {
            let s = (2.0 / d_input as f32).sqrt();
            params.extend((0..d_input * d_hidden).map(|_| normal() * s));
            params.extend(std::iter::repeat_n(0.0, d_hidden));
        }
        let s = (1.0 / d_last as f32).sqrt();
        params.extend((0..d_last * d_output).map(|_| normal() * s));
        params.extend(std::iter::repeat_n(0.0, d_output));
        Self {
            d_input,
            d_hidden,
            d_output,
            params,
        }
    }

    /// Hidden activations `[n, d_hidden]` (the input itself for a linear net) and logits
    /// `[n, d_output]`.
    fn forward(&self, x: &Matrix) -> (Vec<f32>, Vec<f32>) {
        let (n, di, dh, k) = (x.rows, self.d_input, self.d_hidden, self.d_output);
        let (hidden, d_last, head) = if dh > 0 {
            let (w1, rest) = self.params.split_at(di * dh);
            let b1 = &rest[..dh];
            let mut h = vec![0.0f32; n * dh];
            for r in 0..n {
                let hr = &mut h[r * dh..(r + 1) * dh];
                hr.copy_from_slice(b1);
                for (i, &xi) in x.row(r).iter().enumerate() {
                    for (hj, &w) in hr.iter_mut().zip(&w1[i * dh..(i + 1) * dh]) {
                        *hj += xi * w;
                    }
                }
                hr.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            (h, dh, &self.params[di * dh + dh..])
        } else {
            (x.data.clone(), di, &self.params[..])
        };
        let (w2, b2) = head.split_at(d_last * k);
        let mut logits = vec![0.0f32; n * k];
        for r in 0..n {
            let lr = &mut logits[r * k..(r + 1) * k];
            lr.copy_from_slice(b2);
            for (i, &hi) in hidden[r * d_last..(r + 1) * d_last].iter().enumerate() {
                if hi != 0.0 {
                    for (l, &w) in lr.iter_mut().zip(&w2[i * k..(i + 1) * k]) {
                        *l += hi * w;
                    }
                }
            }
        }
        (hidden, logits)
    }

    /// Gradient of the mean cross-entropy with respect to `params`.
    fn gradient(&self, x: &Matrix, y: &[usize]) -> Vec<f32> {
        let (n, di, dh, k) = (x.rows, self.d_input, self.d_hidden, self.d_output);
        let (hidden, mut g) = self.forward(x);
        // g = (softmax - onehot) / n, in place: [n, k].
        for r in 0..n {
            let lr = &mut g[r * k..(r + 1) * k];
            let max = lr.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in lr.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            for v in lr.iter_mut() {
                *v /= sum * n as f32;
            }
            lr[y[r]] -= 1.0 / n as f32;
        }
        let mut grad = vec![0.0f32; self.params.len()];
        let d_last = if dh > 0 { dh } else { di };
        let head_at = if dh > 0 { di * dh + dh } else { 0 };
        let w2 = &self.params[head_at..head_at + d_last * k];
        let mut g_hidden = vec![0.0f32; if dh > 0 { n * dh } else { 0 }];
        {
            let (gw2, gb2) = grad[head_at..].split_at_mut(d_last * k);
            for r in 0..n {
                let gr = &g[r * k..(r + 1) * k];
                for (b, &v) in gb2.iter_mut().zip(gr) {
                    *b += v;
                }
                for (i, &hi) in hidden[r * d_last..(r + 1) * d_last].iter().enumerate() {
                    if hi != 0.0 {
                        for (gw, &v) in gw2[i * k..(i + 1) * k].iter_mut().zip(gr) {
                            *gw += hi * v;
                        }
                        if dh > 0 {
                            let back: f32 = w2[i * k..(i + 1) * k]
                                .iter()
                                .zip(gr)
                                .map(|(w, v)| w * v)
                                .sum();
                            g_hidden[r * dh + i] = back; // ReLU: only where hi > 0
                        }
                    }
                }
            }
        }
        if dh > 0 {
            let (gw1, rest) = grad.split_at_mut(di * dh);
            let gb1 = &mut rest[..dh];
            for r in 0..n {
                let gh = &g_hidden[r * dh..(r + 1) * dh];
                for (b, &v) in gb1.iter_mut().zip(gh) {
                    *b += v;
                }
                for (i, &xi) in x.row(r).iter().enumerate() {
                    for (gw, &v) in gw1[i * dh..(i + 1) * dh].iter_mut().zip(gh) {
                        *gw += xi * v;
                    }
                }
            }
        }
        grad
    }

    fn accuracy(&self, x: &Matrix, y: &[usize]) -> f64 {
        let (_, logits) = self.forward(x);
        let k = self.d_output;
        let hits = (0..x.rows)
            .filter(|&r| {
                let lr = &logits[r * k..(r + 1) * k];
                let best = (0..k).max_by(|&a, &b| lr[a].total_cmp(&lr[b])).unwrap_or(0);
                best == y[r]
            })
            .count();
        hits as f64 / x.rows as f64
    }

    /// Full-batch Adam (β = 0.9, 0.999).
    fn train(&mut self, x: &Matrix, y: &[usize], steps: usize, lr: f32) {
        let mut m = vec![0.0f32; self.params.len()];
        let mut v = vec![0.0f32; self.params.len()];
        for t in 1..=steps {
            let g = self.gradient(x, y);
            let (c1, c2) = (1.0 - 0.9f32.powi(t as i32), 1.0 - 0.999f32.powi(t as i32));
            for i in 0..self.params.len() {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                self.params[i] -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + 1e-8);
            }
        }
    }
}

/// Stratified 50/50 split: within each class, rows alternate between train and test.
fn split(ds: &TabularDataset) -> (Vec<usize>, Vec<usize>) {
    let mut seen = vec![0usize; ds.n_classes()];
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (r, &y) in ds.targets.iter().enumerate() {
        if seen[y].is_multiple_of(2) {
            train.push(r);
        } else {
            test.push(r);
        }
        seen[y] += 1;
    }
    (train, test)
}

/// Test accuracy of a linear softmax classifier and of a one-hidden-layer (64 ReLU) MLP, both
/// trained with full-batch Adam on the standardized training half.
fn linear_and_mlp_accuracy(ds: &TabularDataset, seed: u64) -> (f64, f64) {
    let (train, test) = split(ds);
    let pre = TabularPreprocessor::fit(ds, &train).unwrap();
    let (xtr, xte) = (
        pre.transform(ds, &train).unwrap(),
        pre.transform(ds, &test).unwrap(),
    );
    let ytr: Vec<usize> = train.iter().map(|&r| ds.targets[r]).collect();
    let yte: Vec<usize> = test.iter().map(|&r| ds.targets[r]).collect();
    let k = ds.n_classes();
    let mut linear = Net::new(xtr.cols, 0, k, seed);
    linear.train(&xtr, &ytr, 300, 0.05);
    let mut mlp = Net::new(xtr.cols, 64, k, seed);
    mlp.train(&xtr, &ytr, 300, 0.01);
    (linear.accuracy(&xte, &yte), mlp.accuracy(&xte, &yte))
}

/// On 40 small tasks, 8 of each kind (2–10 columns, 2–4 classes, 400–800 rows, no missing or
/// categorical cells), a 64-unit ReLU MLP beats a linear softmax classifier trained the same way
/// (300 full-batch Adam steps) by a clear margin on held-out rows.
///
/// Measured (release build) for this sample: linear 0.777, MLP 0.854, gap 0.076; per kind
/// MLP-SCM 0.031, smooth function 0.112, tree 0.113, boolean 0.095, Gaussian mixture 0.032.
/// Over seeds 1–7 the 40-task gap was 0.061–0.100, and smooth, tree and boolean tasks always
/// had kind gaps of 0.05 or more; hence the thresholds (0.04 overall, three kinds at 0.04). A
/// prior of linear tasks would give gaps near 0 and fail.
#[test]
fn the_prior_holds_tasks_a_linear_model_cannot_solve() {
    let per_kind = 8;
    let started = Instant::now();
    let mut all = Vec::new();
    let mut kind_gaps = Vec::new();
    for kind in PriorKind::ALL {
        let mut config = PriorConfig::default()
            .with_seed(2024)
            .with_features(2, 10)
            .with_classes(2, 4)
            .with_rows(400, 800)
            .with_weights(KindWeights::only(kind));
        config.p_missing = 0.0;
        config.p_categorical = 0.0;
        let prior = TaskPrior::new(config).unwrap();
        let mut gaps = Vec::new();
        for task in prior.stream(0).take(per_kind) {
            let ds = &task.dataset;
            assert!(ds.columns.iter().all(|c| c.values.is_numeric()));
            let (lin, mlp) = linear_and_mlp_accuracy(ds, task.index);
            println!(
                "{:>3} {:<16} n={:<4} d={:<2} k={} linear {lin:.3} mlp {mlp:.3}",
                task.index,
                kind.as_str(),
                ds.n_rows(),
                ds.n_features(),
                ds.n_classes()
            );
            all.push((lin, mlp));
            gaps.push(mlp - lin);
        }
        kind_gaps.push((kind, gaps.iter().sum::<f64>() / gaps.len() as f64));
    }
    let n = all.len() as f64;
    let lin = all.iter().map(|r| r.0).sum::<f64>() / n;
    let mlp = all.iter().map(|r| r.1).sum::<f64>() / n;
    println!(
        "mean test accuracy over {} tasks: linear {lin:.3}, mlp {mlp:.3}, gap {:.3} ({:?})",
        all.len(),
        mlp - lin,
        started.elapsed()
    );
    for (kind, gap) in &kind_gaps {
        println!("  {:<16} mean gap {gap:.3}", kind.as_str());
    }
    assert!(mlp - lin >= 0.04, "linear {lin:.3}, mlp {mlp:.3}");
    let nonlinear_kinds = kind_gaps.iter().filter(|(_, g)| *g >= 0.04).count();
    assert!(nonlinear_kinds >= 3, "{kind_gaps:?}");
}

/// Time to draw a 2,000-row, 100-column task, per kind (run with `--ignored --nocapture`).
#[test]
#[ignore = "timing report, not a check"]
fn time_to_draw_a_2000_by_100_task() {
    for kind in PriorKind::ALL {
        let prior = TaskPrior::new(
            PriorConfig::default()
                .with_rows(2000, 2000)
                .with_features(100, 100)
                .with_weights(KindWeights::only(kind)),
        )
        .unwrap();
        let started = Instant::now();
        let n = 40;
        let cells: usize = prior
            .stream(0)
            .take(n)
            .map(|t| t.dataset.n_rows() * t.dataset.n_features())
            .sum();
        let per_task = started.elapsed() / n as u32;
        assert_eq!(cells, n * 200_000);
        println!("{:<16} {per_task:?} per task", kind.as_str());
    }
    let prior = TaskPrior::new(
        PriorConfig::default()
            .with_rows(2000, 2000)
            .with_features(100, 100),
    )
    .unwrap();
    let started = Instant::now();
    let n = 100;
    prior.stream(0).take(n).for_each(drop);
    println!(
        "default mix      {:?} per task",
        started.elapsed() / n as u32
    );
}
