//! Input columns: varied marginals, redundant (derived) columns, monotone warps and units.

use super::rng::TaskRng;

/// Marginal distributions of drawn input columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marginal {
    /// Normal with a random mean and scale.
    Normal,
    /// Uniform on a random interval.
    Uniform,
    /// Log-normal (right-skewed, positive).
    LogNormal,
    /// Exponential (right-skewed, positive).
    Exponential,
    /// Integers: uniform on `0..=m` or geometric counts.
    Integer,
    /// A mixture of two normals.
    Bimodal,
    /// Laplace (heavier tails than normal).
    Laplace,
    /// `0` / `1` with a random rate.
    Binary,
}

impl Marginal {
    const CONTINUOUS: [Marginal; 6] = [
        Marginal::Normal,
        Marginal::Uniform,
        Marginal::LogNormal,
        Marginal::Exponential,
        Marginal::Bimodal,
        Marginal::Laplace,
    ];

    /// A random marginal: mostly continuous; integer-valued ones with probability
    /// `p_discrete` (binary among them a third of the time).
    pub(super) fn draw(rng: &mut TaskRng, p_discrete: f64) -> Self {
        if rng.bool(p_discrete) {
            if rng.bool(1.0 / 3.0) {
                Marginal::Binary
            } else {
                Marginal::Integer
            }
        } else {
            *rng.choose(&Self::CONTINUOUS)
        }
    }

    /// Whether values take few distinct levels (no warps are applied to such columns).
    pub(super) fn is_discrete(self) -> bool {
        matches!(self, Marginal::Integer | Marginal::Binary)
    }

    /// `n` values.
    pub(super) fn sample(self, rng: &mut TaskRng, n: usize) -> Vec<f32> {
        match self {
            Marginal::Normal => {
                let (m, s) = (rng.normal(), rng.log_uniform(0.3, 3.0));
                (0..n).map(|_| (m + s * rng.normal()) as f32).collect()
            }
            Marginal::Uniform => {
                let a = rng.normal() * 2.0;
                let w = rng.log_uniform(0.5, 10.0);
                (0..n).map(|_| (a + w * rng.uniform()) as f32).collect()
            }
            Marginal::LogNormal => {
                let s = rng.range(0.3, 1.2);
                (0..n).map(|_| (s * rng.normal()).exp() as f32).collect()
            }
            Marginal::Exponential => (0..n)
                .map(|_| (-(1.0 - rng.uniform()).ln()) as f32)
                .collect(),
            Marginal::Integer => {
                if rng.bool(0.5) {
                    let m = rng.int_in(2, 20);
                    (0..n).map(|_| rng.below(m + 1) as f32).collect()
                } else {
                    let mean = rng.log_uniform(0.5, 20.0);
                    (0..n)
                        .map(|_| (-(1.0 - rng.uniform()).ln() * mean).floor() as f32)
                        .collect()
                }
            }
            Marginal::Bimodal => {
                let gap = rng.range(1.5, 4.0);
                let p = rng.range(0.2, 0.8);
                (0..n)
                    .map(|_| {
                        let c = if rng.bool(p) { gap } else { -gap };
                        (c / 2.0 + rng.normal()) as f32
                    })
                    .collect()
            }
            Marginal::Laplace => (0..n)
                .map(|_| {
                    let e = -(1.0 - rng.uniform()).ln();
                    (if rng.bool(0.5) { e } else { -e }) as f32
                })
                .collect(),
            Marginal::Binary => {
                let p = rng.range(0.1, 0.9);
                (0..n)
                    .map(|_| if rng.bool(p) { 1.0 } else { 0.0 })
                    .collect()
            }
        }
    }
}

/// Mean and standard deviation (population) of `v`, accumulated in `f64`.
pub(super) fn mean_std(v: &[f32]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let mean = lane_sum(v, f64::from) / n;
    let var = lane_sum(v, |x| (f64::from(x) - mean).powi(2)) / n;
    (mean, var.sqrt())
}

/// `Σ f(x)` over four independent accumulators, so the loop vectorizes.
fn lane_sum(v: &[f32], f: impl Fn(f32) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f(x);
        }
    }
    acc.iter().sum::<f64>() + rest
}

/// `v` with mean 0 and standard deviation 1 (only centred when constant).
pub(super) fn standardized(v: &[f32]) -> Vec<f32> {
    let (m, s) = mean_std(v);
    let inv = if s > 1e-12 { 1.0 / s } else { 1.0 };
    v.iter()
        .map(|&x| ((f64::from(x) - m) * inv) as f32)
        .collect()
}

/// Standardizes `v` in place (only centres it when constant).
pub(super) fn standardize(v: &mut [f32]) {
    let (m, s) = mean_std(v);
    let inv = if s > 1e-12 { 1.0 / s } else { 1.0 };
    for x in v.iter_mut() {
        *x = ((f64::from(*x) - m) * inv) as f32;
    }
}

