//! The text facade: labelled texts and a requirement in, LoRA adapters + classification head for
//! the frozen MiniLM out ([`TextModelGpt`] → [`TailoredTextModel`]), the text counterpart of the
//! tabular [`TabularModelGpt`](crate::TabularModelGpt); both implement
//! [`ModelCustomizer`].
//!
//! ```text
//! TextDataset ─► sample_per_class (≤ n/class, seed 42) ─► frozen MiniLM ─► sentence embeddings ─┐
//! requirement, label names ─► frozen MiniLM ─► embeddings ──────────────────────────────────────┤
//!                                                                                                ▼
//!                   TextSample (prototypes, shrunk LDA) ─► TextHyperNet ─► GeneratedParams (LoRA + head)
//! ```
//!
//! One encoder plays both roles: it embeds requirement, label names and support texts, and its
//! model is the backbone the generated adapters plug into. See [`TextModelGpt`] for an example.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Shape, Tensor};
use modelgpt_core::data::{TextDataset, sample_per_class};
use modelgpt_core::{
    GeneratedParams, GenerationTiming, Modality, ModelCustomizer, Requirement, TailoredModel,
};
use modelgpt_targets::{
    BertRequirementEncoder, PrefixFeatures, TextLoraFamily, encode_prefix, save_merged,
    save_peft_adapter,
};

use modelgpt_targets::metrics::argmax;

use super::hypernet::{TextHyperNet, TextHyperNetConfig, TextTaskInput};
use crate::encode::{EmbeddingCache, MEMO_CAPACITY};
use crate::error::{Error, Result};

/// Texts per pass through the frozen encoder (sentence embeddings, logits).
const CHUNK: usize = 64;

/// Text ModelGPT: a frozen BERT-family sentence encoder (all-MiniLM-L6-v2) and a trained
/// [`TextHyperNet`]; [`tailor`](Self::tailor) turns labelled texts and a requirement into a
/// [`TailoredTextModel`] (LoRA adapters + classification head) in one hypernetwork pass.
///
/// ```no_run
/// use burn::tensor::Device;
/// use modelgpt_core::data::{TextDataset, assets_dir};
/// use modelgpt_hypernet::TextModelGpt;
///
/// let device = Device::default();
/// // MiniLM (tokenizer.json, model.safetensors, config.json) and the text hypernetwork shipped
/// // with this crate (`TextModelGpt::load` reads another checkpoint folder instead).
/// let minilm = assets_dir().join("minilm");
/// let mgpt = TextModelGpt::shipped(&minilm, &device)?;
///
/// let train = TextDataset::from_jsonl("train.jsonl", "text", "label")?;
/// let tailored = mgpt.tailor(&train, "Classify movie reviews as positive or negative.")?;
/// println!("generated in {:.1} ms", tailored.timing().total_ms());
///
/// let labels = tailored.predict_labels(&["A delight from start to finish.", "Two hours lost."])?;
/// println!("{labels:?}");
/// tailored.save_peft("adapter")?; // PEFT LoRA adapter + classifier + labels.json
/// tailored.save_merged("merged", &minilm.join("model.safetensors"))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TextModelGpt {
    encoder: BertRequirementEncoder,
    hyper: TextHyperNet,
    config: TextHyperNetConfig,
    support_per_class: usize,
    /// Embeddings of requirements and label names already encoded (at most [`MEMO_CAPACITY`]).
    cache: Mutex<EmbeddingCache>,
}

impl TextModelGpt {
    /// Support texts per class read by [`tailor`](Self::tailor) unless
    /// [`with_support_per_class`](Self::with_support_per_class) says otherwise.
    pub const DEFAULT_SUPPORT_PER_CLASS: usize = 64;

    /// Seed of the support-text choice ([`sample_per_class`]): the same data set gives the same
    /// support, hence the same model.
    pub const SUPPORT_SEED: u64 = 42;

