//! Image domains and image tasks for the image wing: deterministic, documented transforms that
//! turn one image data set into several *domains* (the role Office-31's amazon / dslr / webcam
//! play in the paper), each with a pool of requirement sentences in the paper's image-prompt
//! style (a background sentence naming the domain, then the task), plus resizing and
//! class-subset tasks.
//!
//! | domain | transform (pixels in `[0, 1]`) |
//! |---|---|
//! | `original` | none |
//! | `inverted` | `1 − x` |
//! | `rotated` | a quarter turn clockwise (square images) |
//! | `noisy` | `x + N(0, 0.25²)` per pixel (seeded), clipped to `[0, 1]` |
//! | `blurred` | 3 × 3 box blur (edges replicated) |
//! | `low-contrast` | `0.35 + 0.3 x` |
//! | `shifted` | translated by 3 pixels right and 3 down (zeros enter) |
//!
//! ```
//! use modelgpt_core::data::ImageDataset;
//! use modelgpt_datasets::image::ImageDomain;
//!
//! let ds = ImageDataset {
//!     name: "toy".into(), channels: 1, height: 2, width: 2,
//!     pixels: vec![0.0, 1.0, 0.25, 0.5], targets: vec![0], label_names: vec!["a".into(), "b".into()],
//! };
//! let inv = ImageDomain::Inverted.apply(&ds, 0);
//! assert_eq!(inv.pixels, vec![1.0, 0.0, 0.75, 0.5]);
//! assert_eq!(inv.name, "toy/inverted");
//! let rot = ImageDomain::Rotated.apply(&ds, 0);
//! assert_eq!(rot.pixels, vec![0.25, 0.0, 0.5, 1.0]);
//! assert_eq!(ImageDomain::from_name("webcam"), None);
//! ```

use modelgpt_core::data::ImageDataset;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// A deterministic image domain (see the [module docs](self) for the transforms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageDomain {
    /// The images as they are.
    Original,
    /// Dark strokes on a bright background: `1 − x`.
    Inverted,
    /// A quarter turn clockwise.
    Rotated,
    /// Seeded Gaussian pixel noise (σ = 0.25), clipped.
    Noisy,
    /// A 3 × 3 box blur.
    Blurred,
    /// Contrast compressed into `[0.35, 0.65]`.
    LowContrast,
    /// Translated 3 pixels right and down.
    Shifted,
}

impl ImageDomain {
    /// Every domain, `original` first.
    pub const ALL: [ImageDomain; 7] = [
        ImageDomain::Original,
        ImageDomain::Inverted,
        ImageDomain::Rotated,
        ImageDomain::Noisy,
        ImageDomain::Blurred,
        ImageDomain::LowContrast,
        ImageDomain::Shifted,
    ];