/// `count` redundant columns from standardized `drivers`: each a random mix of one or two
/// drivers plus noise of a random level, so the columns are informative but noisier than the
/// drivers. With `discrete` drivers (boolean kinds) a column is sometimes a copy of one driver
/// with a fraction of its values flipped.
pub(super) fn derived(
    rng: &mut TaskRng,
    drivers: &[Vec<f32>],
    count: usize,
    discrete: bool,
) -> Vec<Vec<f32>> {
    let n = drivers.first().map_or(0, Vec::len);
    (0..count)
        .map(|_| {
            let a = rng.below(drivers.len());
            if discrete && rng.bool(0.6) {
                // A noisy copy: values swapped for another level of the driver.
                let flip = rng.range(0.05, 0.3);
                let src = &drivers[a];
                return src
                    .iter()
                    .map(|&x| if rng.bool(flip) { src[rng.below(n)] } else { x })
                    .collect();
            }
            let mut col = vec![0.0f32; n];
            let sign = if rng.bool(0.5) { 1.0 } else { -1.0 };
            let ca = (sign * rng.range(0.3, 1.5)) as f32;
            for (c, &x) in col.iter_mut().zip(&drivers[a]) {
                *c = ca * x;
            }
            if drivers.len() > 1 && rng.bool(0.4) {
                let b = rng.below(drivers.len());
                let cb = rng.normal() as f32 * 0.7;
                for (c, &x) in col.iter_mut().zip(&drivers[b]) {
                    *c += cb * x;
                }
            }
            let (_, s) = mean_std(&col);
            let noise = (rng.log_uniform(0.1, 1.5) * s.max(1e-3)) as f32;
            rng.add_normal(&mut col, noise);
            col
        })
        .collect()
}

/// Applies a random monotone warp to a continuous column (half of the time none): log-normal
/// skew, integer rounding, censoring at a quantile or a power.
pub(super) fn warp(rng: &mut TaskRng, col: &mut [f32]) {
    let choice = rng.uniform();
    if choice < 0.5 {
        return;
    }
    standardize(col);
    if choice < 0.65 {
        // Right skew: exp of a scaled value (clamped so nothing overflows).
        let a = rng.range(0.3, 1.2) as f32;
        for x in col.iter_mut() {
            *x = (a * x.clamp(-10.0, 10.0)).exp();
        }
    } else if choice < 0.8 {
        // Integer-valued: a count-like or score-like column.
        let m = rng.log_uniform(1.0, 20.0) as f32;
        let c = (rng.range(0.0, 3.0) as f32) * m;
        for x in col.iter_mut() {
            *x = (*x * m + c).round();
        }
    } else if choice < 0.9 {
        // Censored below at a quantile (a detection limit).
        let mut sorted: Vec<f32> = col.to_vec();
        let q = rng.range(0.05, 0.4);
        let k = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
        let (_, t, _) = sorted.select_nth_unstable_by(k, f32::total_cmp);
        let t = *t;
        for x in col.iter_mut() {
            *x = x.max(t);
        }
    } else {
        // A signed power (compresses or stretches the tails).
        let p = rng.range(0.4, 2.5) as f32;
        for x in col.iter_mut() {
            *x = x.signum() * x.abs().powf(p);
        }
    }
}

/// Gives a column random units: scale by `10^U(-2, 3.5)`, shift, and (half of the time) round
/// to about three significant digits of the scale, as measured values are.
pub(super) fn units(rng: &mut TaskRng, col: &mut [f32], discrete: bool) {
    if discrete {
        // Counts and flags keep their values; sometimes shifted (codes starting at 1, years).
        if rng.bool(0.2) {
            let c = *rng.choose(&[1.0f32, 1.0, 10.0, 1990.0]);
            for x in col.iter_mut() {
                *x += c;
            }
        }
        return;
    }
    let (m, s) = mean_std(col);
    let s = if s > 1e-12 { s } else { 1.0 };
    let scale = 10f64.powf(rng.range(-2.0, 3.5));
    let centre = if rng.bool(0.5) {
        // Positive quantities around a few scales.
        scale * rng.range(1.0, 5.0)
    } else {
        scale * rng.normal()
    };
    let quantum = if rng.bool(0.5) {
        Some(10f64.powf((scale.log10() - 2.0).floor()))
    } else {
        None
    };
    // v = (x - m) / s * scale + centre = a x + b.
    let a = scale / s;
    let b = centre - m * a;
    match quantum {
        Some(q) => {
            let inv = 1.0 / q;
            for x in col.iter_mut() {
                *x = (((f64::from(*x) * a + b) * inv).round() * q) as f32;
            }
        }
        None => {
            for x in col.iter_mut() {
                *x = (f64::from(*x) * a + b) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marginals_are_finite_and_varied() {
        let mut rng = TaskRng::new(3);
        for m in [
            Marginal::Normal,
            Marginal::Uniform,
            Marginal::LogNormal,
            Marginal::Exponential,
            Marginal::Integer,
            Marginal::Bimodal,
            Marginal::Laplace,
            Marginal::Binary,
        ] {
            let mut v = m.sample(&mut rng, 500);
            assert!(v.iter().all(|x| x.is_finite()), "{m:?}");
            if m.is_discrete() {
                assert!(v.iter().all(|x| x.fract() == 0.0), "{m:?}");
            }
            for _ in 0..5 {
                warp(&mut rng, &mut v);
                units(&mut rng, &mut v, m.is_discrete());
            }
            assert!(v.iter().all(|x| x.is_finite()), "{m:?}");
        }
    }

    #[test]
    fn derived_columns_follow_their_drivers() {
        let mut rng = TaskRng::new(5);
        let d = standardized(&Marginal::Normal.sample(&mut rng, 400));
        let cols = derived(&mut rng, std::slice::from_ref(&d), 4, false);
        for c in cols {
            let cs = standardized(&c);
            let corr: f64 = cs
                .iter()
                .zip(&d)
                .map(|(a, b)| f64::from(a * b))
                .sum::<f64>()
                / 400.0;
            assert!(corr.abs() > 0.4, "{corr}");
        }
    }
}
