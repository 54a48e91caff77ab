//! Architecture choice through the public facade: budgets are honoured, a fixed member is
//! generated as asked, impossible budgets and invalid combinations are typed errors, and saved
//! models keep the decision.

mod common;

use common::{D_EMBED, HashEncoder, TaskShape, test_device};
use modelgpt_core::Requirement;
use modelgpt_hypernet::{
    ArchConstraints, ArchSelectorConfig, Error, HyperNetConfig, TabularModelGpt,
    TailoredTabularModel, generation_cost,
};
use modelgpt_targets::MlpArchitecture;
use serial_test::serial;

fn shape() -> TaskShape {
    TaskShape {
        n_features: 6,
        n_classes: 3,
        rows: 90,
        separation: 4.0,
        seed: 21,
    }
}

/// A facade over a fresh `config` hypernetwork with, when given, an untrained selector.
fn facade(
    config: HyperNetConfig,
    selector: Option<ArchSelectorConfig>,
) -> modelgpt_hypernet::Result<TabularModelGpt> {
    let device = test_device();
    let mut builder = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(config.init(&device), config);
    if let Some(sel) = selector {
        builder = builder.selector(sel.init(&device), sel);
    }
    builder.build(&device)
}

/// A kernel-mode facade with an (untrained) selector.
fn with_selector() -> TabularModelGpt {
    test_device().seed(5);
    facade(
        HyperNetConfig::kernel(D_EMBED),
        Some(ArchSelectorConfig::new(D_EMBED)),
    )
    .unwrap()
}

#[test]
#[serial]
fn budgets_are_honoured_for_every_limit() {
    let gpt = with_selector();
    let ds = common::dataset("budget", shape());
    let req = Requirement::new("A 3-class task with 6 features.");
    for budget in [40, 200, 1_000, 5_000, 50_000] {
        let c = ArchConstraints {
            max_params: Some(budget),
            architecture: None,
        };
        let model = gpt.generate_with(&ds, &req, &c).unwrap();
        assert!(
            model.n_params() <= budget,
            "{} params > {budget}",
            model.n_params()
        );
        let choice = model.architecture_choice().unwrap();
        assert_eq!(choice.how, "selector");
        assert_eq!(choice.chosen, model.architecture());
        assert!(!choice.ranking.is_empty());
        assert!(choice.ranking.iter().all(|r| r.n_params <= budget));
        let pred = model
            .predict(&ds, &(0..ds.n_rows()).collect::<Vec<_>>())
            .unwrap();
        assert!(pred.iter().all(|&p| p < 3));
    }
}

#[test]
#[serial]
fn a_fixed_member_is_generated_and_saved_with_the_choice() {
    let gpt = with_selector();
    let ds = common::dataset("fixed", shape());
    let req = Requirement::new("A 3-class task with 6 features.");
    for arch in [
        MlpArchitecture::linear(),
        MlpArchitecture::new(1, 16),
        MlpArchitecture::new(3, 32),
    ] {
        let c = ArchConstraints {
            max_params: None,
            architecture: Some(arch),
        };
        let model = gpt.generate_with(&ds, &req, &c).unwrap();
        assert_eq!(model.architecture(), arch);
        assert_eq!(model.n_params(), arch.n_params(6, 3));
        assert_eq!(model.architecture_choice().unwrap().how, "fixed");
        let dir = tempfile::tempdir().unwrap();
        model.save(dir.path()).unwrap();
        let loaded = TailoredTabularModel::load(dir.path(), gpt.device()).unwrap();
        assert_eq!(loaded.architecture(), arch);
        assert_eq!(loaded.architecture_choice(), model.architecture_choice());
        let rows: Vec<usize> = (0..ds.n_rows()).collect();
        assert_eq!(
            loaded.predict(&ds, &rows).unwrap(),
            model.predict(&ds, &rows).unwrap()
        );
    }
}

