//! The text facade on the real MiniLM with an untrained hypernetwork (whose head is the support
//! sample's shrunk linear discriminant on frozen sentence embeddings). Needs `assets/minilm`
//! (`python3 scripts/fetch_assets.py`; CI fetches it first): a missing folder fails the tests.

mod common;

use common::{SPORTS, minilm as encoder, sports_vs_cooking, test_device};

use burn::tensor::Device;
use modelgpt_core::data::{TextDataset, assets_dir};
use modelgpt_hypernet::{Error, TextHyperNetConfig, TextModelGpt};

fn untrained(device: &Device) -> TextModelGpt {
    let config = TextHyperNetConfig::default();
    let hyper = config.init(device).expect("default config is valid");
    TextModelGpt::new(encoder(device), hyper, config).expect("widths match MiniLM")
}

#[test]
fn untrained_generator_fits_separable_texts_and_saves_peft() {
    let device = test_device();
    let mgpt = untrained(&device);
    let data = sports_vs_cooking();
    let tailored = mgpt
        .tailor(
            &data,
            "Classify short texts as being about sports or cooking.",
        )
        .expect("tailoring works");
    assert_eq!(tailored.labels(), ["cooking", "sports"]);
    assert_eq!(tailored.family().n_classes(), 2);
    assert_eq!(tailored.params().spec().len(), 10); // 2 layers × (q, v) × (A, B) + W + b
    let timing = tailored.timing();
    assert_eq!(timing.n_sample, 12);
    assert!(timing.total_ms() >= timing.hypernet_ms && timing.hypernet_ms > 0.0);

    // Training texts: the shrunk-LDA head on frozen embeddings separates these two topics.
    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    let logits = tailored.logits(&texts).expect("logits");
    assert_eq!(logits.len(), 12);
    assert!(
        logits
            .iter()
            .all(|l| l.len() == 2 && l.iter().all(|v| v.is_finite()))
    );
    let acc = tailored.accuracy(&data).expect("accuracy");
    assert_eq!(acc, 1.0, "training accuracy {acc}");

    // Unseen sentences of the same topics.
    let unseen = [
        "The cyclist won the mountain stage of the race.",
        "Bake the pie until the crust turns golden brown.",
    ];
    let labels = tailored.predict_labels(&unseen).expect("predict");
    assert_eq!(labels, ["sports", "cooking"]);
    assert!(tailored.predict(&[]).expect("no texts is fine").is_empty());

    // A test set whose labels are a subset, in another order, is matched by name.
    let test = TextDataset::from_pairs(
        "topic-test",
        [
            (unseen[0], "sports"),
            (unseen[1], "cooking"),
            (SPORTS[0], "sports"),
        ],
    )
    .expect("two classes");
    assert_eq!(tailored.accuracy(&test).expect("accuracy"), 1.0);

    // Labels the model does not know are an error, not silently skipped.
    let mut other = test.clone();
    other.label_names = vec!["cooking".into(), "politics".into()];
    assert!(matches!(
        tailored.accuracy(&other),
        Err(Error::InvalidInput { .. })
    ));

    let dir = tempfile::tempdir().expect("tempdir");
    tailored.save_peft(dir.path()).expect("PEFT export");
    for file in [
        "adapter_config.json",
        "adapter_model.safetensors",
        "classifier.safetensors",
        "labels.json",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} not written");
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let device = test_device();

    // A hypernetwork of another width.
    let narrow = TextHyperNetConfig {
        d_embed: 16,
        d_model: 16,
        ..TextHyperNetConfig::default()
    };
    let hyper = narrow.init(&device).expect("valid config");
    let err = TextModelGpt::new(encoder(&device), hyper, narrow).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "d_embed",
                ..
            }
        ),
        "{err}"
    );

    // Weights that do not follow their configuration (another hidden width).
    let config = TextHyperNetConfig::default();
    let other = TextHyperNetConfig {
        d_hidden: 64,
        ..config.clone()
    };
    let hyper = other.init(&device).expect("valid config");
    let err = TextModelGpt::new(encoder(&device), hyper, config.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "hypernet",
                ..
            }
        ),
        "{err}"
    );

    // LoRA on a layer MiniLM (6 layers) does not have.
    let deep = TextHyperNetConfig {
        lora: config.lora.clone().with_layers([4, 6]),
        ..config.clone()
    };
    let hyper = deep
        .init(&device)
        .expect("layers are checked against a model later");
    let err = TextModelGpt::new(encoder(&device), hyper, deep).unwrap_err();
    assert!(
        matches!(err, Error::InvalidConfig { field: "lora", .. }),
        "{err}"
    );

    let mgpt = untrained(&device);
    assert!(matches!(
        mgpt.with_support_per_class(0),
        Err(Error::InvalidConfig {
            field: "support_per_class",
            ..
        })
    ));

    let mgpt = untrained(&device);
    // One class (`from_pairs` refuses it, so built by hand).
    let one = TextDataset {
        name: "one".into(),
        texts: SPORTS.iter().map(|t| t.to_string()).collect(),
        targets: vec![0; SPORTS.len()],
        label_names: vec!["sports".into()],
    };
    assert!(matches!(
        mgpt.tailor(&one, "Sports."),
        Err(Error::InvalidInput { .. })
    ));
    let empty = TextDataset {
        texts: Vec::new(),
        targets: Vec::new(),
        label_names: vec!["cooking".into(), "sports".into()],
        ..one
    };
    assert!(matches!(
        mgpt.tailor(&empty, "Sports or cooking."),
        Err(Error::InvalidInput { .. })
    ));

    // Missing folders are named.
    let missing = std::path::Path::new("/nonexistent/minilm");
    let err = TextModelGpt::load(missing, "/nonexistent/hypernet", &device).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/minilm"), "{err}");
    let err = TextModelGpt::load(
        assets_dir().join("minilm"),
        "/nonexistent/hypernet",
        &device,
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/hypernet"), "{err}");
}

#[test]
fn tailoring_again_reuses_the_remembered_embeddings() {
    let device = test_device();
    let mgpt = untrained(&device);
    let data = sports_vs_cooking();
    let requirement = "Classify short texts as being about sports or cooking.";
    let first = mgpt.tailor(&data, requirement).unwrap();
    let second = mgpt.tailor(&data, requirement).unwrap();
    // Same inputs, same tensors: the remembered embeddings are the encoder's.
    for (a, b) in first.params().flat().iter().zip(second.params().flat()) {
        let gap = (a.clone() - b.clone()).abs().max().into_scalar::<f32>();
        assert_eq!(gap, 0.0);
    }
    let texts = [
        "The referee showed a red card.",
        "Bake the pie for forty minutes.",
    ];
    assert_eq!(
        first.predict(&texts).unwrap(),
        second.predict(&texts).unwrap()
    );
}
