//! Spectrally normalised linear layer (paper §2.3.2: the hypernetwork trunk uses spectral norm).
//!
//! burn has no spectral norm; this wrapper divides the weight by an estimate of its largest
//! singular value, obtained by power iteration from a fixed start vector. The singular vectors
//! are treated as constants (no gradient), as in Miyato et al. (2018) and PyTorch's
//! `spectral_norm`; the division by `σ = uᵀ W v` does carry gradient.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

/// Configuration of a [`SpectralLinear`].
#[derive(Config, Debug)]
pub struct SpectralLinearConfig {
    /// Input width.
    pub d_input: usize,
    /// Output width.
    pub d_output: usize,
    /// Power-iteration steps per forward pass.
    #[config(default = 3)]
    pub n_power_iterations: usize,
}

impl SpectralLinearConfig {
    /// Initialises the layer.
    pub fn init(&self, device: &Device) -> SpectralLinear {
        SpectralLinear {
            linear: LinearConfig::new(self.d_input, self.d_output).init(device),
            n_power_iterations: self.n_power_iterations,
        }
    }
}

/// A linear layer whose weight is divided by its spectral norm.
#[derive(Module, Debug)]
pub struct SpectralLinear {
    linear: Linear,
    n_power_iterations: usize,
}

impl SpectralLinear {
    /// Estimate of the largest singular value of the raw weight (with gradient).
    pub fn sigma(&self) -> Tensor<1> {
        let w = self.linear.weight.val(); // [d_in, d_out]
        let [d_in, d_out] = w.dims();
        let device = w.device();
        let wd = w.clone().detach();
        let mut v: Tensor<2> = Tensor::ones([d_out, 1], &device) / (d_out as f64).sqrt();
        let mut u: Tensor<2> = Tensor::ones([d_in, 1], &device) / (d_in as f64).sqrt();
        for _ in 0..self.n_power_iterations.max(1) {
            u = wd.clone().matmul(v.clone());
            u = u.clone() / (u.clone().powf_scalar(2.0).sum().sqrt().unsqueeze::<2>() + 1e-12);
            v = wd.clone().transpose().matmul(u.clone());
            v = v.clone() / (v.clone().powf_scalar(2.0).sum().sqrt().unsqueeze::<2>() + 1e-12);
        }
        // σ = uᵀ W v, u and v constant.
        u.transpose().matmul(w).matmul(v).reshape([1])
    }

    /// Forward pass with the normalised weight.
    ///
    /// # Shapes
    /// - input: `[batch, d_input]`
    /// - output: `[batch, d_output]`
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let sigma = self.sigma().unsqueeze::<2>(); // [1, 1]
        let w = self.linear.weight.val() / sigma;
        let b = self.linear.bias.as_ref().map(|b| b.val());
        burn::tensor::module::linear(input, w, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_weight_has_unit_spectral_norm() {
        let device = crate::test_device();
        device.seed(3);
        let layer = SpectralLinearConfig::new(12, 7)
            .with_n_power_iterations(50)
            .init(&device);
        let w = layer.linear.weight.val() / layer.sigma().unsqueeze::<2>();
        // Largest singular value by many power iterations on WᵀW.
        let wtw = w.clone().transpose().matmul(w);
        let mut v: Tensor<2> = Tensor::ones([7, 1], &device);
        for _ in 0..200 {
            v = wtw.clone().matmul(v);
            v = v.clone() / v.clone().powf_scalar(2.0).sum().sqrt().unsqueeze::<2>();
        }
        let s2: f32 = v
            .clone()
            .transpose()
            .matmul(wtw.matmul(v))
            .into_scalar::<f32>();
        assert!(
            (s2.sqrt() - 1.0).abs() < 1e-3,
            "spectral norm {}",
            s2.sqrt()
        );
    }
}
