//! The image wing: a hypernetwork that writes every weight of a small CNN
//! (`modelgpt_targets::Cnn`) from the requirement and the user's labelled images
//! ([`ImageHyperNet`]), and the facade users call ([`ImageModelGpt`] →
//! [`TailoredImageModel`]).
//!
//! ## Example
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use modelgpt_hypernet::image::{ImageContext, ImageHyperNetConfig};
//! use modelgpt_targets::CnnFamily;
//!
//! let device = Device::default();
//! // Four 8 × 8 greyscale images: a bright top half (class 0) or bottom half (class 1).
//! let mut pixels = Vec::new();
//! for i in 0..4 {
//!     for row in 0..8 {
//!         let on = (row < 4) == (i % 2 == 0);
//!         pixels.extend([if on { 1.0 } else { 0.0 }; 8]);
//!     }
//! }
//! let ctx = ImageContext {
//!     requirement: Tensor::zeros([1, 8], &device),
//!     label_names: Tensor::zeros([2, 8], &device),
//!     pixels,
//!     labels: vec![0, 1, 0, 1],
//!     shape: [1, 8, 8],
//!     n_classes: 2,
//!     seed: 0,
//! };
//! let hyper = ImageHyperNetConfig::new(8).with_channels(vec![4]).init(&device);
//! let generated = hyper.forward(&ctx)?;
//! let family = CnnFamily::new(generated.spec.clone())?;
//! let images = Tensor::<1>::from_floats(ctx.pixels.as_slice(), &device).reshape([4, 1, 8, 8]);
//! let logits = family.try_forward_with(&generated.params, images)?;
//! assert_eq!(logits.dims(), [4, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod facade;
pub mod hypernet;
pub mod meta;

pub use facade::{
    IMAGE_LABELS_FILE, ImageModelGpt, MAX_IMAGE_CLASSES, MAX_IMAGE_SAMPLE, TailoredImageModel,
};
pub use hypernet::{GeneratedCnn, ImageContext, ImageHyperNet, ImageHyperNetConfig};
pub use meta::{ImageMetaReport, ImageMetaTask, ImageMetaTrainConfig, meta_train_images};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_device;
    use burn::module::Module;
    use burn::tensor::{Device, Tensor};
    use modelgpt_targets::CnnFamily;
    use modelgpt_targets::metrics::{accuracy, cross_entropy};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    const E: usize = 8;

    /// 12 × 12 images of one bright horizontal (class 0), vertical (1) or diagonal (2) line at a
    /// random position, on noise.
    fn lines(n: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let class = i % 3;
            let at = rng.random_range(0..12usize);
            for r in 0..12 {
                for c in 0..12 {
                    let on = match class {
                        0 => r == at,
                        1 => c == at,
                        _ => (r + at) % 12 == c,
                    };
                    let v = if on { 0.9 } else { 0.1 } + rng.random_range(-0.1..0.1f32);
                    x.push(v);
                }
            }
            y.push(class);
        }
        (x, y)
    }

    fn context(n: usize, seed: u64, device: &Device) -> ImageContext {
        let (pixels, labels) = lines(n, seed);
        ImageContext {
            requirement: Tensor::full([1, E], 0.1, device),
            label_names: Tensor::zeros([3, E], device),
            pixels,
            labels,
            shape: [1, 12, 12],
            n_classes: 3,
            seed: 1,
        }
    }

    fn test_accuracy(g: &GeneratedCnn, device: &Device) -> f64 {
        let (xt, yt) = lines(300, 99);
        let family = CnnFamily::new(g.spec.clone()).unwrap();
        let x = Tensor::<1>::from_floats(xt.as_slice(), device).reshape([300, 1, 12, 12]);
        accuracy(family.try_forward_with(&g.params, x).unwrap(), &yt).unwrap()
    }

    #[test]
    fn the_untrained_generator_writes_a_working_cnn() {
        let device = test_device();
        let hyper = ImageHyperNetConfig::new(E).init(&device);
        let g = hyper.forward(&context(150, 1, &device)).unwrap();
        assert_eq!(g.spec.channels, vec![8, 16]);
        assert_eq!(g.params.flat().len(), 6);
        let acc = test_accuracy(&g, &device);
        assert!(acc > 0.9, "generated CNN on line orientation: {acc}");
        // Deterministic.
        let again = hyper.forward(&context(150, 1, &device)).unwrap();
        for (a, b) in g.params.flat().iter().zip(again.params.flat()) {
            assert_eq!(a.clone().into_data(), b.clone().into_data());
        }
    }

    #[test]
    fn gradients_reach_every_head() {
        let device = test_device();
        let ad = device.clone().autodiff();
        let hyper = ImageHyperNetConfig::new(E).init(&ad).train();
        let g = hyper.forward(&context(90, 2, &ad)).unwrap();
        let (xq, yq) = lines(60, 3);
        let family = CnnFamily::new(g.spec.clone()).unwrap();
        let x = Tensor::<1>::from_floats(xq.as_slice(), &ad).reshape([60, 1, 12, 12]);
        let loss = cross_entropy(family.try_forward_with(&g.params, x).unwrap(), &yq);
        let grads = loss.backward();
        for (name, w) in [
            ("block gains and biases", hyper.block_2_weight()),
            ("shrinkage/temperature", hyper.task_2_weight()),
            ("class offsets", hyper.class_2_weight()),
        ] {
            let g: Vec<f32> = w
                .grad(&grads)
                .expect(name)
                .into_data()
                .try_to_vec()
                .unwrap();
            assert!(g.iter().all(|v| v.is_finite()), "{name}: {g:?}");
            assert!(g.iter().any(|v| *v != 0.0), "{name}: no gradient");
        }
    }

    #[test]
    fn bad_samples_are_typed_errors() {
        let device = test_device();
        let hyper = ImageHyperNetConfig::new(E).init(&device);
        let mut ctx = context(30, 4, &device);
        ctx.labels[0] = 5;
        assert!(
            hyper
                .forward(&ctx)
                .unwrap_err()
                .to_string()
                .contains("label 5")
        );
        let mut ctx = context(30, 4, &device);
        ctx.pixels.pop();
        assert!(hyper.forward(&ctx).is_err());
        let mut ctx = context(30, 4, &device);
        ctx.pixels[3] = f32::NAN;
        assert!(hyper.forward(&ctx).is_err());
        let mut ctx = context(30, 4, &device);
        ctx.shape = [1, 2, 72];
        assert!(
            hyper.forward(&ctx).is_err(),
            "2-pixel-high images cannot take 2 poolings"
        );
    }
}