    /// Assembles the facade from a loaded encoder and a hypernetwork with its configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the configuration is invalid, `config.d_embed` /
    /// `config.d_model` differ from the encoder's width, the LoRA layers are not within the
    /// encoder's layers, `hyper`'s weights have other shapes than `config` describes, or its
    /// covariance shrinkage differs from `config.min_shrinkage`.
    pub fn new(
        encoder: BertRequirementEncoder,
        hyper: TextHyperNet,
        config: TextHyperNetConfig,
    ) -> Result<Self> {
        config.validate()?;
        let model = encoder.model();
        let width = model.d_model();
        if config.d_embed != width || config.d_model != width {
            return Err(Error::InvalidConfig {
                field: "d_embed",
                reason: format!(
                    "the text hypernetwork expects {}-wide embeddings, the encoder gives {width}",
                    config.d_embed
                ),
            });
        }
        let n_layers = model.layers().len();
        config
            .lora
            .validate(n_layers)
            .map_err(|e| Error::InvalidConfig {
                field: "lora",
                reason: format!("for a {n_layers}-layer encoder: {e}"),
            })?;
        // Shapes are read without initialising the reference weights (burn's lazy parameters).
        let expected = param_shapes(&config.init(encoder.device())?);
        let actual = param_shapes(&hyper);
        if expected != actual {
            return Err(Error::InvalidConfig {
                field: "hypernet",
                reason: format!(
                    "the hypernetwork's weights ({} tensors) do not have the shapes its configuration describes ({} tensors){}",
                    actual.len(),
                    expected.len(),
                    first_difference(&expected, &actual)
                ),
            });
        }
        if hyper.min_shrinkage() != config.min_shrinkage {
            return Err(Error::InvalidConfig {
                field: "min_shrinkage",
                reason: format!(
                    "the hypernetwork uses {} but its configuration says {}",
                    hyper.min_shrinkage(),
                    config.min_shrinkage
                ),
            });
        }
        Ok(Self {
            encoder,
            hyper,
            config,
            support_per_class: Self::DEFAULT_SUPPORT_PER_CLASS,
            cache: Mutex::new(EmbeddingCache::new().with_capacity(MEMO_CAPACITY)),
        })
    }

    /// Loads MiniLM from `minilm_dir` (`tokenizer.json`, `model.safetensors`, `config.json`) and
    /// the text hypernetwork shipped with this crate ([`crate::shipped::text`]), both on
    /// `device`.
    ///
    /// # Errors
    /// As [`load`](Self::load) for the encoder; then as [`new`](Self::new).
    pub fn shipped(minilm_dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let encoder = load_minilm(minilm_dir.as_ref(), device)?;
        let (hyper, config, _) = crate::shipped::text(device)?;
        Self::new(encoder, hyper, config)
    }

