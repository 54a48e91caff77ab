//! Meta-training of the [`ImageHyperNet`] (end to end): at every step a random class subset of a
//! training task, a support sample the generator reads and a disjoint query sample the generated
//! CNN is scored on; the cross-entropy of the query flows back through the CNN, the
//! closed-form head and the convolutions into the generator's heads (Adam, gradient clipping).
//!
//! Measured on MNIST and Fashion-MNIST (300 steps, 66 s on 2 cores): the query loss falls from
//! 1.42 to about 0.3, almost all of it calibration (the temperature), while the test accuracy of
//! the generated CNNs at 2,000 sample images falls slightly (MNIST 0.950 → 0.932): the untrained
//! generator stays the default until meta-training pays.

use std::time::Instant;

use burn::config::Config;
use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_targets::CnnFamily;
use modelgpt_targets::metrics::cross_entropy;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::hypernet::{ImageContext, ImageHyperNet, ImageHyperNetConfig};
use crate::error::{Error, Result};

/// One image task of meta-training, with its encodings.
#[derive(Debug, Clone)]
pub struct ImageMetaTask {
    /// Task name (for reports).
    pub name: String,
    /// Pixels in `[0, 1]`, image after image (`[n, c, h, w]`).
    pub pixels: Vec<f32>,
    /// Class of each image.
    pub labels: Vec<usize>,
    /// `[c, h, w]`.
    pub shape: [usize; 3],
    /// Number of classes.
    pub n_classes: usize,
    /// Embeddings of the task's requirement sentences, one `d_embed` vector each (one is
    /// sampled per step).
    pub requirements: Vec<Vec<f32>>,
    /// Label-name embeddings, `[n_classes, d_embed]` row-major.
    pub label_embeddings: Vec<f32>,
}

/// Settings of [`meta_train_images`].
#[derive(Config, Debug)]
pub struct ImageMetaTrainConfig {
    /// Optimiser steps (one task per step).
    #[config(default = 300)]
    pub steps: usize,
    /// Adam learning rate.
    #[config(default = 1e-3)]
    pub lr: f64,
    /// Gradient norm clip.
    #[config(default = 1.0)]
    pub grad_clip: f32,
    /// Most support images per class of a step (the generator's sample); each step draws its
    /// count uniformly from `min_support_per_class..=support_per_class`, so the heads see the
    /// sample sizes users bring.
    #[config(default = 200)]
    pub support_per_class: usize,
    /// Fewest support images per class of a step.
    #[config(default = 10)]
    pub min_support_per_class: usize,
    /// Query images of a step.
    #[config(default = 128)]
    pub query: usize,
    /// Fewest classes of a step's class subset (at least 2).
    #[config(default = 2)]
    pub min_classes: usize,
    /// Seed of the task, class and image draws.
    #[config(default = 7)]
    pub seed: u64,
}

/// What [`meta_train_images`] reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageMetaReport {
    /// Mean query loss of every block of 25 steps.
    pub loss_curve: Vec<f64>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Steps run.
    pub steps: usize,
}

