//! The facade every modality implements: a [`ModelCustomizer`] tailors a user's labelled sample
//! and a requirement into a [`TailoredModel`] in one hypernetwork forward pass (paper §2.3, the
//! Model Customizer).
//!
//! `modelgpt-hypernet` implements it for tables (`TabularModelGpt`, an MLP) and texts
//! (`TextModelGpt`, LoRA adapters + head for a frozen encoder); an image wing implements it the
//! same way, with an image data set as [`ModelCustomizer::Sample`] and images as
//! [`TailoredModel::Input`]. Code that only tailors, predicts, times and saves can be written
//! once against these two traits:
//!
//! ```
//! use modelgpt_core::{ModelCustomizer, Requirement, TailoredModel};
//!
//! /// Tailors a model and returns its predicted labels for `inputs` and the generation time.
//! fn tailor_and_predict<'a, C: ModelCustomizer>(
//!     customizer: &'a C,
//!     sample: &C::Sample,
//!     requirement: &Requirement,
//!     inputs: &<C::Tailored<'a> as TailoredModel>::Input,
//! ) -> Result<(Vec<String>, f64), Box<dyn std::error::Error>> {
//!     let model = customizer.tailor(sample, requirement)?;
//!     let labels = model.predict_labels(inputs)?;
//!     Ok((labels, model.timing().total_ms()))
//! }
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::requirement::Requirement;
use crate::task::Modality;

/// Timings of one generation in milliseconds, the same parts for every modality.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationTiming {
    /// Reading the user's sample: fitting the preprocessing and the sample statistics (tables),
    /// or encoding the support texts through the frozen encoder (texts).
    pub prepare_ms: f64,
    /// Encoding the requirement and the feature / label names (strings met before are free).
    pub encode_ms: f64,
    /// The hypernetwork forward pass, with what it needs on top of the encodings (the text
    /// sample's statistics) and the materialisation or read-back of the generated tensors.
    pub hypernet_ms: f64,
    /// Rows (tables) or support texts the generator read.
    pub n_sample: usize,
}

impl GenerationTiming {
    /// Sum of all parts.
    pub fn total_ms(&self) -> f64 {
        self.prepare_ms + self.encode_ms + self.hypernet_ms
    }
}

/// Tailors a model for a user's labelled sample and requirement, in one hypernetwork pass.
pub trait ModelCustomizer {
    /// The user's labelled sample (a table, a set of texts, a set of images).
    type Sample: ?Sized;
    /// The tailored model; it may borrow the customizer (e.g. a shared frozen backbone).
    type Tailored<'a>: TailoredModel
    where
        Self: 'a;
    /// What can go wrong.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The modality this customizer serves.
    fn modality(&self) -> Modality;

    /// Generates a model for `sample`, described by `requirement`.
    ///
    /// # Errors
    /// Implementation-specific: bad samples (fewer than 2 classes, no rows), encoder failures.
    fn tailor<'a>(
        &'a self,
        sample: &Self::Sample,
        requirement: &Requirement,
    ) -> Result<Self::Tailored<'a>, Self::Error>;
}

/// A model written by a [`ModelCustomizer`]: it predicts, reports how long generation took and
/// saves itself.
pub trait TailoredModel {
    /// What it predicts on (rows of a table, texts, images).
    type Input: ?Sized;
    /// What can go wrong.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The requirement it was generated from.
    fn requirement(&self) -> &str;

    /// Class names, in class-index order.
    fn labels(&self) -> &[String];

    /// How long generation took.
    fn timing(&self) -> GenerationTiming;

    /// Number of parameters that were generated.
    fn n_generated_params(&self) -> usize;

    /// The member of its target family, by name: `linear` or `mlp-{depth}x{width}` for an MLP,
    /// `lora-r{rank}-l{layers}` for a MiniLM LoRA adapter, `cnn-{channels}-k{kernel}` for a CNN.
    fn architecture(&self) -> String;

    /// Predicted class indices, one per input.
    ///
    /// # Errors
    /// Inputs the model cannot read (missing columns, bad values, tokenizer failures).
    fn predict(&self, inputs: &Self::Input) -> Result<Vec<usize>, Self::Error>;

    /// Predicted class names, one per input.
    ///
    /// # Errors
    /// As [`TailoredModel::predict`].
    fn predict_labels(&self, inputs: &Self::Input) -> Result<Vec<String>, Self::Error> {
        let labels = self.labels();
        Ok(self
            .predict(inputs)?
            .into_iter()
            .map(|i| labels.get(i).cloned().unwrap_or_default())
            .collect())
    }

    /// Saves the model to the folder `dir` in the modality's export format.
    ///
    /// # Errors
    /// I/O and serialisation failures naming the file.
    fn save(&self, dir: &Path) -> Result<(), Self::Error>;
}