    /// Loads MiniLM from `minilm_dir` (`tokenizer.json`, `model.safetensors`, `config.json`) and
    /// a hypernetwork saved by [`TextHyperNet::save`] from `hypernet_dir`, both on `device`.
    ///
    /// # Errors
    /// [`Error::Io`] naming a folder that does not exist; the loaders' errors
    /// ([`Error::Targets`] for the encoder, [`Error::Io`] / [`Error::Json`] / [`Error::Store`] /
    /// [`Error::InvalidConfig`] for the hypernetwork), each naming the file; then as
    /// [`new`](Self::new).
    pub fn load(
        minilm_dir: impl AsRef<Path>,
        hypernet_dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<Self> {
        let encoder = load_minilm(minilm_dir.as_ref(), device)?;
        let hypernet_dir = hypernet_dir.as_ref();
        require_dir(
            hypernet_dir,
            "text hypernetwork checkpoint folder (checkpoint.json, hypernet.safetensors; `text_lora -- --report --retrain` writes one)",
        )?;
        let (hyper, config) = TextHyperNet::load(hypernet_dir, device)?;
        Self::new(encoder, hyper, config)
    }

    /// Sets how many training texts per class [`tailor`](Self::tailor) reads (more: better
    /// statistics, slower encoding; a class with fewer texts gives all of them).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for 0: the generator needs support texts, and a silent clamp
    /// would hide a caller's bug.
    pub fn with_support_per_class(mut self, n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::InvalidConfig {
                field: "support_per_class",
                reason: "the generator reads at least one text per class, got 0".into(),
            });
        }
        self.support_per_class = n;
        Ok(self)
    }

    /// Support texts per class read by [`tailor`](Self::tailor).
    pub fn support_per_class(&self) -> usize {
        self.support_per_class
    }

    /// The frozen encoder (also the backbone of the generated adapters).
    pub fn encoder(&self) -> &BertRequirementEncoder {
        &self.encoder
    }

    /// The hypernetwork.
    pub fn hypernet(&self) -> &TextHyperNet {
        &self.hyper
    }

    /// The hypernetwork configuration (LoRA layout, widths, shrinkage).
    pub fn config(&self) -> &TextHyperNetConfig {
        &self.config
    }

    /// The device everything runs on (the encoder's).
    pub fn device(&self) -> &Device {
        self.encoder.device()
    }

    /// Sentence embeddings of `texts` (`[texts.len() · d]`, row-major), encoding only those not
    /// met before.
    fn embed_cached(&self, texts: &[String]) -> Result<Vec<f32>> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.embed(&self.encoder, texts, self.encoder.device())
    }

    /// Generates LoRA adapters and a classification head for `data`'s label set, described by
    /// `requirement`.
    ///
    /// Up to [`support_per_class`](Self::support_per_class) texts per class (chosen with
    /// [`SUPPORT_SEED`](Self::SUPPORT_SEED)) go through the frozen encoder; the hypernetwork
    /// reads their class prototypes and shrunk linear discriminant, the requirement embedding
    /// and the label-name embeddings (`comp.sys.mac` is embedded as `comp sys mac`). The
    /// generated tensors are read back before returning, so [`timing`](TailoredTextModel::timing)
    /// counts the whole computation.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a data set with no rows, fewer than 2 classes, or texts and
    /// targets of different lengths; encoder (tokenizer) and generation errors.
    pub fn tailor(&self, data: &TextDataset, requirement: &str) -> Result<TailoredTextModel<'_>> {
        let k = data.label_names.len();
        let n = data.n_rows();
        if k < 2 || n == 0 || data.texts.len() != data.targets.len() {
            return Err(Error::InvalidInput {
                what: format!("text data set `{}`", data.name),
                reason: format!(
                    "need labelled texts of at least 2 classes, got {} texts, {} targets and {k} classes",
                    data.texts.len(),
                    data.targets.len()
                ),
            });
        }
        let family = TextLoraFamily::for_model(self.encoder.model(), self.config.lora.clone(), k)?;
        let all: Vec<usize> = (0..n).collect();
        let support = sample_per_class(
            &data.targets,
            &all,
            k,
            self.support_per_class,
            Self::SUPPORT_SEED,
        );
        if support.is_empty() {
            return Err(Error::InvalidInput {
                what: format!("text data set `{}`", data.name),
                reason: format!("no text has a class below {k}"),
            });
        }

        // Support texts through the frozen encoder (no LoRA): the sentence embeddings it reads.
        let t0 = Instant::now();
        let texts: Vec<&str> = support.iter().map(|&r| data.texts[r].as_str()).collect();
        let targets: Vec<usize> = support.iter().map(|&r| data.targets[r]).collect();
        let embeddings = self.base_embeddings(&texts)?;
        let t1 = Instant::now();

        // Requirement alone, label names together (short and alike: little padding); both are
        // remembered, so tailoring again for the same task skips the encoder.
        let req_emb = self.embed_cached(&[requirement.to_string()])?;
        let label_texts: Vec<String> = data.label_names.iter().map(|l| label_text(l)).collect();
        let label_emb = self.embed_cached(&label_texts)?;
        let t2 = Instant::now();

        let local: Vec<usize> = (0..support.len()).collect();
        let sample = self.hyper.sample(&embeddings, &targets, &local, k)?;
        let input = TextTaskInput::from_host(&req_emb, &label_emb, &sample, self.device())?;
        let params = self.hyper.generate(&family, &input)?.detach();
        // Read the values back so the timing includes the (possibly lazy) computation.
        for t in params.flat() {
            t.clone().try_into_data()?;
        }
        let t3 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        Ok(TailoredTextModel {
            gpt: self,
            family,
            params,
            labels: data.label_names.clone(),
            requirement: requirement.to_string(),
            timing: GenerationTiming {
                prepare_ms: ms(t0, t1),
                encode_ms: ms(t1, t2),
                hypernet_ms: ms(t2, t3),
                n_sample: support.len(),
            },
        })
    }

    /// Prefix features of `texts` (layers before the first adapted one), as the adapted tail
    /// reads them.
    fn prefix(&self, texts: &[&str]) -> Result<PrefixFeatures> {
        Ok(encode_prefix(
            &self.encoder,
            texts,
            self.config.lora.first_layer(),
            self.config.lora.max_length,
        )?)
    }

    /// Frozen-encoder sentence embeddings `[n · d]` (row-major, host) of `texts`, cut at the
    /// LoRA layout's `max_length`, as meta-training saw them.
    fn base_embeddings(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let features = self.prefix(texts)?;
        Ok(TextLoraFamily::base_embed_host(
            self.encoder.model(),
            self.config.lora.first_layer(),
            &features,
            CHUNK,
        )?)
    }
}

