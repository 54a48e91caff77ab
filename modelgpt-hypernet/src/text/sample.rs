//! What the text hypernetwork reads from the user's labelled support texts: class prototypes
//! and the shrunk linear discriminant ([`ShrunkLda`], shared with the tabular wing) of their
//! frozen-encoder sentence embeddings.

use crate::error::Result;
use crate::lda::ShrunkLda;

/// What the hypernetwork reads from the user's labelled support texts: class prototypes and the
/// shrunk linear-discriminant classifier of their frozen-encoder sentence embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSample {
    /// Embedding width.
    pub d: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Support texts read.
    pub n_support: usize,
    /// Normalised class means `[n_classes · d]`, row-major (zeros for a class without texts).
    pub prototypes: Vec<f32>,
    /// Discriminant directions `Σ⁻¹μ_c` `[n_classes · d]`, row-major.
    pub lda_dirs: Vec<f32>,
    /// Discriminant offsets `−½μ_cᵀΣ⁻¹μ_c + ln p_c` `[n_classes]`.
    pub lda_offsets: Vec<f32>,
}

impl TextSample {
    /// Summarises the rows `rows` of `embeddings` (`[n, d]`, row-major sentence embeddings from
    /// the frozen encoder) with classes `targets` (`< n_classes`, one per row of `embeddings`).
    ///
    /// The within-class covariance is shrunk towards its mean diagonal with the Ledoit–Wolf
    /// intensity, at least `min_shrinkage` (in `[0, 1]`; [`TextHyperNetConfig::min_shrinkage`](crate::TextHyperNetConfig::min_shrinkage)),
    /// so a handful of texts per class gives a nearest-mean classifier and many texts a full
    /// discriminant. A class without texts gets a zero prototype and direction and a low prior.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) when shapes disagree, `rows` is empty, a row or class is out of
    /// range, there are fewer than 2 classes, or `min_shrinkage` is outside `[0, 1]`.
    pub fn from_embeddings(
        embeddings: &[f32],
        d: usize,
        targets: &[usize],
        rows: &[usize],
        n_classes: usize,
        min_shrinkage: f64,
    ) -> Result<Self> {
        let lda = ShrunkLda::fit(embeddings, d, targets, rows, n_classes, min_shrinkage)?;
        Ok(Self {
            d,
            n_classes,
            n_support: rows.len(),
            prototypes: prototypes(embeddings, d, targets, rows, n_classes),
            lda_dirs: lda.dirs.iter().map(|&v| v as f32).collect(),
            lda_offsets: lda.offsets,
        })
    }
}

/// Normalised class means of the rows `rows` of `embeddings` (`[n, d]`, row-major): `[k, d]`
/// row-major; a class without rows gets zeros.
pub fn prototypes(
    embeddings: &[f32],
    d: usize,
    targets: &[usize],
    rows: &[usize],
    n_classes: usize,
) -> Vec<f32> {
    let mut out = vec![0f32; n_classes * d];
    for &r in rows {
        let c = targets[r];
        if c >= n_classes {
            continue;
        }
        for j in 0..d {
            out[c * d + j] += embeddings[r * d + j];
        }
    }
    for c in 0..n_classes {
        let row = &mut out[c * d..(c + 1) * d];
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 1e-12 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prototypes_are_unit_class_means() {
        let emb = [1.0, 0.0, 3.0, 0.0, 0.0, 2.0];
        let p = prototypes(&emb, 2, &[0, 0, 1], &[0, 1, 2], 3);
        assert_eq!(p, vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    }
}
