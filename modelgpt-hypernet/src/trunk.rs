//! The trunk every hypernetwork shares (paper §2.3.2): the frozen requirement embedding goes
//! through a LeakyReLU, then `depth` × [spectral-normalised Linear → LeakyReLU → Dropout].
//!
//! ```text
//! r [1, d_embed] ─► LeakyReLU ─► SN-Linear(d_embed → d) ─► LeakyReLU ─► Dropout
//!                               ─► SN-Linear(d → d) ─► LeakyReLU ─► Dropout  (× depth − 1)  ─► z [1, d]
//! ```
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use modelgpt_hypernet::TrunkConfig;
//!
//! let device = Device::default();
//! let trunk = TrunkConfig::new(8, 4).init(&device);
//! let z = trunk.forward(Tensor::<2>::ones([1, 8], &device));
//! assert_eq!(z.dims(), [1, 4]);
//! ```

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};

use crate::spectral::{SpectralLinear, SpectralLinearConfig};

/// Negative slope of every LeakyReLU in the hypernetworks.
pub(crate) const SLOPE: f64 = 0.01;

/// Configuration of a [`Trunk`].
#[derive(Config, Debug)]
pub struct TrunkConfig {
    /// Width of the requirement embedding (384 for MiniLM).
    pub d_embed: usize,
    /// Width of every layer (paper: 25 tabular, 128 images, 768 text).
    pub d_hidden: usize,
    /// Number of spectral-normalised layers (paper: 3).
    #[config(default = 3)]
    pub depth: usize,
    /// Dropout after every layer (paper: 0.1).
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl TrunkConfig {
    /// Initialises the trunk (layers in input-to-output order, so a seeded init is reproducible).
    pub fn init(&self, device: &Device) -> Trunk {
        let layers = (0..self.depth.max(1))
            .map(|i| {
                let d_in = if i == 0 { self.d_embed } else { self.d_hidden };
                SpectralLinearConfig::new(d_in, self.d_hidden).init(device)
            })
            .collect();
        Trunk {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// The shared trunk: requirement embedding to task code `z`. See the [module docs](crate::trunk).
#[derive(Module, Debug)]
pub struct Trunk {
    layers: Vec<SpectralLinear>,
    dropout: Dropout,
}

impl Trunk {
    /// Task code of a requirement embedding.
    ///
    /// # Shapes
    /// `[batch, d_embed]` -> `[batch, d_hidden]`
    pub fn forward(&self, requirement: Tensor<2>) -> Tensor<2> {
        let mut z = leaky_relu(requirement, SLOPE);
        for layer in &self.layers {
            z = self.dropout.forward(leaky_relu(layer.forward(z), SLOPE));
        }
        z
    }

    /// Number of layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }
}
