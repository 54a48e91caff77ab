//! The mechanisms that make a task's informative columns and labels, one file per
//! [`PriorKind`](super::PriorKind).

use super::inputs::{Marginal, derived, standardized};
use super::rng::TaskRng;

mod boolean;
mod mixture;
mod mlp_scm;
mod smooth;
mod tree;

pub(super) use boolean::boolean;
pub(super) use mixture::gaussian_mixture;
pub(super) use mlp_scm::mlp_scm;
pub(super) use smooth::smooth_function;
pub(super) use tree::tree;

/// What a mechanism produces: `d_inf` informative columns of `n` rows and one label per row.
#[derive(Debug)]
pub(super) struct Mechanism {
    /// Informative columns (column-major, `n` values each).
    pub columns: Vec<Vec<f32>>,
    /// Per column: whether it is continuous rather than integer- or binary-valued.
    pub continuous: Vec<bool>,
    /// Per column: whether a random monotone warp may apply (continuous columns whose marginal
    /// was not drawn on purpose).
    pub warpable: Vec<bool>,
    /// Class of each row, in `0..k`.
    pub labels: Vec<usize>,
    /// A short account of the drawn hyper-parameters.
    pub description: String,
}

impl Mechanism {
    /// A mechanism whose columns are all continuous and may all be warped.
    pub fn continuous(columns: Vec<Vec<f32>>, labels: Vec<usize>, description: String) -> Self {
        Self {
            continuous: vec![true; columns.len()],
            warpable: vec![true; columns.len()],
            columns,
            labels,
            description,
        }
    }
}

/// The sizes a mechanism is asked for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// Rows.
    pub n: usize,
    /// Informative columns to produce (at least 1).
    pub d: usize,
    /// Classes (at least 2, and `n >= 2 * k`).
    pub k: usize,
}

/// Drivers: `s` columns drawn from varied marginals, with their standardized copies (what the
/// mechanism computes on) and whether each is continuous.
struct Drivers {
    raw: Vec<Vec<f32>>,
    std: Vec<Vec<f32>>,
    continuous: Vec<bool>,
}

impl Drivers {
    fn draw(rng: &mut TaskRng, n: usize, s: usize, p_discrete: f64) -> Self {
        let mut raw = Vec::with_capacity(s);
        let mut continuous = Vec::with_capacity(s);
        for _ in 0..s {
            let m = Marginal::draw(rng, p_discrete);
            raw.push(m.sample(rng, n));
            continuous.push(!m.is_discrete());
        }
        let std = raw.iter().map(|c| standardized(c)).collect();
        Self {
            raw,
            std,
            continuous,
        }
    }

    /// The mechanism's output: the drivers (keeping their drawn marginals, so not warpable)
    /// followed by `d - s` noisy derived columns (continuous, warpable), so every column
    /// carries information about the label.
    fn into_mechanism(
        self,
        rng: &mut TaskRng,
        d: usize,
        labels: Vec<usize>,
        description: String,
    ) -> Mechanism {
        let extra = d.saturating_sub(self.raw.len());
        let more = derived(rng, &self.std, extra, false);
        let mut warpable = vec![false; self.raw.len()];
        warpable.extend(std::iter::repeat_n(true, more.len()));
        let mut columns = self.raw;
        let mut continuous = self.continuous;
        continuous.extend(std::iter::repeat_n(true, more.len()));
        columns.extend(more);
        Mechanism {
            columns,
            continuous,
            warpable,
            labels,
            description,
        }
    }
}

/// How many driver columns a mechanism uses: log-uniform in `1..=cap`, at most `d`.
fn n_drivers(rng: &mut TaskRng, d: usize, cap: usize) -> usize {
    rng.log_uniform_int(1, cap.min(d).max(1))
}

/// Draws how labels are made from real-valued scores: `true` for an argmax over one score per
/// class (only for up to 10 classes), `false` for quantile cuts of one score.
fn use_argmax(rng: &mut TaskRng, k: usize, p: f64) -> bool {
    k <= 10 && rng.bool(p)
}