/// Meta-trains an image generator of `config` on `tasks` (see the [module docs](self)).
/// `progress(step, mean loss)` is called every 25 steps.
///
/// # Errors
/// [`Error::InvalidConfig`] for no task or no step; generation failures.
pub fn meta_train_images(
    config: &ImageHyperNetConfig,
    tasks: &[ImageMetaTask],
    meta: &ImageMetaTrainConfig,
    device: &Device,
    mut progress: impl FnMut(usize, f64),
) -> Result<(ImageHyperNet, ImageMetaReport)> {
    if tasks.is_empty() || meta.steps == 0 {
        return Err(Error::InvalidConfig {
            field: "steps",
            reason: "need at least one task and one step".into(),
        });
    }
    let ad = device.clone().autodiff();
    ad.seed(meta.seed);
    let mut model = config.init(&ad).train();
    let mut optim = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(meta.grad_clip)))
        .init();
    let mut rng = StdRng::seed_from_u64(meta.seed);
    let mut report = ImageMetaReport::default();
    let t0 = Instant::now();
    let mut block = (0.0, 0usize);
    for step in 0..meta.steps {
        let task = &tasks[rng.random_range(0..tasks.len())];
        let k_all = task.n_classes;
        let lo = meta.min_classes.clamp(2, k_all.max(2));
        let k = rng.random_range(lo..=k_all.max(lo));
        let mut classes: Vec<usize> = (0..k_all).collect();
        classes.shuffle(&mut rng);
        classes.truncate(k);
        let per_class = rng.random_range(
            meta.min_support_per_class.min(meta.support_per_class)..=meta.support_per_class,
        );
        let mut support = Vec::new();
        let mut query = Vec::new();
        for (new, &c) in classes.iter().enumerate() {
            let mut rows: Vec<usize> = (0..task.labels.len())
                .filter(|&r| task.labels[r] == c)
                .collect();
            rows.shuffle(&mut rng);
            let s = per_class.min(rows.len() / 2);
            let q = (meta.query / k).max(1).min(rows.len() - s);
            support.extend(rows[..s].iter().map(|&r| (r, new)));
            query.extend(rows[s..s + q].iter().map(|&r| (r, new)));
        }
        if support.len() < 2 || query.is_empty() {
            continue;
        }
        let plane: usize = task.shape.iter().product();
        let gather = |rows: &[(usize, usize)]| -> (Vec<f32>, Vec<usize>) {
            let mut px = Vec::with_capacity(rows.len() * plane);
            for &(r, _) in rows {
                px.extend_from_slice(&task.pixels[r * plane..(r + 1) * plane]);
            }
            (px, rows.iter().map(|&(_, c)| c).collect())
        };
        let (sx, sy) = gather(&support);
        let (qx, qy) = gather(&query);
        let e = task.label_embeddings.len() / k_all.max(1);
        let mut labels = Vec::with_capacity(k * e);
        for &c in &classes {
            labels.extend_from_slice(&task.label_embeddings[c * e..(c + 1) * e]);
        }
        let req = &task.requirements[rng.random_range(0..task.requirements.len())];
        let ctx = ImageContext {
            requirement: Tensor::from_data(TensorData::new(req.clone(), [1, req.len()]), &ad),
            label_names: Tensor::from_data(TensorData::new(labels, [k, e]), &ad),
            pixels: sx,
            labels: sy,
            shape: task.shape,
            n_classes: k,
            seed: rng.random(),
        };
        let generated = model.forward(&ctx)?;
        let family = CnnFamily::new(generated.spec)?;
        let [c, h, w] = task.shape;
        let xq = Tensor::<2>::from_data(TensorData::new(qx, [qy.len(), plane]), &ad).reshape([
            qy.len(),
            c,
            h,
            w,
        ]);
        let loss = cross_entropy(family.try_forward_with(&generated.params, xq)?, &qy);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        if !value.is_finite() {
            continue;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(meta.lr, model, grads);
        block.0 += value;
        block.1 += 1;
        if block.1 == 25 || step + 1 == meta.steps {
            let mean = block.0 / block.1.max(1) as f64;
            report.loss_curve.push(mean);
            progress(step + 1, mean);
            block = (0.0, 0);
        }
        report.steps = step + 1;
    }
    report.seconds = t0.elapsed().as_secs_f64();
    Ok((model.valid().to_device(device), report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_device;

    /// 10 × 10 images with one bright row (class 0) or column (class 1) at a random place.
    fn task(n: usize) -> ImageMetaTask {
        let mut rng = StdRng::seed_from_u64(3);
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for i in 0..n {
            let at = rng.random_range(0..10usize);
            for r in 0..10 {
                for c in 0..10 {
                    let on = if i % 2 == 0 { r == at } else { c == at };
                    pixels.push(if on { 0.9 } else { 0.1 } + rng.random_range(-0.05..0.05f32));
                }
            }
            labels.push(i % 2);
        }
        ImageMetaTask {
            name: "lines".into(),
            pixels,
            labels,
            shape: [1, 10, 10],
            n_classes: 2,
            requirements: vec![vec![0.1; 8], vec![-0.1; 8]],
            label_embeddings: vec![0.0; 16],
        }
    }

    #[test]
    fn meta_training_runs_and_lowers_the_query_loss() {
        let device = test_device();
        let config = ImageHyperNetConfig::new(8).with_channels(vec![4, 8]);
        let meta = ImageMetaTrainConfig::new()
            .with_steps(50)
            .with_support_per_class(20)
            .with_query(40)
            .with_lr(3e-3);
        let (hyper, report) =
            meta_train_images(&config, &[task(200)], &meta, &device, |_, _| {}).unwrap();
        assert_eq!(report.steps, 50);
        assert_eq!(report.loss_curve.len(), 2);
        assert!(report.loss_curve.iter().all(|l| l.is_finite()));
        assert!(
            report.loss_curve[1] < report.loss_curve[0],
            "query loss {:?}",
            report.loss_curve
        );
        assert_eq!(hyper.cnn_spec([1, 10, 10], 2).channels, vec![4, 8]);
        assert!(meta_train_images(&config, &[], &meta, &device, |_, _| {}).is_err());
    }
}
