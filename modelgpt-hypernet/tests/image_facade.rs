//! The image facade through the public API: generate a CNN for a folder-like image set, predict,
//! save and load it; bad samples are typed errors.

mod common;

use common::{D_EMBED, HashEncoder, test_device};

use modelgpt_core::TailoredModel;
use modelgpt_core::data::ImageDataset;
use modelgpt_hypernet::Error;
use modelgpt_hypernet::image::{ImageModelGpt, TailoredImageModel};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// 16 × 16 images with a bright square in one of four quadrants (the class), on noise.
fn quadrants(n: usize, seed: u64) -> ImageDataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pixels = Vec::with_capacity(n * 256);
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 4;
        let (r0, c0) = ((class / 2) * 8, (class % 2) * 8);
        let (dr, dc) = (rng.random_range(0..4usize), rng.random_range(0..4usize));
        for r in 0..16 {
            for c in 0..16 {
                let inside =
                    (r0 + dr..r0 + dr + 4).contains(&r) && (c0 + dc..c0 + dc + 4).contains(&c);
                let v: f32 = if inside { 0.8 } else { 0.2 };
                pixels.push((v + rng.random_range(-0.15..0.15f32)).clamp(0.0, 1.0));
            }
        }
        targets.push(class);
    }
    ImageDataset {
        name: "quadrants".into(),
        channels: 1,
        height: 16,
        width: 16,
        pixels,
        targets,
        label_names: ["top left", "top right", "bottom left", "bottom right"]
            .map(String::from)
            .to_vec(),
    }
}

#[test]
fn generate_predict_save_and_load() {
    let device = test_device();
    let mgpt = ImageModelGpt::untrained(Box::new(HashEncoder { dim: D_EMBED }), &device);
    let train = quadrants(200, 1);
    let model = mgpt
        .tailor(&train, "Find the quadrant with the bright square.")
        .unwrap();
    assert_eq!(model.labels(), train.label_names.as_slice());
    assert_eq!(model.timing().n_sample, 200);
    let test = quadrants(120, 2);
    let pred = model.predict(&test).unwrap();
    let acc = pred
        .iter()
        .zip(&test.targets)
        .filter(|(p, t)| p == t)
        .count() as f64
        / 120.0;
    assert!(acc > 0.9, "generated CNN accuracy {acc}");

    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let back = TailoredImageModel::load(dir.path(), &device).unwrap();
    assert_eq!(back.predict(&test).unwrap(), pred);
    assert_eq!(
        back.requirement(),
        "Find the quadrant with the bright square."
    );
    assert_eq!(back.predict_labels(&test).unwrap()[0], "top left");
}

#[test]
fn bad_samples_and_inputs_are_typed_errors() {
    let device = test_device();
    let mgpt = ImageModelGpt::untrained(Box::new(HashEncoder { dim: D_EMBED }), &device);
    let mut one_class = quadrants(20, 3);
    one_class.targets.iter_mut().for_each(|t| *t = 1);
    let err = mgpt.tailor(&one_class, "x").unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert!(err.to_string().contains("at least 2 classes"), "{err}");

    let mut tiny = quadrants(20, 4);
    tiny.height = 2;
    tiny.width = 128;
    assert!(
        mgpt.tailor(&tiny, "x").is_err(),
        "images too small for two poolings"
    );

    let model = mgpt.tailor(&quadrants(40, 5), "x").unwrap();
    let mut other = quadrants(4, 6);
    other.height = 8;
    other.width = 32;
    let err = model.predict(&other).unwrap_err();
    assert!(err.to_string().contains("1 × 16 × 16"), "{err}");
}
