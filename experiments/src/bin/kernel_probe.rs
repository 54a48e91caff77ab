//! Development probe: test accuracy of the untrained kernel-mode generator (random-feature
//! discriminant) and of the linear discriminant generator on every catalog task, beside the
//! cached per-task MLP baseline. `cargo run --release -p modelgpt-experiments --bin kernel_probe
//! [-- --directions 128]`.

use anyhow::Result;
use modelgpt_experiments::tabular::{ExperimentConfig, all_baselines, prepare_tasks};
use modelgpt_experiments::{cache_dir, device, load_encoder};
use modelgpt_hypernet::HyperNetConfig;
use modelgpt_hypernet::tabular::evaluate_generated;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dirs: usize = args
        .iter()
        .position(|a| a == "--directions")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let device = device();
    let encoder = load_encoder(&device)?;
    let cfg = ExperimentConfig::default();
    let cache = cache_dir();
    std::fs::create_dir_all(&cache)?;
    let tasks = prepare_tasks(&encoder, &cache, &cfg, &device)?;
    let general = HyperNetConfig::general(384);
    let all: Vec<_> = tasks.seen.iter().chain(&tasks.heldout).collect();
    let base = all_baselines(&all, &general, &cache, &cfg, &device)?;
    let mut kernel = HyperNetConfig::kernel(384);
    kernel.target_width = 2 * dirs;
    let kh = kernel.init(&device);
    let gh = general.init(&device);
    let mut sums = [[0f64; 4]; 2];
    let mut counts = [0usize; 2];
    println!("task split d k kernel lda mlp logreg ms");
    for t in &all {
        let held = tasks.heldout.iter().any(|h| h.name == t.name);
        let t0 = std::time::Instant::now();
        let ka = evaluate_generated(&kh, &kernel, t, &t.test, 0, &device)?;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        let la = evaluate_generated(&gh, &general, t, &t.test, 0, &device)?;
        let b = &base[&t.name];
        let i = held as usize;
        for (s, v) in sums[i]
            .iter_mut()
            .zip([ka, la, b.finetuned_acc, b.logreg_acc])
        {
            *s += v;
        }
        counts[i] += 1;
        println!(
            "{} {} {} {} {ka:.3} {la:.3} {:.3} {:.3} {ms:.1}",
            t.name,
            if held { "heldout" } else { "seen" },
            t.cols,
            t.n_classes(),
            b.finetuned_acc,
            b.logreg_acc
        );
    }
    for (i, name) in ["seen", "heldout"].iter().enumerate() {
        let n = counts[i].max(1) as f64;
        println!(
            "MEAN {name}: kernel {:.4} lda {:.4} mlp {:.4} logreg {:.4}",
            sums[i][0] / n,
            sums[i][1] / n,
            sums[i][2] / n,
            sums[i][3] / n
        );
    }
    Ok(())
}