    /// Lower-case, hyphenated name (`low-contrast`).
    pub fn name(&self) -> &'static str {
        match self {
            ImageDomain::Original => "original",
            ImageDomain::Inverted => "inverted",
            ImageDomain::Rotated => "rotated",
            ImageDomain::Noisy => "noisy",
            ImageDomain::Blurred => "blurred",
            ImageDomain::LowContrast => "low-contrast",
            ImageDomain::Shifted => "shifted",
        }
    }

    /// The domain of a [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Background sentences describing how the images of this domain look (the paper's image
    /// prompt opens with one, e.g. "They are taken by a webcam camera.").
    pub fn backgrounds(&self) -> [&'static str; 3] {
        match self {
            ImageDomain::Original => [
                "The images are clean scans with bright content on a dark background.",
                "They are the original scans, light strokes on black.",
                "The pictures come straight from the scanner without any change.",
            ],
            ImageDomain::Inverted => [
                "The images are inverted: dark content on a bright background.",
                "They are negatives of the scans, black strokes on white paper.",
                "The pictures have their brightness reversed, so the background is white.",
            ],
            ImageDomain::Rotated => [
                "The images are rotated by a quarter turn clockwise.",
                "They were scanned sideways, turned ninety degrees to the right.",
                "Every picture lies on its side, rotated clockwise.",
            ],
            ImageDomain::Noisy => [
                "The images are corrupted by strong random pixel noise.",
                "They come from a noisy sensor, with grainy speckles everywhere.",
                "The pictures are grainy, as if taken with a cheap camera in the dark.",
            ],
            ImageDomain::Blurred => [
                "The images are blurred, as if taken out of focus.",
                "They are soft and smeared, photographed with a defocused lens.",
                "The pictures lack sharp edges because of a blur.",
            ],
            ImageDomain::LowContrast => [
                "The images have very low contrast, grey on grey.",
                "They are washed out, with content barely brighter than the background.",
                "The pictures are faded scans with little difference between light and dark.",
            ],
            ImageDomain::Shifted => [
                "The images are off-centre, shifted towards the bottom right corner.",
                "They were cropped badly, so the content sits low and to the right.",
                "The pictures are translated a few pixels down and to the right.",
            ],
        }
    }

    /// Requirement sentences for a task on this domain: a background sentence, then the task
    /// (`task`: what to recognise, e.g. "the handwritten digit") and its class count.
    pub fn requirements(&self, task: &str, n_classes: usize) -> Vec<String> {
        let tasks = [
            format!("Classify {task} in each image into one of {n_classes} classes."),
            format!(
                "Build an image classifier that recognises {task} among {n_classes} categories."
            ),
            format!("The model must tell which of {n_classes} classes {task} belongs to."),
        ];
        let mut out = Vec::new();
        for (i, b) in self.backgrounds().iter().enumerate() {
            out.push(format!("{b} {}", tasks[i % tasks.len()]));
            out.push(format!("{b} {}", tasks[(i + 1) % tasks.len()]));
        }
        out.truncate(5);
        out
    }

    /// `ds` in this domain (named `{name}/{domain}`). `seed` drives the noise only.
    pub fn apply(&self, ds: &ImageDataset, seed: u64) -> ImageDataset {
        let (h, w) = (ds.height, ds.width);
        let plane = h * w;
        let mut out = ds.clone();
        out.name = format!("{}/{}", ds.name, self.name());
        match self {
            ImageDomain::Original => {}
            ImageDomain::Inverted => out.pixels.iter_mut().for_each(|v| *v = 1.0 - *v),
            ImageDomain::LowContrast => out.pixels.iter_mut().for_each(|v| *v = 0.35 + 0.3 * *v),
            ImageDomain::Noisy => {
                let mut rng = StdRng::seed_from_u64(seed ^ 0x6e6f_6973_79);
                for v in &mut out.pixels {
                    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
                    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                    *v = (*v + 0.25 * z as f32).clamp(0.0, 1.0);
                }
            }
            ImageDomain::Rotated if h == w => {
                per_plane(ds, &mut out, |src, dst| {
                    // Clockwise: new[r][col] = old[h − 1 − col][r].
                    for r in 0..h {
                        for col in 0..w {
                            dst[r * w + col] = src[(h - 1 - col) * w + r];
                        }
                    }
                });
            }
            // Non-square images turn by a half turn instead (the shape must stay).
            ImageDomain::Rotated => {
                per_plane(ds, &mut out, |src, dst| {
                    for (i, v) in dst.iter_mut().enumerate() {
                        *v = src[plane - 1 - i];
                    }
                });
            }
            ImageDomain::Blurred => {
                per_plane(ds, &mut out, |src, dst| {
                    for r in 0..h {
                        for col in 0..w {
                            let mut s = 0.0;
                            for dr in -1isize..=1 {
                                for dc in -1isize..=1 {
                                    let rr = (r as isize + dr).clamp(0, h as isize - 1) as usize;
                                    let cc = (col as isize + dc).clamp(0, w as isize - 1) as usize;
                                    s += src[rr * w + cc];
                                }
                            }
                            dst[r * w + col] = s / 9.0;
                        }
                    }
                });
            }
            ImageDomain::Shifted => {
                let shift = 3.min(h.saturating_sub(1)).min(w.saturating_sub(1));
                per_plane(ds, &mut out, |src, dst| {
                    for r in 0..h {
                        for col in 0..w {
                            dst[r * w + col] = if r >= shift && col >= shift {
                                src[(r - shift) * w + col - shift]
                            } else {
                                0.0
                            };
                        }
                    }
                });
            }
        }
        out
    }
}