#[test]
#[serial]
fn impossible_budgets_are_typed_errors() {
    let gpt = with_selector();
    let ds = common::dataset("tight", shape());
    let req = Requirement::new("A 3-class task with 6 features.");
    // The smallest member (linear: 6*3+3 = 21 parameters) does not fit 10.
    let c = ArchConstraints {
        max_params: Some(10),
        architecture: None,
    };
    match gpt.generate_with(&ds, &req, &c) {
        Err(Error::ConstraintUnmet {
            smallest_params, ..
        }) => assert_eq!(smallest_params, 21),
        other => panic!("expected ConstraintUnmet, got {other:?}"),
    }
    // A fixed member above the budget.
    let c = ArchConstraints {
        max_params: Some(100),
        architecture: Some(MlpArchitecture::new(2, 64)),
    };
    match gpt.generate_with(&ds, &req, &c) {
        Err(Error::ConstraintUnmet { constraint, .. }) => {
            assert!(constraint.contains("mlp-2x64"), "{constraint}")
        }
        other => panic!("expected ConstraintUnmet, got {other:?}"),
    }
}

#[test]
#[serial]
fn without_a_selector_the_default_is_generated_within_the_budget() {
    let device = test_device();
    device.seed(6);
    let config = HyperNetConfig::kernel(D_EMBED);
    let gpt = facade(config, None).unwrap();
    assert!(gpt.selector().is_none());
    let ds = common::dataset("plain", shape());
    let req = Requirement::new("A 3-class task with 6 features.");
    let model = gpt.generate(&ds, &req).unwrap();
    assert_eq!(model.architecture_choice().unwrap().how, "default");
    let c = ArchConstraints {
        max_params: Some(300),
        architecture: None,
    };
    let small = gpt.generate_with(&ds, &req, &c).unwrap();
    assert!(small.n_params() <= 300);
    assert_eq!(small.architecture_choice().unwrap().how, "budget");
}

#[test]
#[serial]
fn selectors_need_a_kernel_hypernet_and_matching_widths() {
    let device = test_device();
    let general = HyperNetConfig::general(D_EMBED);
    let sel = ArchSelectorConfig::new(D_EMBED);
    let err = facade(general, Some(sel.clone())).err().unwrap();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "selector",
                ..
            }
        ),
        "{err:?}"
    );
    let kernel = HyperNetConfig::kernel(D_EMBED);
    let wide = ArchSelectorConfig::new(D_EMBED + 1);
    let err = facade(kernel.clone(), Some(wide)).err().unwrap();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "selector.d_embed",
                ..
            }
        ),
        "{err:?}"
    );
    let err = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(kernel.init(&device), kernel)
        .selector(sel.init(&device), sel)
        .without_selector()
        .build(&device)
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "selector",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
#[serial]
fn a_cost_cap_keeps_the_choice_within_the_defaults_cost() {
    let device = test_device();
    device.seed(8);
    let config = HyperNetConfig::kernel(D_EMBED);
    let default = config.init(&device).default_architecture(90);
    let sel = ArchSelectorConfig {
        max_cost_ratio: Some(1.0),
        ..ArchSelectorConfig::new(D_EMBED)
    };
    let gpt = facade(config, Some(sel)).unwrap();
    let ds = common::dataset("capped", shape());
    let model = gpt
        .generate(&ds, &Requirement::new("A 3-class task with 6 features."))
        .unwrap();
    let choice = model.architecture_choice().unwrap();
    let cost = |a: &MlpArchitecture| generation_cost(a, 90, 6, 3);
    assert!(cost(&choice.chosen) <= cost(&default));
    assert!(
        choice
            .ranking
            .iter()
            .all(|r| cost(&r.architecture) <= cost(&default))
    );
    // A cap below the default's own cost is refused.
    let bad = ArchSelectorConfig {
        max_cost_ratio: Some(0.5),
        ..ArchSelectorConfig::new(D_EMBED)
    };
    let err = facade(HyperNetConfig::kernel(D_EMBED), Some(bad))
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "max_cost_ratio",
                ..
            }
        ),
        "{err:?}"
    );
}
