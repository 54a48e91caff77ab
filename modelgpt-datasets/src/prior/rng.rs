//! The prior's own random number generator: xoshiro256++ seeded through SplitMix64.
//!
//! The task stream is part of the prior's contract (a resumed meta-training run must see the same
//! tasks), so the generator is written out here rather than taken from `rand`, whose `StdRng`
//! algorithm may change between releases. Both algorithms are public-domain designs by
//! Blackman and Vigna (<https://prng.di.unimi.it/>); the code is ours.

/// One SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
pub(super) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of task `index` in the stream of `seed`: a hash of both, so neighbouring indices and
/// neighbouring seeds give unrelated tasks.
pub(super) fn task_seed(seed: u64, index: u64) -> u64 {
    let mut s = seed ^ 0x5052_494F_525F_5631; // "PRIOR_V1"
    let a = splitmix64(&mut s);
    let mut t = index ^ a;
    splitmix64(&mut t) ^ a.rotate_left(17)
}

/// Layers of the normal ziggurat.
const ZIGGURAT_LAYERS: usize = 128;
/// Start of the tail of the 128-layer ziggurat.
const ZIGGURAT_R: f64 = 3.442_619_855_899;
/// Area of each layer of the 128-layer ziggurat (for the unnormalised density `exp(-x²/2)`).
const ZIGGURAT_V: f64 = 9.912_563_035_262_17e-3;

/// The ziggurat's layer edges `x[i]` (decreasing: `x[1] = R`, `x[128] = 0`; `x[0] = V / f(R)`
/// is the width of the base layer, which includes the tail) and `f[i] = exp(-x[i]²/2)`.
struct Ziggurat {
    x: [f64; ZIGGURAT_LAYERS + 1],
    f: [f64; ZIGGURAT_LAYERS + 1],
}

fn ziggurat() -> &'static Ziggurat {
    static TABLE: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let density = |x: f64| (-0.5 * x * x).exp();
        let mut x = [0.0; ZIGGURAT_LAYERS + 1];
        x[0] = ZIGGURAT_V / density(ZIGGURAT_R);
        x[1] = ZIGGURAT_R;
        for i in 1..ZIGGURAT_LAYERS - 1 {
            // Layer i spans heights f(x[i])..f(x[i + 1]) and has area V.
            x[i + 1] = (-2.0 * (ZIGGURAT_V / x[i] + density(x[i])).ln()).sqrt();
        }
        x[ZIGGURAT_LAYERS] = 0.0;
        let mut f = [0.0; ZIGGURAT_LAYERS + 1];
        for (fi, &xi) in f.iter_mut().zip(&x) {
            *fi = density(xi);
        }
        f[0] = 0.0;
        Ziggurat { x, f }
    })
}

/// xoshiro256++ with the helpers the prior needs (uniforms, normals, integers, shuffles).
#[derive(Debug, Clone)]
pub(super) struct TaskRng {
    s: [u64; 4],
}

impl TaskRng {
    /// A generator whose state is filled by SplitMix64 from `seed` (never all zero).
    pub(super) fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Self { s }
    }

    /// An independent generator for a sub-stage, seeded from this one.
    pub(super) fn fork(&mut self) -> Self {
        Self::new(self.next_u64())
    }

    /// The next 64 random bits.
    pub(super) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub(super) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub(super) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Log-uniform in `[lo, hi)` (both positive).
    pub(super) fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (self.range(lo.ln(), hi.ln())).exp()
    }

    /// An integer in `lo..=hi`, log-uniformly distributed (`1 <= lo <= hi`); small values are
    /// as likely per octave as large ones.
    pub(super) fn log_uniform_int(&mut self, lo: usize, hi: usize) -> usize {
        let lo = lo.max(1);
        if hi <= lo {
            return lo;
        }
        let v = self.log_uniform(lo as f64, (hi + 1) as f64).floor() as usize;
        v.clamp(lo, hi)
    }

    /// Uniform in `0..n`; `0` when `n == 0`. Multiply-shift (Lemire), with a bias below 2⁻⁴⁰
    /// for the sizes used here.
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub(super) fn int_in(&mut self, lo: usize, hi: usize) -> usize {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// `true` with probability `p`.
    pub(super) fn bool(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// A standard normal value (ziggurat method, 128 layers: Marsaglia and Tsang, *The Ziggurat
    /// Method for Generating Random Variables*, J. Stat. Softw. 5(8), 2000; one 64-bit draw in
    /// about 99 % of the calls, with the layer, the sign and the value from disjoint bits).
    pub(super) fn normal(&mut self) -> f64 {
        let zig = ziggurat();
        loop {
            let u = self.next_u64();
            let layer = (u & 0x7F) as usize;
            let sign = if u & 0x80 == 0 { 1.0 } else { -1.0 };
            let z = (u >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * zig.x[layer];
            if z < zig.x[layer + 1] {
                return sign * z;
            }
            if layer == 0 {
                // The tail beyond R (Marsaglia's exponential rejection).
                loop {
                    let a = -(1.0 - self.uniform()).ln() / ZIGGURAT_R;
                    let b = -(1.0 - self.uniform()).ln();
                    if 2.0 * b > a * a {
                        return sign * (ZIGGURAT_R + a);
                    }
                }
            }
            let (lo, hi) = (zig.f[layer], zig.f[layer + 1]);
            if lo + self.uniform() * (hi - lo) < (-0.5 * z * z).exp() {
                return sign * z;
            }
        }
    }

    /// Fills `out` with `scale` times standard normal values (f32, for bulk noise).
    pub(super) fn fill_normal(&mut self, out: &mut [f32], scale: f32) {
        for x in out.iter_mut() {
            *x = self.normal() as f32 * scale;
        }
    }

    /// Adds `scale` times standard normal noise to every value of `out`.
    pub(super) fn add_normal(&mut self, out: &mut [f32], scale: f32) {
        for x in out.iter_mut() {
            *x += self.normal() as f32 * scale;
        }
    }

    /// Shuffles `v` in place (Fisher–Yates).
    pub(super) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    /// A uniformly chosen element of a non-empty slice.
    ///
    /// # Panics
    /// If `v` is empty (every call site passes a fixed, non-empty list).
    pub(super) fn choose<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }

    /// `k` distinct indices of `0..n` in random order (`k` is clamped to `n`).
    pub(super) fn sample_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        let k = k.min(n);
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + self.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    }

    /// An index drawn with probability proportional to `weights` (non-negative, finite); the
    /// last index with a positive weight when rounding leaves a remainder, `0` if all are zero.
    pub(super) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut t = self.uniform() * total;
        let mut last = 0;
        for (i, &w) in weights.iter().enumerate() {
            if w > 0.0 {
                last = i;
                if t < w {
                    return i;
                }
                t -= w;
            }
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_well_spread() {
        let mut a = TaskRng::new(7);
        let mut b = TaskRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = TaskRng::new(1);
        let n = 20_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let z = r.normal();
            sum += z;
            sq += z * z;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        let mut counts = [0usize; 5];
        for _ in 0..10_000 {
            counts[r.int_in(2, 6) - 2] += 1;
        }
        assert!(
            counts.iter().all(|&c| (1_800..2_200).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(r.weighted(&[0.0, 0.0, 3.0]), 2);
        let s = r.sample_indices(10, 4);
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|&i| i < 10));
    }

    #[test]
    fn task_seeds_differ() {
        assert_ne!(task_seed(0, 0), task_seed(0, 1));
        assert_ne!(task_seed(0, 1), task_seed(1, 0));
        assert_eq!(task_seed(3, 9), task_seed(3, 9));
    }
}
