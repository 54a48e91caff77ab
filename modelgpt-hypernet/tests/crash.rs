//! Crash safety under `kill -9`: meta-training and model saving run in a child process (this
//! test binary, re-run on its ignored `child_process` entry point) that is killed with SIGKILL
//! at 20 seeded random moments. After every kill the folder must load, and a resumed
//! meta-training run must lose at most the interrupted epoch and end exactly where an
//! uninterrupted run ends.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{HashEncoder, TaskShape, dataset, test_device, weights_of};
use modelgpt_core::Requirement;
use modelgpt_hypernet::{
    HyperNetConfig, MetaRule, MetaTrainConfig, MetaTrainer, TabularModelGpt, TailoredTabularModel,
};

const CHILD_ENV: &str = "MODELGPT_CRASH_CHILD";
const KILLS: usize = 20;
const EPOCHS: usize = 200;

fn trainer() -> MetaTrainer {
    let config = MetaTrainConfig {
        rule: MetaRule::EndToEnd,
        epochs: EPOCHS,
        steps_per_task: 2,
        batch_size: 64,
        lr: 2e-3,
        grad_clip: 0.25,
        sample_min_rows: 24,
        sample_max_rows: 120,
        patience: EPOCHS,
        seed: 11,
        ..MetaTrainConfig::default()
    };
    MetaTrainer::new(HyperNetConfig::general(common::D_EMBED), config).with_progress(false)
}

/// Two small generated models (different shapes) for the save test.
fn two_models() -> (TailoredTabularModel, TailoredTabularModel) {
    let device = test_device();
    let config = HyperNetConfig::general(common::D_EMBED);
    let mgpt = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(config.init(&device), config)
        .build(&device)
        .unwrap();
    let make = |n_features, n_classes, seed| {
        let shape = TaskShape {
            n_features,
            n_classes,
            rows: 90,
            separation: 2.0,
            seed,
        };
        mgpt.generate(
            &dataset("t", shape),
            &Requirement::new("Classify the measurements."),
        )
        .unwrap()
    };
    (make(4, 2, 1), make(6, 3, 2))
}

/// Entry point of the killed child: `meta:DIR` meta-trains with checkpoints in DIR; `save:DIR`
/// saves two models to DIR in turn, forever. Not a test on its own (it returns at once when the
/// variable is unset); the tests below run it.
#[test]
#[ignore = "child process of the crash tests"]
fn child_process() {
    let Ok(job) = std::env::var(CHILD_ENV) else {
        return;
    };
    let device = test_device();
    if let Some(dir) = job.strip_prefix("meta:") {
        let tasks = common::tasks(&device);
        trainer()
            .with_checkpoint_dir(dir)
            .train(&tasks, &device)
            .unwrap();
    } else if let Some(dir) = job.strip_prefix("save:") {
        let (a, b) = two_models();
        loop {
            a.save(dir).unwrap();
            b.save(dir).unwrap();
        }
    }
}

fn spawn(job: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process", "--ignored", "--test-threads=1"])
        .env(CHILD_ENV, job)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Seeded kill moments, in milliseconds after the start.
fn moments(seed: u64, lo: u64, hi: u64) -> Vec<u64> {
    let mut s = seed;
    (0..KILLS)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            lo + (s >> 33) % (hi - lo)
        })
        .collect()
}

fn kill_after(mut child: Child, ms: u64) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    true
}

fn committed_epoch(dir: &Path) -> Option<(usize, bool)> {
    let bytes = std::fs::read(dir.join("state.json")).ok()?;
    let state: serde_json::Value = serde_json::from_slice(&bytes).expect("state.json is whole");
    let epoch = state["report"]["history"].as_array()?.last()?["epoch"].as_u64()? as usize;
    Some((epoch, state["finished"].as_bool()?))
}

#[test]
fn meta_training_survives_kill_9_at_random_moments() {
    let device = test_device();
    let tasks = common::tasks(&device);
    let reference_dir = tempfile::tempdir().unwrap();
    let (m_ref, r_ref) = trainer()
        .with_checkpoint_dir(reference_dir.path())
        .train(&tasks, &device)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let job = format!("meta:{}", dir.path().display());
    let mut committed = 0usize;
    let mut killed = 0;
    // Kill moments spread over the child's start-up (~80 ms) and its first epochs (a few ms
    // each, every one ending in checkpoint writes), so that the run advances between kills and
    // most kills fall inside training or writing.
    for ms in moments(7, 40, 220) {
        killed += usize::from(kill_after(spawn(&job), ms));
        if let Some((epoch, _)) = committed_epoch(dir.path()) {
            assert!(
                epoch >= committed,
                "the committed epoch went back from {committed} to {epoch}"
            );
            committed = epoch;
            // The interrupted run's folder loads as a hypernetwork.
            TabularModelGpt::builder()
                .encoder(Box::new(HashEncoder::default()))
                .checkpoint(dir.path())
                .build(&device)
                .unwrap_or_else(|e| panic!("after a kill at {ms} ms: {e}"));
        }
    }
    assert!(
        killed >= KILLS / 2,
        "only {killed} kills hit a running child"
    );
    // Let the last run finish, then compare with the uninterrupted run.
    let status = spawn(&job).wait().unwrap();
    assert!(status.success(), "the final resumed run failed: {status}");
    assert_eq!(committed_epoch(dir.path()), Some((EPOCHS, true)));
    let (m_res, r_res) = trainer()
        .with_checkpoint_dir(dir.path())
        .train(&tasks, &device)
        .unwrap();
    assert_eq!(r_res.history.len(), r_ref.history.len());
    for (a, b) in r_ref.history.iter().zip(&r_res.history) {
        // Means are summed in f64 from per-task values; allow for their last bits.
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
        let same = a.epoch == b.epoch
            && close(a.mean_loss, b.mean_loss)
            && close(a.mean_valid_acc, b.mean_valid_acc);
        assert!(
            same,
            "epoch {} differs after {killed} kills: {a:?} vs {b:?}",
            a.epoch
        );
    }
    assert_eq!(r_ref.best_epoch, r_res.best_epoch);
    assert!(weights_of(&m_ref) == weights_of(&m_res), "weights differ");
}

#[test]
fn a_saved_model_folder_survives_kill_9_at_random_moments() {
    let device = test_device();
    let (a, b) = two_models();
    let probe = |m: &TailoredTabularModel| (m.mlp().d_input(), weights_of(m.mlp()));
    let (pa, pb) = (probe(&a), probe(&b));
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("model");
    let job = format!("save:{}", dir.display());
    let mut loaded = 0;
    for ms in moments(3, 40, 400) {
        assert!(kill_after(spawn(&job), ms), "the saving child exited");
        if !dir.exists() && !parent.path().join(".model.previous").exists() {
            continue; // killed before its first save finished
        }
        let m = TailoredTabularModel::load(&dir, &device)
            .unwrap_or_else(|e| panic!("after a kill at {ms} ms: {e}"));
        let p = probe(&m);
        assert!(p == pa || p == pb, "a mixed model after a kill at {ms} ms");
        loaded += 1;
    }
    assert!(loaded >= KILLS / 2, "only {loaded} kills came after a save");
}
