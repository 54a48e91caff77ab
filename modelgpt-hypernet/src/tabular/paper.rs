//! The paper's hypernetwork (Tang et al. 2024, §2.3.2), kept for comparison.
//!
//! Frozen text encoder → LeakyReLU → 3 × [spectral-normalised Linear → LeakyReLU → Dropout(0.1)]
//! → one linear head per generated tensor. Tensors whose shape is the same for all tasks
//! (hidden layers, the input bias) share one head; the input-layer weight and the class head
//! depend on the task's feature and class counts, so they get one head **per task**. A task that
//! was not in the training set therefore cannot be served: [`PaperHyperNet::forward`] returns
//! [`Error::UnseenTask`].

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Device;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::general::MlpTensors;
use crate::error::{Error, Result};
use crate::trunk::{Trunk, TrunkConfig};

/// A task known to a [`PaperHyperNet`]: its name and the shapes of its task-specific tensors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperTask {
    /// Task name (catalog key).
    pub name: String,
    /// Input width of the generated MLP.
    pub n_features: usize,
    /// Class count.
    pub n_classes: usize,
}

/// Configuration of the [`PaperHyperNet`].
#[derive(Config, Debug)]
pub struct PaperHyperNetConfig {
    /// Width of the requirement embedding.
    pub d_embed: usize,
    /// Tasks that get their own input and output heads.
    pub tasks: Vec<PaperTask>,
    /// Trunk width (paper: 25 for tabular tasks).
    #[config(default = 25)]
    pub d_hidden: usize,
    /// Width of the generated hidden layers.
    #[config(default = 64)]
    pub target_width: usize,
    /// Number of generated hidden layers.
    #[config(default = 2)]
    pub target_depth: usize,
    /// Trunk dropout (paper: 0.1).
    #[config(default = 0.1)]
    pub dropout: f64,
}

/// Per-task heads of the paper's hypernetwork.
#[derive(Module, Debug)]
pub struct TaskHeads {
    w_in: Linear,
    w_out: Linear,
    b_out: Linear,
}

impl PaperHyperNetConfig {
    /// Initialises the hypernetwork.
    pub fn init(&self, device: &Device) -> PaperHyperNet {
        let d = self.d_hidden;
        let h = self.target_width;
        PaperHyperNet {
            trunk: TrunkConfig::new(self.d_embed, d)
                .with_dropout(self.dropout)
                .init(device),
            b_in: LinearConfig::new(d, h).init(device),
            hidden: (1..self.target_depth)
                .map(|_| LinearConfig::new(d, h * h + h).init(device))
                .collect(),
            task_heads: self
                .tasks
                .iter()
                .map(|t| TaskHeads {
                    w_in: LinearConfig::new(d, t.n_features * h).init(device),
                    w_out: LinearConfig::new(d, h * t.n_classes).init(device),
                    b_out: LinearConfig::new(d, t.n_classes).init(device),
                })
                .collect(),
            tasks: self.tasks.clone(),
            target_width: h,
        }
    }
}

/// The paper's hypernetwork. See the [module docs](self).
#[derive(Module, Debug)]
pub struct PaperHyperNet {
    trunk: Trunk,
    b_in: Linear,
    hidden: Vec<Linear>,
    task_heads: Vec<TaskHeads>,
    #[module(skip)]
    tasks: Vec<PaperTask>,
    target_width: usize,
}

impl PaperHyperNet {
    /// Width of the generated hidden layers.
    pub fn target_width(&self) -> usize {
        self.target_width
    }

    /// Number of generated hidden layers.
    pub fn target_depth(&self) -> usize {
        self.hidden.len() + 1
    }

    /// Tasks this network can generate for.
    pub fn tasks(&self) -> &[PaperTask] {
        &self.tasks
    }

    /// Generates the MLP of a training task from its requirement embedding `[1, d_embed]`.
    ///
    /// # Errors
    /// [`Error::UnseenTask`] when `task` was not a training task, or its shapes differ from those
    /// seen in training (the paper's design cannot serve them).
    pub fn forward(
        &self,
        task: &str,
        n_features: usize,
        n_classes: usize,
        requirement: Tensor<2>,
    ) -> Result<MlpTensors> {
        let i = self
            .tasks
            .iter()
            .position(|t| t.name == task && t.n_features == n_features && t.n_classes == n_classes)
            .ok_or_else(|| Error::UnseenTask {
                task: task.to_string(),
                n_features,
                n_classes,
            })?;
        let h = self.target_width;
        let z = self.trunk.forward(requirement);
        let heads = &self.task_heads[i];
        let scale_in = 1.0 / (n_features as f64).sqrt();
        let w1 = heads.w_in.forward(z.clone()).reshape([n_features, h]) * scale_in;
        let b1 = self.b_in.forward(z.clone()).reshape([h]);
        let mut out = vec![(w1, b1)];
        for head in &self.hidden {
            let g = head.forward(z.clone()).reshape([h * h + h]);
            let w = g.clone().slice(0..h * h).reshape([h, h]) * (1.0 / (h as f64).sqrt());
            out.push((w, g.slice(h * h..h * h + h)));
        }
        let w_out =
            heads.w_out.forward(z.clone()).reshape([h, n_classes]) * (1.0 / (h as f64).sqrt());
        let b_out = heads.b_out.forward(z).reshape([n_classes]);
        out.push((w_out, b_out));
        Ok(out)
    }
}
