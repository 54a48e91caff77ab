//! Low-rank deltas for the attention projections of a frozen BERT (LoRA hook).

use burn::tensor::Tensor;

/// A low-rank update `scale·(x·A)·B` added to a projection's output.
///
/// Layout follows burn's `LoraAdapter` and our `Linear` (`[d_in, d_out]`): `A` is `[d_in, r]`,
/// `B` is `[r, d_out]`. PEFT stores `lora_A` as `[r, d_in]` and `lora_B` as `[d_out, r]`:
/// transpose both when converting.
#[derive(Debug, Clone)]
pub struct LoraDelta {
    a: Tensor<2>,
    b: Tensor<2>,
    scale: f64,
}

impl LoraDelta {
    /// A delta with an explicit scale.
    ///
    /// # Shapes
    /// - `a`: `[d_in, r]`
    /// - `b`: `[r, d_out]`
    ///
    /// # Panics
    /// If the ranks of `a` and `b` differ.
    pub fn new(a: Tensor<2>, b: Tensor<2>, scale: f64) -> Self {
        let [_, r_a] = a.dims();
        let [r_b, _] = b.dims();
        assert_eq!(
            r_a, r_b,
            "LoraDelta: A is [d_in, {r_a}] but B is [{r_b}, d_out]"
        );
        Self { a, b, scale }
    }

    /// A delta with the usual LoRA scale `alpha / r` (paper: r = 16, alpha = 32 for text).
    ///
    /// # Panics
    /// As [`LoraDelta::new`].
    pub fn with_alpha(a: Tensor<2>, b: Tensor<2>, alpha: f64) -> Self {
        let r = a.dims()[1].max(1);
        Self::new(a, b, alpha / r as f64)
    }

    /// The rank `r`.
    pub fn rank(&self) -> usize {
        self.a.dims()[1]
    }

    /// The scale applied to `(x·A)·B`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// `scale·(x·A)·B`.
    ///
    /// # Shapes
    /// - `x`: `[batch, seq, d_in]`
    /// - output: `[batch, seq, d_out]`
    ///
    /// # Panics
    /// If `d_in` of `x` and `A` differ.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [_, _, d_in] = x.dims();
        let [d_in_a, _] = self.a.dims();
        assert_eq!(
            d_in, d_in_a,
            "LoraDelta: input width {d_in} but A is [{d_in_a}, r]"
        );
        super::model::fold_rows(x, |rows| {
            rows.matmul(self.a.clone()) // [batch · seq, r]
                .matmul(self.b.clone())
                .mul_scalar(self.scale)
        })
    }
}

/// LoRA deltas of one layer's self-attention (paper §3: LoRA on query and value).
#[derive(Debug, Clone, Default)]
pub struct AttentionLora {
    /// Added to the query projection.
    pub query: Option<LoraDelta>,
    /// Added to the value projection.
    pub value: Option<LoraDelta>,
}

impl AttentionLora {
    /// No deltas.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the query delta.
    pub fn with_query(mut self, delta: LoraDelta) -> Self {
        self.query = Some(delta);
        self
    }

    /// Sets the value delta.
    pub fn with_value(mut self, delta: LoraDelta) -> Self {
        self.value = Some(delta);
        self
    }
}
