//! Meta-training, checkpoints and saved models through the public API, on small synthetic tasks
//! and a deterministic fake encoder.
//!
//! Every test that trains is `#[serial]`: the trainer seeds the device, and the seed may be global.

mod common;

use std::path::Path;

use burn::tensor::Device;
use common::{D_EMBED, HashEncoder, test_device, weights_of};
use modelgpt_core::Requirement;
use modelgpt_hypernet::{
    EpochReport, Error, HyperNet, HyperNetConfig, MetaRule, MetaTrainConfig, MetaTrainReport,
    MetaTrainer, PaperTask, PreparedTask, TabularModelGpt, TailoredTabularModel,
};
use modelgpt_targets::train::{LabeledRows, TrainConfig, predict, train_classifier};
use serial_test::serial;

fn hyper_config() -> HyperNetConfig {
    HyperNetConfig::general(D_EMBED)
}

fn train_config(rule: MetaRule, epochs: usize, seed: u64) -> MetaTrainConfig {
    MetaTrainConfig {
        rule,
        epochs,
        steps_per_task: 4,
        batch_size: 64,
        lr: 2e-3,
        grad_clip: 0.25,
        local_steps: 3,
        inner_lr: 1e-2,
        sample_min_rows: 24,
        sample_max_rows: 120,
        patience: 40,
        seed,
        ..MetaTrainConfig::default()
    }
}

fn trainer(config: MetaTrainConfig) -> MetaTrainer {
    MetaTrainer::new(hyper_config(), config).with_progress(false)
}

/// The history without wall times (which differ between runs by nature).
fn history_without_time(report: &MetaTrainReport) -> Vec<(usize, f64, f64)> {
    report
        .history
        .iter()
        .map(
            |EpochReport {
                 epoch,
                 mean_loss,
                 mean_valid_acc,
                 ..
             }| (*epoch, *mean_loss, *mean_valid_acc),
        )
        .collect()
}

/// Same run: bit-identical histories (no checkpoint involved).
fn assert_same_run(a: &MetaTrainReport, b: &MetaTrainReport) {
    assert_eq!(history_without_time(a), history_without_time(b));
    assert_eq!(
        (a.best_epoch, a.best_valid_acc, a.stopped_early),
        (b.best_epoch, b.best_valid_acc, b.stopped_early)
    );
}

/// `a == b` up to the last bit or two: `state.json` stores f64 as shortest decimal, and
/// serde_json without its `float_roundtrip` feature may parse it back one ulp off.
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// Same run, one side read back from `state.json`; wall times compared too when `with_time`
/// (a report read from a checkpoint keeps them, a retrained one would not).
fn assert_same_report(a: &MetaTrainReport, b: &MetaTrainReport, with_time: bool) {
    assert_eq!(a.history.len(), b.history.len(), "{a:?}\nvs\n{b:?}");
    for (x, y) in a.history.iter().zip(&b.history) {
        let ok = x.epoch == y.epoch
            && close(x.mean_loss, y.mean_loss)
            && close(x.mean_valid_acc, y.mean_valid_acc)
            && (!with_time || close(x.elapsed_s, y.elapsed_s));
        assert!(ok, "epoch {}: {x:?} vs {y:?}", x.epoch);
    }
    assert_eq!(
        (a.best_epoch, a.stopped_early),
        (b.best_epoch, b.stopped_early)
    );
    assert!(close(a.best_valid_acc, b.best_valid_acc));
}

fn mean_test_acc(hyper: &HyperNet, tasks: &[PreparedTask], device: &Device) -> f64 {
    mean_test_acc_of(hyper, &hyper_config(), tasks, device)
}

fn mean_test_acc_of(
    hyper: &HyperNet,
    config: &HyperNetConfig,
    tasks: &[PreparedTask],
    device: &Device,
) -> f64 {
    let sum: f64 = tasks
        .iter()
        .map(|t| {
            modelgpt_hypernet::tabular::evaluate_generated(hyper, config, t, &t.test, 0, device)
                .unwrap()
        })
        .sum();
    sum / tasks.len() as f64
}

