//! What users call for images: [`ImageModelGpt`] turns a folder of labelled images
//! ([`ImageDataset`]) and a requirement into a [`TailoredImageModel`], a CNN written in one
//! forward pass of the [`ImageHyperNet`].
//!
//! Limits: a generation reads at most [`MAX_IMAGE_SAMPLE`] images (a seeded, stratified sample
//! of larger sets, reported in [`GenerationTiming::n_sample`]); images must be at least
//! `2^depth` pixels high and wide (4 × 4 for the default two blocks) and at most
//! [`modelgpt_targets::cnn::MAX_CNN_INPUT_VALUES`] values; up to [`MAX_IMAGE_CLASSES`] classes.

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::data::{ImageDataset, sample_stratified};
use modelgpt_core::{
    GenerationTiming, Modality, ModelCustomizer, Requirement, RequirementEncoder, TailoredModel,
    TargetFamily,
};
use modelgpt_targets::{Cnn, CnnFamily, argmax_rows};
use serde::{Deserialize, Serialize};

use super::hypernet::{ImageContext, ImageHyperNet, ImageHyperNetConfig};
use crate::encode::EmbeddingCache;
use crate::error::{Error, Result};

/// Most images one generation reads; larger sets are sampled (seeded, stratified).
pub const MAX_IMAGE_SAMPLE: usize = 2000;
/// Most classes of an image task.
pub const MAX_IMAGE_CLASSES: usize = 1000;
/// File next to the CNN's weights that holds the labels and the requirement.
pub const IMAGE_LABELS_FILE: &str = "labels.json";

/// Generates CNNs for image tasks (see the [module docs](self)).
pub struct ImageModelGpt {
    encoder: Box<dyn RequirementEncoder>,
    hyper: ImageHyperNet,
    device: Device,
    cache: Mutex<EmbeddingCache>,
}

impl std::fmt::Debug for ImageModelGpt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageModelGpt")
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl ImageModelGpt {
    /// A customizer over `hyper` with `encoder` for the requirement and label names.
    pub fn new(
        encoder: Box<dyn RequirementEncoder>,
        hyper: ImageHyperNet,
        device: &Device,
    ) -> Self {
        Self {
            encoder,
            hyper,
            device: device.clone(),
            cache: Mutex::new(EmbeddingCache::new().with_capacity(crate::encode::MEMO_CAPACITY)),
        }
    }

    /// A customizer over the untrained image generator (every meta-learned head at zero: the
    /// whitened patch principal directions as kernels, the sample's shrunk discriminant as the
    /// head). Its output does not depend on any random initialisation.
    pub fn untrained(encoder: Box<dyn RequirementEncoder>, device: &Device) -> Self {
        let hyper = ImageHyperNetConfig::new(encoder.embed_dim()).init(device);
        Self::new(encoder, hyper, device)
    }

    /// The generator.
    pub fn hypernet(&self) -> &ImageHyperNet {
        &self.hyper
    }

    /// Generates a CNN for `sample` described by `requirement`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for fewer than two classes with images or images too small for
    /// the CNN; [`Error::LimitExceeded`] past [`MAX_IMAGE_CLASSES`]; encoder failures.
    pub fn tailor(&self, sample: &ImageDataset, requirement: &str) -> Result<TailoredImageModel> {
        let t0 = Instant::now();
        let k = sample.n_classes();
        if k > MAX_IMAGE_CLASSES {
            return Err(Error::LimitExceeded {
                what: format!("image sample `{}`", sample.name),
                value: k,
                limit: MAX_IMAGE_CLASSES,
                unit: "classes",
            });
        }
        let present = sample.class_counts().iter().filter(|&&c| c > 0).count();
        if present < 2 {
            return Err(Error::InvalidInput {
                what: format!("image sample `{}`", sample.name),
                reason: format!("a classifier needs images of at least 2 classes, got {present}"),
            });
        }
        let all: Vec<usize> = (0..sample.n_rows()).collect();
        let rows = sample_stratified(&sample.targets, &all, k, MAX_IMAGE_SAMPLE, 0);
        let sub = sample.subset(&rows);
        let t1 = Instant::now();
        let e = self.encoder.embed_dim();
        let (req, labels) = {
            let mut texts = vec![requirement.to_string()];
            texts.extend(sample.label_names.iter().cloned());
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            let mut all = cache.embed(self.encoder.as_ref(), &texts, &self.device)?;
            let labels = all.split_off(e);
            (all, labels)
        };
        let t2 = Instant::now();
        let ctx = ImageContext {
            requirement: Tensor::from_data(TensorData::new(req, [1, e]), &self.device),
            label_names: Tensor::from_data(TensorData::new(labels, [k, e]), &self.device),
            pixels: sub.pixels,
            labels: sub.targets,
            shape: [sample.channels, sample.height, sample.width],
            n_classes: k,
            seed: 0,
        };
        let generated = self.hyper.forward(&ctx)?;
        let family = CnnFamily::new(generated.spec)?;
        let cnn = family.materialize(generated.params, &self.device)?;
        let t3 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        Ok(TailoredImageModel {
            cnn,
            labels: sample.label_names.clone(),
            requirement: requirement.to_string(),
            timing: GenerationTiming {
                prepare_ms: ms(t0, t1),
                encode_ms: ms(t1, t2),
                hypernet_ms: ms(t2, t3),
                n_sample: rows.len(),
            },
        })
    }
}