/// A generated text classifier: LoRA adapters + head for the frozen encoder of the
/// [`TextModelGpt`] it came from.
///
/// It borrows that `TextModelGpt` for the backbone and tokenizer rather than cloning them (MiniLM
/// is 90 MB), so it lives as long as the facade; [`params`](Self::params) and
/// [`family`](Self::family) (or [`save_peft`](Self::save_peft)) give owned results that outlive
/// it.
#[derive(Clone)]
pub struct TailoredTextModel<'a> {
    gpt: &'a TextModelGpt,
    family: TextLoraFamily,
    params: GeneratedParams,
    labels: Vec<String>,
    requirement: String,
    timing: GenerationTiming,
}

impl core::fmt::Debug for TailoredTextModel<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The facade (encoder, hypernetwork) and the tensors would drown the useful fields.
        f.debug_struct("TailoredTextModel")
            .field("labels", &self.labels)
            .field("requirement", &self.requirement)
            .field("family", &self.family)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl TailoredTextModel<'_> {
    /// Class names in logit order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The requirement it was generated from.
    pub fn requirement(&self) -> &str {
        &self.requirement
    }

    /// The generated tensors (detached): LoRA factors in burn layout, then `classifier.weight`
    /// `[d, K]` and `classifier.bias` `[K]` (see [`TextLoraFamily::spec`]).
    pub fn params(&self) -> &GeneratedParams {
        &self.params
    }

    /// The LoRA family (layout, class count) the tensors follow.
    pub fn family(&self) -> &TextLoraFamily {
        &self.family
    }

    /// How long generation took.
    pub fn timing(&self) -> GenerationTiming {
        self.timing
    }

    /// Logits of `texts`, one `Vec` of `labels().len()` values per text (texts are cut at the
    /// LoRA layout's `max_length` tokens and run through the encoder in chunks of 64).
    ///
    /// # Errors
    /// Tokenizer and shape errors.
    pub fn logits(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let k = self.family.n_classes();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(CHUNK) {
            let features = self.gpt.prefix(chunk)?;
            let logits = self.family.forward_chunked(
                self.gpt.encoder.model(),
                &self.params,
                &features,
                CHUNK,
            )?;
            out.extend(to_host(logits)?.chunks(k).map(<[f32]>::to_vec));
        }
        Ok(out)
    }

    /// Predicted class indices (into [`labels`](Self::labels)) of `texts`.
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<usize>> {
        Ok(self.logits(texts)?.iter().map(|l| argmax(l)).collect())
    }

    /// Predicted label names of `texts`.
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict_labels(&self, texts: &[&str]) -> Result<Vec<String>> {
        Ok(self
            .predict(texts)?
            .into_iter()
            .map(|c| self.labels[c].clone())
            .collect())
    }

    /// Accuracy on `data`, whose labels are matched to this model's by name (its label order and
    /// set may differ, e.g. a test file missing a class).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a data set without rows or a row whose label is not among
    /// [`labels`](Self::labels) (such rows are not silently skipped: filter them first if that
    /// is what you want); as [`logits`](Self::logits).
    pub fn accuracy(&self, data: &TextDataset) -> Result<f64> {
        let what = || format!("text data set `{}`", data.name);
        if data.n_rows() == 0 || data.texts.len() != data.targets.len() {
            return Err(Error::InvalidInput {
                what: what(),
                reason: format!(
                    "need labelled texts, got {} texts and {} targets",
                    data.texts.len(),
                    data.targets.len()
                ),
            });
        }
        let index: HashMap<&str, usize> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let truth = data
            .targets
            .iter()
            .enumerate()
            .map(|(row, &t)| {
                let name = data.label_names.get(t).map(String::as_str);
                name.and_then(|l| index.get(l).copied())
                    .ok_or_else(|| Error::InvalidInput {
                        what: what(),
                        reason: format!(
                            "row {row} has label `{}`, not among the model's labels {:?}",
                            name.unwrap_or("<out of range>"),
                            self.labels
                        ),
                    })
            })
            .collect::<Result<Vec<usize>>>()?;
        let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
        let pred = self.predict(&texts)?;
        let hits = pred.iter().zip(&truth).filter(|(p, t)| p == t).count();
        Ok(hits as f64 / truth.len() as f64)
    }

    /// Saves the Hugging Face PEFT LoRA adapter (`adapter_config.json`,
    /// `adapter_model.safetensors`), the head (`classifier.safetensors`) and `labels.json` in
    /// `dir` (see [`modelgpt_targets::peft`]).
    ///
    /// # Errors
    /// I/O and export errors naming the file.
    pub fn save_peft(&self, dir: impl AsRef<Path>) -> Result<()> {
        save_peft_adapter(dir, &self.family, &self.params, &self.labels)?;
        Ok(())
    }

    /// Saves full MiniLM weights with the adapters merged in (`model.safetensors` + `config.json`
    /// in `dir`), read from the base checkpoint `base_weights` (the `model.safetensors` of the
    /// MiniLM folder). The head is not part of it: see [`save_peft`](Self::save_peft).
    ///
    /// # Errors
    /// I/O and export errors naming the file.
    pub fn save_merged(&self, dir: impl AsRef<Path>, base_weights: impl AsRef<Path>) -> Result<()> {
        save_merged(dir, &self.family, &self.params, base_weights)?;
        Ok(())
    }
}

