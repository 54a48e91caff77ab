//! Development probe: test accuracy of the untrained kernel-mode generator (random-feature
//! discriminant) and of the linear discriminant generator on every catalog task, beside the
//! cached per-task MLP baseline. `cargo run --release -p modelgpt-experiments --bin kernel_probe
//! [-- --directions 128]`.

use anyhow::Result;
use modelgpt_experiments::tabular::{ExperimentConfig, all_baselines, prepare_tasks};
use modelgpt_experiments::{cache_dir, device, load_encoder};
use modelgpt_hypernet::HyperNetConfig;
use modelgpt_hypernet::tabular::{evaluate_generated, evaluate_generated_from};

/// The value after `name` on the command line, or `default` when it is absent or unreadable.
fn flag<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dirs: usize = flag(&args, "--directions", 128);
    let max_dirs = flag(&args, "--max-directions", dirs);
    let rows_per = flag(&args, "--rows-per-direction", 16);
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
    kernel.max_target_width = 2 * max_dirs;
    let pair: f64 = flag(&args, "--pair", 0.5);
    let epochs: usize = flag(&args, "--train", 0);
    let kh = if epochs > 0 {
        let mut meta = cfg.meta.clone();
        meta.epochs = epochs;
        meta.lr = flag(&args, "--lr", 1e-3);
        let t0 = std::time::Instant::now();
        let n_prior: usize = flag(&args, "--prior", 0);
        let trainer = modelgpt_hypernet::MetaTrainer::new(kernel.clone(), meta);
        let (h, report) = if n_prior > 0 {
            let mut src = modelgpt_experiments::prior::PriorSource::new(
                modelgpt_datasets::prior::PriorConfig::default(),
                n_prior,
                &encoder,
                cfg.max_train_rows,
                &device,
            )?;
            trainer.train_with(&tasks.seen, Some(&mut src), &device)?
        } else {
            trainer.train(&tasks.seen, &device)?
        };
        for e in &report.history {
            println!(
                "epoch {} loss {:.4} valid {:.4} t {:.0}s",
                e.epoch, e.mean_loss, e.mean_valid_acc, e.elapsed_s
            );
        }
        println!(
            "best epoch {} in {:.0}s",
            report.best_epoch,
            t0.elapsed().as_secs_f64()
        );
        h
    } else {
        modelgpt_hypernet::HyperNet::Kernel(
            modelgpt_hypernet::tabular::KernelHyperNetConfig::new(384)
                .with_n_directions(dirs)
                .with_max_directions(max_dirs)
                .with_rows_per_direction(rows_per)
                .with_pair_fraction(pair)
                .init(&device),
        )
    };
    let gh = general.init(&device);
    // `--user`: generate from the whole training split (at most MAX_SAMPLE_ROWS rows,
    // stratified), as `TabularModelGpt::generate` does, instead of the meta-training sample.
    let user = args.iter().any(|a| a == "--user");
    let only_held = args.iter().any(|a| a == "--heldout");
    let mut sums = [[0f64; 4]; 2];
    let mut counts = [0usize; 2];
    println!("task split d k kernel lda mlp logreg ms");
    for t in &all {
        let held = tasks.heldout.iter().any(|h| h.name == t.name);
        if only_held && !held {
            continue;
        }
        let t0 = std::time::Instant::now();
        let ka = if user {
            let sample = modelgpt_experiments::tabular::user_sample(t)?;
            evaluate_generated_from(&kh, &kernel, t, &sample, &t.test, 0, &device)?
        } else {
            evaluate_generated(&kh, &kernel, t, &t.test, 0, &device)?
        };
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