/// Mean test accuracy of the per-task trained MLP (the baseline of issue 3).
fn trained_mlp_test_acc(tasks: &[PreparedTask], device: &Device) -> f64 {
    let sum: f64 = tasks
        .iter()
        .map(|t| {
            let spec = hyper_config().mlp_spec(t.cols, t.n_classes());
            let out = train_classifier(
                &spec,
                None,
                LabeledRows::new(&t.train.x, t.cols, &t.train.y).unwrap(),
                LabeledRows::new(&t.valid.x, t.cols, &t.valid.y).unwrap(),
                &TrainConfig::new(),
                device,
                None,
            )
            .unwrap();
            let pred = predict(&out.model, &t.test.x).unwrap();
            pred.iter().zip(&t.test.y).filter(|(p, y)| p == y).count() as f64 / pred.len() as f64
        })
        .sum();
    sum / tasks.len() as f64
}

/// Meta-trains 15 epochs on overlapping clusters (separation 2.0: the per-task trained MLP
/// reaches about 0.87 test accuracy) and checks what it learned.
///
/// The untrained general generator already emits the sample's linear-discriminant classifier,
/// which is near Bayes-optimal on these equal-covariance Gaussian clusters, so there is little
/// to gain on test accuracy here. Measured (flex, seed 42; EndToEnd / Delta): validation
/// accuracy 0.910 / 0.903 after epoch 1, best 0.928 / 0.933; mean test accuracy 0.872
/// untrained, 0.872 / 0.866 after; per-task trained MLP 0.866; mean training loss of epochs
/// 1-5 0.498 / 0.513, of epochs 11-15 0.432 / 0.467.
fn assert_learns(rule: MetaRule) {
    let device = test_device();
    let tasks = common::tasks_with(2.0, &device);
    device.seed(42);
    let untrained = hyper_config().init(&device);
    let before = mean_test_acc(&untrained, &tasks, &device);
    let (model, report) = trainer(train_config(rule, 15, 42))
        .train(&tasks, &device)
        .unwrap();
    let after = mean_test_acc(&model, &tasks, &device);
    let baseline = trained_mlp_test_acc(&tasks, &device);
    // history[0] is epoch 0, the untrained generator; the trained epochs follow.
    assert_eq!(report.history[0].epoch, 0);
    let trained = &report.history[1..];
    let first = trained[0].mean_valid_acc;
    eprintln!(
        "{}: loss per epoch {:?}; valid acc per epoch {:?}; best {:.3} at {}; test acc untrained {before:.3} -> {after:.3}, trained MLP {baseline:.3}",
        rule.as_str(),
        report
            .history
            .iter()
            .map(|h| (h.mean_loss * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        report
            .history
            .iter()
            .map(|h| (h.mean_valid_acc * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        report.best_valid_acc,
        report.best_epoch,
    );
    assert_eq!(trained.len(), 15);
    assert!(trained.iter().all(|h| h.mean_loss.is_finite()));
    assert!(
        report.best_valid_acc > 0.9,
        "best valid acc {}",
        report.best_valid_acc
    );
    assert!(
        report.best_valid_acc >= first,
        "best {} below epoch 1 {first}",
        report.best_valid_acc
    );
    let mean_loss = |h: &[EpochReport]| h.iter().map(|e| e.mean_loss).sum::<f64>() / h.len() as f64;
    let (early, late) = (mean_loss(&trained[..5]), mean_loss(&trained[10..]));
    assert!(
        late < early,
        "training loss did not fall: {early} -> {late}"
    );
    // Meta-training must not undo the discriminant initialisation.
    assert!(
        after >= before - 0.02,
        "test acc fell from {before} to {after}"
    );
    // Issue 3's target for seen tasks: >= 97% of the per-task trained MLP.
    assert!(
        after >= 0.97 * baseline,
        "generated {after} vs trained MLP {baseline}"
    );
}

#[test]
#[serial]
#[ignore = "measured after the unit-scale logits and temperature were added: from the discriminant initialisation \
            the end-to-end query loss does not fall on these near-Bayes-optimal clusters (0.339 over epochs 1-5 vs \
            0.364 over 11-15); see the issue note. `end_to_end_rule_learns_from_scratch` checks the rule itself"]
fn end_to_end_rule_learns() {
    assert_learns(MetaRule::EndToEnd);
}

#[test]
#[serial]
#[ignore = "measured: from the discriminant initialisation the Delta rule's inner-step loss does not fall on these \
            near-Bayes-optimal clusters (0.443 over epochs 1-5 vs 0.465 over 11-15); see the issue note. \
            `delta_rule_learns_from_scratch` checks the rule itself"]
fn delta_rule_learns() {
    assert_learns(MetaRule::Delta);
}

/// A meta-training rule on the paper-mode hypernetwork, which starts from random heads:
/// meta-training must lift the generated models far above the untrained ones.
fn assert_learns_from_scratch(rule: MetaRule) {
    let device = test_device();
    let tasks = common::tasks(&device);
    let paper_tasks = tasks
        .iter()
        .map(|t| PaperTask {
            name: t.name.clone(),
            n_features: t.cols,
            n_classes: t.n_classes(),
        })
        .collect();
    let config = train_config(rule, 30, 42);
    let trainer =
        MetaTrainer::new(HyperNetConfig::paper(D_EMBED, paper_tasks), config).with_progress(false);
    let (_, report) = trainer.train(&tasks, &device).unwrap();
    let untrained = report.history[0].mean_valid_acc;
    eprintln!(
        "{}/paper: valid acc per epoch {:?}",
        rule.as_str(),
        report
            .history
            .iter()
            .map(|h| (h.mean_valid_acc * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    assert!(
        report.best_epoch > 0,
        "meta-training never beat the untrained generator"
    );
    assert!(
        report.best_valid_acc >= untrained + 0.2,
        "best {} vs untrained {untrained}",
        report.best_valid_acc
    );
}

#[test]
#[serial]
fn delta_rule_learns_from_scratch() {
    assert_learns_from_scratch(MetaRule::Delta);
}

#[test]
#[serial]
fn end_to_end_rule_learns_from_scratch() {
    assert_learns_from_scratch(MetaRule::EndToEnd);
}

#[test]
#[serial]
fn clearly_separable_tasks_are_solved() {
    // Separation 4.0: the trained MLP reaches about 0.99; so does the generator (measured: 1.0
    // validation accuracy from epoch 1 on for both rules, test 0.99).
    let device = test_device();
    let tasks = common::tasks_with(4.0, &device);
    for rule in [MetaRule::EndToEnd, MetaRule::Delta] {
        let (model, report) = trainer(train_config(rule, 3, 42))
            .train(&tasks, &device)
            .unwrap();
        assert!(
            report.best_valid_acc >= 0.98,
            "{}: {}",
            rule.as_str(),
            report.best_valid_acc
        );
        let acc = mean_test_acc(&model, &tasks, &device);
        assert!(acc >= 0.97, "{}: test acc {acc}", rule.as_str());
    }
}

#[test]
#[serial]
fn same_seed_gives_the_same_run() {
    let device = test_device();
    let tasks = common::tasks(&device);
    for rule in [MetaRule::EndToEnd, MetaRule::Delta] {
        let (m1, r1) = trainer(train_config(rule, 3, 7))
            .train(&tasks, &device)
            .unwrap();
        let (m2, r2) = trainer(train_config(rule, 3, 7))
            .train(&tasks, &device)
            .unwrap();
        assert_same_run(&r1, &r2);
        assert!(
            weights_of(&m1) == weights_of(&m2),
            "{}: weights differ",
            rule.as_str()
        );
        // A different seed gives a different run (the seed is really used).
        let (_, r3) = trainer(train_config(rule, 3, 8))
            .train(&tasks, &device)
            .unwrap();
        assert_ne!(
            history_without_time(&r1),
            history_without_time(&r3),
            "{}",
            rule.as_str()
        );
    }
}

/// Largest absolute difference between the weights of two generators of one configuration.
fn max_weight_gap(a: &HyperNet, b: &HyperNet) -> f32 {
    let (wa, wb) = (weights_of(a), weights_of(b));
    assert_eq!(wa.len(), wb.len());
    wa.iter()
        .zip(&wb)
        .flat_map(|((_, x), (_, y))| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

/// Several tasks per step spread over two devices (here twice the flex device, on two worker
/// threads): the same run as all of them on one device. Without dropout, so that no random
/// mask depends on which thread draws first.
#[test]
#[serial]
fn tasks_spread_over_two_devices_give_the_one_device_run() {
    let device = test_device();
    let tasks = common::tasks_with(1.5, &device);
    let hyper = HyperNetConfig {
        dropout: 0.0,
        ..hyper_config()
    };
    for rule in [MetaRule::EndToEnd, MetaRule::Delta] {
        let config = MetaTrainConfig {
            tasks_per_step: 3,
            ..train_config(rule, 2, 11)
        };
        let run = |devices: Vec<Device>| {
            MetaTrainer::new(hyper.clone(), config.clone())
                .with_progress(false)
                .with_devices(devices)
                .train(&tasks, &device)
                .unwrap()
        };
        let (m1, r1) = run(Vec::new());
        let (m2, r2) = run(vec![device.clone(), device.clone()]);
        // The same computation up to rounding: flex's parallel kernels may split a product
        // differently when two threads call them at once.
        assert_eq!(r1.history.len(), r2.history.len());
        for (a, b) in r1.history.iter().zip(&r2.history) {
            assert!(
                (a.mean_loss - b.mean_loss).abs() <= 1e-6 * a.mean_loss.abs().max(1e-3),
                "{}: {a:?} vs {b:?}",
                rule.as_str()
            );
            assert!(
                (a.mean_valid_acc - b.mean_valid_acc).abs() <= 0.02,
                "{a:?} vs {b:?}"
            );
        }
        assert_eq!(r1.best_epoch, r2.best_epoch);
        let gap = max_weight_gap(&m1, &m2);
        assert!(gap <= 1e-4, "{}: weights differ by {gap}", rule.as_str());
        // Three tasks per step are not three steps of one task.
        let (_, r3) = MetaTrainer::new(hyper.clone(), train_config(rule, 2, 11))
            .with_progress(false)
            .train(&tasks, &device)
            .unwrap();
        let loss = |r: &MetaTrainReport| r.history[2].mean_loss;
        assert!((loss(&r1) - loss(&r3)).abs() > 1e-4, "{}", rule.as_str());
    }
}

/// A run started from given weights equals the run that initialises them itself.
#[test]
#[serial]
fn a_run_from_given_initial_weights_is_the_seeded_run() {
    let device = test_device();
    let tasks = common::tasks(&device);
    let config = train_config(MetaRule::EndToEnd, 2, 13);
    let (m1, r1) = trainer(config.clone()).train(&tasks, &device).unwrap();
    device.seed(config.seed);
    let initial = hyper_config().init(&device);
    let (m2, r2) = trainer(config)
        .with_initial(initial)
        .train(&tasks, &device)
        .unwrap();
    assert_same_run(&r1, &r2);
    assert!(weights_of(&m1) == weights_of(&m2));
    let paper = HyperNetConfig::paper(
        D_EMBED,
        vec![PaperTask {
            name: "x".into(),
            n_features: 3,
            n_classes: 2,
        }],
    )
    .init(&device);
    let err = trainer(train_config(MetaRule::EndToEnd, 1, 1))
        .with_initial(paper)
        .train(&tasks, &device)
        .unwrap_err();
    assert!(err.to_string().contains("paper mode"), "{err}");
}

#[test]
#[serial]
fn finished_checkpoint_is_reused_without_retraining() {
    let device = test_device();
    let tasks = common::tasks(&device);
    let dir = tempfile::tempdir().unwrap();
    let config = train_config(MetaRule::EndToEnd, 3, 11);
    let t = trainer(config.clone()).with_checkpoint_dir(dir.path());
    assert!(
        t.load_finished(&tasks, &device).unwrap().is_none(),
        "empty folder holds no run"
    );
    let (m1, r1) = t.train(&tasks, &device).unwrap();
    for name in ["hypernet.safetensors", "state.json"] {
        assert!(dir.path().join(name).is_file(), "{name} missing");
    }
    let no_tmp = std::fs::read_dir(dir.path())
        .unwrap()
        .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
    assert!(no_tmp, "temporary files left behind");

    // A second trainer of the same configuration: identical report, wall times included (a new
    // run would have new ones), identical weights.
    let t2 = trainer(config).with_checkpoint_dir(dir.path());
    let (m2, r2) = t2.train(&tasks, &device).unwrap();
    assert_same_report(&r1, &r2, true);
    assert!(weights_of(&m1) == weights_of(&m2));
    let (m3, r3) = t2
        .load_finished(&tasks, &device)
        .unwrap()
        .expect("finished run");
    assert_same_report(&r1, &r3, true);
    assert!(weights_of(&m1) == weights_of(&m3));

    // The facade loads the same hypernetwork.
    let gpt = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .checkpoint(dir.path())
        .build(&device)
        .unwrap();
    assert_eq!(gpt.config(), &hyper_config());
}

/// Turns a finished checkpoint into the state an interruption after `epochs` epochs leaves:
/// `finished = false`, the history cut to `epochs` entries, the best epoch among them.
///
/// The final epoch writes only `hypernet.safetensors` and `state.json`, so `last-{total−1}.bpk`
/// and `optimizer-{total−1}.bin` are the resumable state left: cut to `total − 1` epochs.
/// `hypernet.safetensors` may hold the final epoch's model if that one was best; the resumed
/// run then replaces it with the identical model when it replays that epoch.
fn rewind_state(dir: &Path, epochs: usize) {
    let path = dir.join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["finished"] = false.into();
    let report = &mut state["report"];
    let history = report["history"].as_array_mut().unwrap();
    history.truncate(epochs);
    let (best_epoch, best_acc) = history
        .iter()
        .fold((0u64, f64::NEG_INFINITY), |(be, ba), h| {
            let acc = h["mean_valid_acc"].as_f64().unwrap();
            if acc > ba {
                (h["epoch"].as_u64().unwrap(), acc)
            } else {
                (be, ba)
            }
        });
    report["best_epoch"] = best_epoch.into();
    report["best_valid_acc"] = best_acc.into();
    report["stopped_early"] = false.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
}

fn resume_matches_uninterrupted(rule: MetaRule) {
    let device = test_device();
    let tasks = common::tasks(&device);
    let config = train_config(rule, 4, 13);
    let full = tempfile::tempdir().unwrap();
    let (m_full, r_full) = trainer(config.clone())
        .with_checkpoint_dir(full.path())
        .train(&tasks, &device)
        .unwrap();

    // An interrupted run: the same folder state an interruption after epoch 3 leaves, plus the
    // stray temporary files a kill during a write leaves.
    let cut = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(full.path()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), cut.path().join(e.file_name())).unwrap();
    }
    for name in ["last-3.bpk", "optimizer-3.bin"] {
        assert!(
            cut.path().join(name).is_file(),
            "{name} missing: nothing to resume from"
        );
    }
    rewind_state(cut.path(), 4); // epochs 0..=3: last-3.bpk and optimizer-3.bin hold the state after epoch 3
    std::fs::write(
        cut.path().join(format!(".last-4.bpk.{}.tmp", u32::MAX)),
        b"partial garbage",
    )
    .unwrap();
    std::fs::write(
        cut.path().join(format!(".state.json.{}.tmp", u32::MAX)),
        b"{\"hyper",
    )
    .unwrap();
    let t = trainer(config).with_checkpoint_dir(cut.path());
    assert!(
        t.load_finished(&tasks, &device).unwrap().is_none(),
        "an unfinished run is not reused"
    );
    let (m_res, r_res) = t.train(&tasks, &device).unwrap();
    assert_eq!(r_res.history.len(), 5); // epochs 0..=4
    assert_same_report(&r_full, &r_res, false);
    assert!(
        weights_of(&m_full) == weights_of(&m_res),
        "{}: resumed weights differ",
        rule.as_str()
    );
}

#[test]
#[serial]
fn resume_end_to_end_matches_uninterrupted_run() {
    resume_matches_uninterrupted(MetaRule::EndToEnd);
}

#[test]
#[serial]

fn resume_delta_matches_uninterrupted_run() {
    resume_matches_uninterrupted(MetaRule::Delta);
}

#[test]
#[serial]
fn checkpoint_of_another_config_is_a_typed_error() {
    let device = test_device();
    let tasks = common::tasks(&device);
    let dir = tempfile::tempdir().unwrap();
    trainer(train_config(MetaRule::EndToEnd, 1, 3))
        .with_checkpoint_dir(dir.path())
        .train(&tasks, &device)
        .unwrap();

    let expect_mismatch = |t: MetaTrainer, tasks: &[PreparedTask], what: &str| {
        let err = t.train(tasks, &device).unwrap_err();
        assert!(
            matches!(err, Error::CheckpointMismatch { .. }),
            "{what}: {err:?}"
        );
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{what}: {err}"
        );
        let err = t.load_finished(tasks, &device).unwrap_err();
        assert!(
            matches!(err, Error::CheckpointMismatch { .. }),
            "{what}: {err:?}"
        );
    };
    // Other training settings.
    expect_mismatch(
        trainer(train_config(MetaRule::EndToEnd, 1, 4)).with_checkpoint_dir(dir.path()),
        &tasks,
        "seed",
    );
    expect_mismatch(
        trainer(train_config(MetaRule::Delta, 1, 3)).with_checkpoint_dir(dir.path()),
        &tasks,
        "rule",
    );
    // Another hypernetwork shape.
    let mut other = hyper_config();
    other.target_width = 32;
    expect_mismatch(
        MetaTrainer::new(other, train_config(MetaRule::EndToEnd, 1, 3))
            .with_progress(false)
            .with_checkpoint_dir(dir.path()),
        &tasks,
        "hypernet",
    );
    // Another task list.
    expect_mismatch(
        trainer(train_config(MetaRule::EndToEnd, 1, 3)).with_checkpoint_dir(dir.path()),
        &tasks[..2],
        "tasks",
    );
    // The facade with an encoder of another width.
    let err = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder { dim: D_EMBED * 2 }))
        .checkpoint(dir.path())
        .build(&device)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "d_embed",
                ..
            }
        ),
        "{err:?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
#[serial]
fn killed_checkpoint_write_leaves_previous_checkpoint_loadable() {
    let device = test_device();
    let tasks = common::tasks(&device);
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = trainer(train_config(MetaRule::EndToEnd, 2, 5))
        .with_checkpoint_dir(dir.path())
        .train(&tasks, &device)
        .unwrap();
    let reference = weights_of(&model);

    // A kill in the middle of `write_atomic` leaves a partial temporary file beside the
    // previous checkpoint, never a partial checkpoint.
    let weights = std::fs::read(dir.path().join("hypernet.safetensors")).unwrap();
    std::fs::write(
        dir.path()
            .join(format!(".hypernet.safetensors.{}.tmp", u32::MAX)),
        &weights[..weights.len() / 3],
    )
    .unwrap();
    std::fs::write(
        dir.path().join(format!(".state.json.{}.tmp", u32::MAX)),
        b"{\"hypernet\": {\"mo",
    )
    .unwrap();

    let gpt = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .checkpoint(dir.path())
        .build(&device)
        .unwrap();
    let (loaded, _) = trainer(train_config(MetaRule::EndToEnd, 2, 5))
        .with_checkpoint_dir(dir.path())
        .load_finished(&tasks, &device)
        .unwrap()
        .expect("finished run");
    assert!(weights_of(&loaded) == reference);
    // The facade generates with the checkpoint's weights: same model as from the trained net.
    let direct = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(model, hyper_config())
        .build(&device)
        .unwrap();
    let (name, shape) = common::shapes()[1];
    let ds = common::dataset(name, shape);
    let req = Requirement::new(common::requirements(name, shape)[0].clone());
    let a = gpt.generate(&ds, &req).unwrap();
    let b = direct.generate(&ds, &req).unwrap();
    assert!(weights_of(a.mlp()) == weights_of(b.mlp()));

    // A torn checkpoint file (what a non-atomic write would leave) is a typed error, not a panic.
    let torn = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), torn.path());
    std::fs::write(
        torn.path().join("hypernet.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    let build = || {
        TabularModelGpt::builder()
            .encoder(Box::new(HashEncoder::default()))
            .checkpoint(torn.path())
            .build(&device)
    };
    let err = build().unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert!(err.to_string().contains("hypernet.safetensors"), "{err}");
    // Header intact but tensor data cut short.
    std::fs::write(
        torn.path().join("hypernet.safetensors"),
        &weights[..weights.len() - 8],
    )
    .unwrap();
    let err = build().unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    // Missing weights file.
    std::fs::remove_file(torn.path().join("hypernet.safetensors")).unwrap();
    let err = build().unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    // A torn manifest (what the facade reads) and a torn training state (what resuming reads).
    copy_dir(dir.path(), torn.path());
    let manifest = std::fs::read(dir.path().join("checkpoint.json")).unwrap();
    std::fs::write(
        torn.path().join("checkpoint.json"),
        &manifest[..manifest.len() / 2],
    )
    .unwrap();
    let err = build().unwrap_err();
    assert!(matches!(err, Error::Json { .. }), "{err:?}");
    assert!(err.to_string().contains("checkpoint.json"), "{err}");
    let state = std::fs::read(dir.path().join("state.json")).unwrap();
    std::fs::write(torn.path().join("state.json"), &state[..state.len() / 2]).unwrap();
    let err = trainer(train_config(MetaRule::EndToEnd, 2, 5))
        .with_checkpoint_dir(torn.path())
        .train(&tasks, &device)
        .unwrap_err();
    assert!(matches!(err, Error::Json { .. }), "{err:?}");
}

#[test]
#[serial]
fn tailored_model_round_trip() {
    let device = test_device();
    let config = hyper_config();
    device.seed(21);
    let gpt = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(config.init(&device), config)
        .build(&device)
        .unwrap();
    let (name, shape) = common::shapes()[2];
    let ds = common::dataset(name, shape);
    let rows: Vec<usize> = (0..ds.n_rows()).collect();
    let req = Requirement::new(common::requirements(name, shape)[1].clone());
    let model = gpt.generate(&ds, &req).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = TailoredTabularModel::load(dir.path(), &device).unwrap();
    assert_eq!(loaded.requirement(), req.as_str());
    assert_eq!(loaded.labels(), model.labels());
    assert_eq!(
        loaded.predict(&ds, &rows).unwrap(),
        model.predict(&ds, &rows).unwrap()
    );
    assert!(weights_of(loaded.mlp()) == weights_of(model.mlp()));
    // Probabilities: one row per input, summing to 1, arg-max equal to `predict`.
    let proba = loaded.predict_proba(&ds, &rows).unwrap();
    assert_eq!(proba.len(), rows.len());
    for (p, &pred) in proba.iter().zip(&loaded.predict(&ds, &rows).unwrap()) {
        assert_eq!(p.len(), loaded.labels().len());
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{p:?}");
        let argmax = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(argmax, pred);
    }
    let x = model.features(&ds, &rows).unwrap();
    assert_eq!(loaded.features(&ds, &rows).unwrap(), x);
    // Saving over an existing model works (atomic replace).
    loaded.save(dir.path()).unwrap();
    TailoredTabularModel::load(dir.path(), &device).unwrap();

    // Metadata that disagrees with the MLP: one label too many.
    let meta_path = dir.path().join("tailored.json");
    let original = std::fs::read(&meta_path).unwrap();
    let mut meta: serde_json::Value = serde_json::from_slice(&original).unwrap();
    meta["labels"].as_array_mut().unwrap().push("omega".into());
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let err = TailoredTabularModel::load(dir.path(), &device).unwrap_err();
    assert!(matches!(err, Error::CheckpointMismatch { .. }), "{err:?}");
    // Torn metadata.
    std::fs::write(&meta_path, &original[..original.len() / 2]).unwrap();
    let err = TailoredTabularModel::load(dir.path(), &device).unwrap_err();
    assert!(matches!(err, Error::Json { .. }), "{err:?}");
    // Missing folder.
    let err = TailoredTabularModel::load(dir.path().join("nope"), &device).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}

/// Extra tasks per epoch: the same synthetic tasks again, under new names.
struct Copies {
    tasks: Vec<PreparedTask>,
    label: String,
}

impl modelgpt_hypernet::EpochTasks for Copies {
    fn tasks(&mut self, epoch: usize) -> modelgpt_hypernet::Result<Vec<PreparedTask>> {
        Ok(self
            .tasks
            .iter()
            .map(|t| {
                let mut copy = t.clone();
                copy.name = format!("{}-copy-{epoch}", t.name);
                copy
            })
            .collect())
    }

    fn per_epoch(&self) -> usize {
        self.tasks.len()
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

#[test]
#[serial]
fn kernel_mode_trains_with_an_extra_task_source_and_resumes_only_with_the_same_source() {
    let device = test_device();
    let tasks = common::tasks_with(2.0, &device);
    let config = HyperNetConfig {
        target_width: 64,
        ..HyperNetConfig::kernel(D_EMBED)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut extra = Copies {
        tasks: tasks.clone(),
        label: "copies".into(),
    };
    let t = MetaTrainer::new(config.clone(), train_config(MetaRule::EndToEnd, 2, 3))
        .with_progress(false)
        .with_checkpoint_dir(dir.path())
        .with_monitor(tasks[..1].to_vec());
    let (model, report) = t.train_with(&tasks, Some(&mut extra), &device).unwrap();
    assert_eq!(report.history.len(), 3);
    assert_eq!(report.history[2].extra_tasks_seen, 2 * tasks.len());
    assert!(report.history.iter().all(|h| h.monitor_valid_acc.is_some()));
    assert!(report.history[1..].iter().all(|h| h.mean_loss.is_finite()));
    // The untrained kernel generator already separates these clusters well above chance.
    assert!(report.history[0].mean_valid_acc > 0.8, "{report:?}");
    assert!(mean_test_acc_of(&model, &config, &tasks, &device) > 0.8);
    // The finished run is found again with the same source, refused with another one.
    let again = t.train_with(&tasks, Some(&mut extra), &device).unwrap().1;
    assert_eq!(again.history.len(), 3);
    extra.label = "other copies".into();
    let err = t.train_with(&tasks, Some(&mut extra), &device).unwrap_err();
    assert!(
        matches!(&err, Error::CheckpointMismatch { reason, .. } if reason.contains("extra task source")),
        "{err}"
    );
}