impl ModelCustomizer for ImageModelGpt {
    type Sample = ImageDataset;
    type Tailored<'a> = TailoredImageModel;
    type Error = Error;

    fn modality(&self) -> Modality {
        Modality::Image
    }

    /// As [`ImageModelGpt::tailor`].
    fn tailor<'a>(
        &'a self,
        sample: &ImageDataset,
        requirement: &Requirement,
    ) -> Result<TailoredImageModel> {
        ImageModelGpt::tailor(self, sample, requirement.as_str())
    }
}

#[derive(Serialize, Deserialize)]
struct LabelsFile {
    labels: Vec<String>,
    requirement: String,
}

/// A generated CNN with its class names and requirement.
#[derive(Debug, Clone)]
pub struct TailoredImageModel {
    cnn: Cnn,
    labels: Vec<String>,
    requirement: String,
    timing: GenerationTiming,
}

impl TailoredImageModel {
    /// The CNN (export it with [`Cnn::save`], finetune it with `modelgpt_targets::train_cnn`).
    pub fn cnn(&self) -> &Cnn {
        &self.cnn
    }

    /// Predicted class of every image of `images`, 256 images per forward pass.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the images' shape is not the model's.
    pub fn predict(&self, images: &ImageDataset) -> Result<Vec<usize>> {
        let s = self.cnn.spec();
        let ours = [s.in_channels, s.height, s.width];
        let theirs = [images.channels, images.height, images.width];
        if ours != theirs {
            return Err(Error::InvalidInput {
                what: format!("images `{}`", images.name),
                reason: format!(
                    "the model reads {} × {} × {} images, got {} × {} × {}",
                    ours[0], ours[1], ours[2], theirs[0], theirs[1], theirs[2]
                ),
            });
        }
        let d = s.input_len();
        let device = self.cnn.device();
        let mut out = Vec::with_capacity(images.n_rows());
        for chunk in images.pixels.chunks(256 * d) {
            let n = chunk.len() / d;
            let x = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [n, d]), &device);
            out.extend(argmax_rows(self.cnn.forward_rows(x))?);
        }
        Ok(out)
    }

    /// Writes the CNN (`model.safetensors`, `cnn.json`) and `labels.json` into `dir`.
    ///
    /// # Errors
    /// I/O failures naming the file.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.cnn.save(dir)?;
        let path = dir.join(IMAGE_LABELS_FILE);
        let file = LabelsFile {
            labels: self.labels.clone(),
            requirement: self.requirement.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|source| Error::Json {
            path: path.clone(),
            source,
        })?;
        crate::write_atomic(&path, &bytes)
    }

    /// Loads a model written by [`TailoredImageModel::save`].
    ///
    /// # Errors
    /// Missing or invalid files, named; labels that do not match the CNN's classes.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let cnn = Cnn::load(dir, device)?;
        let path = dir.join(IMAGE_LABELS_FILE);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let file: LabelsFile = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: path.clone(),
            source,
        })?;
        if file.labels.len() != cnn.spec().n_classes {
            return Err(Error::InvalidInput {
                what: path.display().to_string(),
                reason: format!(
                    "{} labels for a CNN with {} classes",
                    file.labels.len(),
                    cnn.spec().n_classes
                ),
            });
        }
        Ok(Self {
            cnn,
            labels: file.labels,
            requirement: file.requirement,
            timing: GenerationTiming::default(),
        })
    }
}

impl TailoredModel for TailoredImageModel {
    /// Images to classify.
    type Input = ImageDataset;
    type Error = Error;

    fn requirement(&self) -> &str {
        &self.requirement
    }

    fn labels(&self) -> &[String] {
        &self.labels
    }

    fn timing(&self) -> GenerationTiming {
        self.timing
    }

    fn n_generated_params(&self) -> usize {
        self.cnn.n_params()
    }

    fn architecture(&self) -> String {
        self.cnn.spec().name()
    }

    fn predict(&self, images: &ImageDataset) -> Result<Vec<usize>> {
        TailoredImageModel::predict(self, images)
    }

    fn save(&self, dir: &Path) -> Result<()> {
        TailoredImageModel::save(self, dir)
    }
}
