//! The Hugging Face `config.json` mirror of a BERT model.

use std::path::Path;

use burn::config::Config;
use burn::nn::{EmbeddingConfig, LayerNormConfig, LinearConfig};
use burn::tensor::Device;

use super::model::{BertAttention, BertEmbeddings, BertLayer, BertModel};
use crate::error::{Error, Result};

/// Hidden activation of the feed-forward block (`hidden_act` in the Hugging Face config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenAct {
    /// Exact GELU, `x·Φ(x)` with the error function (`"gelu"`, as in Hugging Face BERT).
    Gelu,
    /// Tanh approximation of GELU (`"gelu_new"`, `"gelu_pytorch_tanh"`).
    GeluApprox,
    /// ReLU (`"relu"`).
    Relu,
}

impl HiddenAct {
    /// Parses a Hugging Face `hidden_act` value.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an activation we do not implement.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "gelu" => Ok(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Self::GeluApprox),
            "relu" => Ok(Self::Relu),
            other => Err(Error::InvalidConfig {
                field: "hidden_act",
                reason: format!(
                    "unsupported activation `{other}` (supported: gelu, gelu_new, relu)"
                ),
            }),
        }
    }
}

/// Mirror of a Hugging Face BERT `config.json` (the fields a BERT encoder needs).
///
/// Loading tolerates the extra keys Hugging Face writes (`architectures`, `model_type`, dropout
/// probabilities, ...); all ten fields below must be present in the file. Defaults (used by
/// [`BertConfig::new`]) are those of `bert-base-uncased`.
///
/// Field names follow Hugging Face so that [`Config::load`] reads `config.json` unchanged.
#[derive(Config, Debug, PartialEq)]
pub struct BertConfig {
    /// Number of token ids (rows of the word embedding).
    #[config(default = 30522)]
    pub vocab_size: usize,
    /// Width of the hidden states (`d_model`).
    #[config(default = 768)]
    pub hidden_size: usize,
    /// Number of encoder layers.
    #[config(default = 12)]
    pub num_hidden_layers: usize,
    /// Number of attention heads; must divide `hidden_size`.
    #[config(default = 12)]
    pub num_attention_heads: usize,
    /// Width of the feed-forward block.
    #[config(default = 3072)]
    pub intermediate_size: usize,
    /// Activation of the feed-forward block (see [`HiddenAct::parse`]).
    #[config(default = "String::from(\"gelu\")")]
    pub hidden_act: String,
    /// Number of learned positions (longest sequence the model accepts).
    #[config(default = 512)]
    pub max_position_embeddings: usize,
    /// Number of token types (segments).
    #[config(default = 2)]
    pub type_vocab_size: usize,
    /// Epsilon of every LayerNorm.
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    #[config(default = 0)]
    pub pad_token_id: usize,
}

impl BertConfig {
    /// Reads a Hugging Face `config.json` and validates it.
    ///
    /// # Errors
    /// [`Error::MissingFile`] if `path` does not exist, [`Error::Config`] if it is not a BERT
    /// config, [`Error::InvalidConfig`] if a value is out of range (see [`BertConfig::validate`]).
    pub fn load_hf(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(Error::MissingFile {
                path: path.to_path_buf(),
                what: "model config",
            });
        }
        let config = <Self as Config>::load(path).map_err(|source| Error::Config {
            path: path.to_path_buf(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that the values describe a model we can build.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first offending field.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(Error::InvalidConfig {
                    field,
                    reason: "must be positive".into(),
                });
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(Error::InvalidConfig {
                field: "num_attention_heads",
                reason: format!(
                    "{} heads do not divide hidden_size {}",
                    self.num_attention_heads, self.hidden_size
                ),
            });
        }
        if self.pad_token_id >= self.vocab_size {
            return Err(Error::InvalidConfig {
                field: "pad_token_id",
                reason: format!(
                    "{} is not below vocab_size {}",
                    self.pad_token_id, self.vocab_size
                ),
            });
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return Err(Error::InvalidConfig {
                field: "layer_norm_eps",
                reason: format!("{} is not a positive finite number", self.layer_norm_eps),
            });
        }
        HiddenAct::parse(&self.hidden_act)?;
        Ok(())
    }

    /// Width of one attention head (`hidden_size / num_attention_heads`).
    pub fn d_head(&self) -> usize {
        self.hidden_size / self.num_attention_heads.max(1)
    }

    /// Builds a randomly initialised model.
    ///
    /// # Panics
    /// If the configuration is invalid; call [`BertConfig::validate`] first for a `Result`.
    pub fn init(&self, device: &Device) -> BertModel {
        if let Err(err) = self.validate() {
            panic!("invalid BertConfig: {err}");
        }
        // Proven by `validate` above.
        let activation = HiddenAct::parse(&self.hidden_act).unwrap_or(HiddenAct::Gelu);
        let d = self.hidden_size;
        let norm = || {
            LayerNormConfig::new(d)
                .with_epsilon(self.layer_norm_eps)
                .init(device)
        };
        let embeddings = BertEmbeddings {
            word_embeddings: EmbeddingConfig::new(self.vocab_size, d).init(device),
            position_embeddings: EmbeddingConfig::new(self.max_position_embeddings, d).init(device),
            token_type_embeddings: EmbeddingConfig::new(self.type_vocab_size, d).init(device),
            layer_norm: norm(),
        };
        let layers = (0..self.num_hidden_layers)
            .map(|_| BertLayer {
                attention: BertAttention {
                    query: LinearConfig::new(d, d).init(device),
                    key: LinearConfig::new(d, d).init(device),
                    value: LinearConfig::new(d, d).init(device),
                    output: LinearConfig::new(d, d).init(device),
                    layer_norm: norm(),
                    n_heads: self.num_attention_heads,
                },
                intermediate: LinearConfig::new(d, self.intermediate_size).init(device),
                output: LinearConfig::new(self.intermediate_size, d).init(device),
                output_norm: norm(),
                activation,
            })
            .collect();
        BertModel {
            embeddings,
            layers,
            pad_token_id: self.pad_token_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_hf_config_with_extra_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"architectures": ["BertModel"], "model_type": "bert", "hidden_dropout_prob": 0.1,
                "vocab_size": 100, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
                "intermediate_size": 32, "hidden_act": "gelu", "max_position_embeddings": 64,
                "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0}"#,
        )
        .unwrap();
        let config = BertConfig::load_hf(&path).unwrap();
        assert_eq!(config.hidden_size, 16);
        assert_eq!(config.d_head(), 4);
    }

    #[test]
    fn rejects_bad_values() {
        let bad = BertConfig::new()
            .with_hidden_size(10)
            .with_num_attention_heads(3);
        assert!(matches!(
            bad.validate(),
            Err(Error::InvalidConfig {
                field: "num_attention_heads",
                ..
            })
        ));
        let bad = BertConfig::new().with_hidden_act("swish".into());
        assert!(matches!(
            bad.validate(),
            Err(Error::InvalidConfig {
                field: "hidden_act",
                ..
            })
        ));
    }

    #[test]
    fn missing_config_is_typed() {
        let err = BertConfig::load_hf("/nonexistent/config.json").unwrap_err();
        assert!(matches!(
            err,
            Error::MissingFile {
                what: "model config",
                ..
            }
        ));
    }
}