/// Writes `f(source plane, destination plane)` for every `h × w` plane of `ds` into `out`
/// (same shape).
fn per_plane(ds: &ImageDataset, out: &mut ImageDataset, f: impl Fn(&[f32], &mut [f32])) {
    let plane = ds.height * ds.width;
    for (src, dst) in ds
        .pixels
        .chunks_exact(plane)
        .zip(out.pixels.chunks_exact_mut(plane))
    {
        f(src, dst);
    }
}

/// `ds` resized to `height × width` by bilinear interpolation (pixel centres aligned), e.g.
/// the 8 × 8 optdigits images to MNIST's 28 × 28.
pub fn resize(ds: &ImageDataset, height: usize, width: usize) -> ImageDataset {
    let (h, w) = (ds.height, ds.width);
    let mut pixels = Vec::with_capacity(ds.n_rows() * ds.channels * height * width);
    let map = |i: usize, n_out: usize, n_in: usize| -> (usize, usize, f32) {
        let x = ((i as f32 + 0.5) * n_in as f32 / n_out as f32 - 0.5).clamp(0.0, (n_in - 1) as f32);
        let lo = x.floor() as usize;
        (lo, (lo + 1).min(n_in - 1), x - lo as f32)
    };
    for plane in ds.pixels.chunks_exact(h * w) {
        for r in 0..height {
            let (r0, r1, fr) = map(r, height, h);
            for c in 0..width {
                let (c0, c1, fc) = map(c, width, w);
                let top = plane[r0 * w + c0] * (1.0 - fc) + plane[r0 * w + c1] * fc;
                let bottom = plane[r1 * w + c0] * (1.0 - fc) + plane[r1 * w + c1] * fc;
                pixels.push(top * (1.0 - fr) + bottom * fr);
            }
        }
    }
    ImageDataset {
        name: ds.name.clone(),
        channels: ds.channels,
        height,
        width,
        pixels,
        targets: ds.targets.clone(),
        label_names: ds.label_names.clone(),
    }
}

/// The images of `classes` only, relabelled `0..classes.len()` in that order (labels follow).
/// Class indices out of range are ignored.
pub fn class_subset(ds: &ImageDataset, classes: &[usize]) -> ImageDataset {
    let rows: Vec<usize> = (0..ds.n_rows())
        .filter(|&r| classes.contains(&ds.targets[r]))
        .collect();
    let mut out = ds.subset(&rows);
    out.targets = out
        .targets
        .iter()
        .map(|t| classes.iter().position(|c| c == t).unwrap_or(0))
        .collect();
    out.label_names = classes
        .iter()
        .filter_map(|&c| ds.label_names.get(c).cloned())
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> ImageDataset {
        ImageDataset {
            name: "toy".into(),
            channels: 1,
            height: 4,
            width: 4,
            pixels: (0..32).map(|v| v as f32 / 31.0).collect(),
            targets: vec![0, 1],
            label_names: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn every_domain_keeps_the_shape_and_the_range() {
        let ds = toy();
        for d in ImageDomain::ALL {
            let out = d.apply(&ds, 3);
            assert_eq!(out.pixels.len(), ds.pixels.len(), "{}", d.name());
            assert!(out.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(ImageDomain::from_name(d.name()), Some(d));
            assert_eq!(d.requirements("the digit", 10).len(), 5);
            assert_eq!(d.apply(&ds, 3), out, "deterministic");
            if d != ImageDomain::Original {
                assert_ne!(out.pixels, ds.pixels, "{} changes the images", d.name());
            }
        }
    }

    #[test]
    fn resize_and_subset() {
        let ds = toy();
        let big = resize(&ds, 8, 8);
        assert_eq!(big.pixels.len(), 2 * 64);
        let back = resize(&ds, 4, 4);
        assert_eq!(back.pixels, ds.pixels, "same size is the identity");
        let sub = class_subset(&ds, &[1]);
        assert_eq!(sub.targets, vec![0]);
        assert_eq!(sub.label_names, vec!["b".to_string()]);
        assert_eq!(sub.pixels, ds.image(1).to_vec());
    }
}