/// The text a label name is embedded as (`comp.sys.mac.hardware` → `comp sys mac hardware`).
pub fn label_text(label: &str) -> String {
    label.replace(['.', '_', '-'], " ")
}

fn to_host(t: Tensor<2>) -> Result<Vec<f32>> {
    Ok(t.try_into_data()?.convert::<f32>().try_into_vec::<f32>()?)
}

/// The MiniLM encoder from its folder, with a hint when the folder is missing.
fn load_minilm(dir: &Path, device: &Device) -> Result<BertRequirementEncoder> {
    require_dir(
        dir,
        "MiniLM folder (tokenizer.json, model.safetensors, config.json; `python3 scripts/fetch_assets.py` fetches it)",
    )?;
    Ok(BertRequirementEncoder::from_dir(dir, device)?)
}

fn require_dir(dir: &Path, what: &str) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    Err(Error::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, format!("no {what}")),
    })
}

/// Shapes of every float parameter, in visiting order.
fn param_shapes(module: &TextHyperNet) -> Vec<Shape> {
    struct Shapes(Vec<Shape>);
    impl ModuleVisitor for Shapes {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.lazy_shape());
        }
    }
    let mut visitor = Shapes(Vec::new());
    module.visit(&mut visitor);
    visitor.0
}

fn first_difference(expected: &[Shape], actual: &[Shape]) -> String {
    expected
        .iter()
        .zip(actual)
        .enumerate()
        .find(|(_, (e, a))| e != a)
        .map(|(i, (e, a))| {
            format!(
                "; tensor {i} is {:?}, expected {:?}",
                a.as_slice(),
                e.as_slice()
            )
        })
        .unwrap_or_default()
}

impl ModelCustomizer for TextModelGpt {
    type Sample = TextDataset;
    type Tailored<'a> = TailoredTextModel<'a>;
    type Error = Error;

    fn modality(&self) -> Modality {
        Modality::Text
    }

    /// As [`TextModelGpt::tailor`].
    fn tailor<'a>(
        &'a self,
        sample: &TextDataset,
        requirement: &Requirement,
    ) -> Result<TailoredTextModel<'a>> {
        TextModelGpt::tailor(self, sample, requirement.as_str())
    }
}

impl TailoredModel for TailoredTextModel<'_> {
    /// Texts to classify.
    type Input = [String];
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
        self.family.spec().numel()
    }

    fn architecture(&self) -> String {
        self.family.config().name()
    }

    fn predict(&self, texts: &[String]) -> Result<Vec<usize>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        TailoredTextModel::predict(self, &refs)
    }

    /// As [`TailoredTextModel::save_peft`] (a Hugging Face PEFT adapter + head).
    fn save(&self, dir: &Path) -> Result<()> {
        self.save_peft(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_text_spaces_separators() {
        assert_eq!(label_text("comp.sys.mac-hw_x"), "comp sys mac hw x");
    }
}
