//! [`PriorKind::Boolean`](crate::prior::PriorKind::Boolean): binary or ternary inputs and random
//! boolean rules (DNF, parity, threshold).

use super::super::inputs::derived;
use super::super::labels::counts;
use super::super::rng::TaskRng;
use super::{Mechanism, Shape};

/// `x_var == value`, negated when `negate`.
#[derive(Debug, Clone, Copy)]
struct Literal {
    var: usize,
    value: u8,
    negate: bool,
}

impl Literal {
    fn eval(self, x: &[Vec<u8>], r: usize) -> bool {
        (x[self.var][r] == self.value) != self.negate
    }
}

/// A random boolean rule over the inputs.
#[derive(Debug)]
enum Rule {
    /// An OR of ANDs of literals.
    Dnf(Vec<Vec<Literal>>),
    /// XOR of literals.
    Parity(Vec<Literal>),
    /// `Σ w_i [literal_i] > θ`.
    Threshold(Vec<(Literal, f32)>, f32),
}

impl Rule {
    fn eval(&self, x: &[Vec<u8>], r: usize) -> bool {
        match self {
            Rule::Dnf(terms) => terms.iter().any(|t| t.iter().all(|l| l.eval(x, r))),
            Rule::Parity(lits) => lits.iter().fold(false, |acc, l| acc ^ l.eval(x, r)),
            Rule::Threshold(lits, theta) => {
                lits.iter()
                    .map(|&(l, w)| if l.eval(x, r) { w } else { 0.0 })
                    .sum::<f32>()
                    > *theta
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Rule::Dnf(_) => "dnf",
            Rule::Parity(_) => "parity",
            Rule::Threshold(..) => "threshold",
        }
    }
}

/// Variables for literals, cycling through a shuffled order so that every input is used before
/// any is used twice.
struct VarPicker {
    order: Vec<usize>,
    next: usize,
}

impl VarPicker {
    fn new(rng: &mut TaskRng, s: usize) -> Self {
        let mut order: Vec<usize> = (0..s).collect();
        rng.shuffle(&mut order);
        Self { order, next: 0 }
    }

    fn pick(&mut self, rng: &mut TaskRng, arity: u8) -> Literal {
        let var = self.order[self.next % self.order.len()];
        self.next += 1;
        Literal {
            var,
            value: rng.below(usize::from(arity)) as u8,
            negate: rng.bool(0.3),
        }
    }
}

fn draw_rule(rng: &mut TaskRng, vars: &mut VarPicker, x: &[Vec<u8>], arity: u8) -> Rule {
    let s = x.len();
    let n = x.first().map_or(0, Vec::len);
    let u = rng.uniform();
    if u < 0.5 || s < 2 {
        let terms = rng.int_in(1, 3);
        Rule::Dnf(
            (0..terms)
                .map(|_| {
                    let len = rng.int_in(1, 3.min(s));
                    (0..len).map(|_| vars.pick(rng, arity)).collect()
                })
                .collect(),
        )
    } else if u < 0.75 {
        let len = rng.int_in(2, 4.min(s));
        Rule::Parity((0..len).map(|_| vars.pick(rng, arity)).collect())
    } else {
        let len = rng.int_in(2, 6.min(s));
        let lits: Vec<(Literal, f32)> = (0..len)
            .map(|_| (vars.pick(rng, arity), rng.normal() as f32))
            .collect();
        // θ at a random quantile of the weighted sum, so both outcomes occur.
        let mut sums: Vec<f32> = (0..n)
            .map(|r| {
                lits.iter()
                    .map(|&(l, w)| if l.eval(x, r) { w } else { 0.0 })
                    .sum()
            })
            .collect();
        let at = ((n as f64 * rng.range(0.2, 0.8)) as usize).min(n.saturating_sub(1));
        let theta = if n == 0 {
            0.0
        } else {
            *sums.select_nth_unstable_by(at, f32::total_cmp).1
        };
        Rule::Threshold(lits, theta)
    }
}

/// 2–8 binary (70 %) or ternary inputs (at least enough for `2k` input patterns, as far as the
/// columns allow) with random level rates and `m = ⌈log₂ k⌉` random rules; the rules' bits form a
/// code, and the `k` most frequent codes take the `k` classes (the other codes random ones). For
/// two classes a rule is re-drawn (up to 8 times) while its rarer outcome has fewer than 5 % of the
/// rows. The other columns are noisy copies of the inputs.
pub(in crate::prior) fn boolean(rng: &mut TaskRng, shape: Shape) -> Mechanism {
    let Shape { n, d, k } = shape;
    let arity: u8 = if rng.bool(0.7) { 2 } else { 3 };
    // Enough inputs for twice as many input patterns as classes, when the columns allow.
    let patterns_needed = (usize::BITS - (2 * k - 1).leading_zeros()) as usize; // ⌈log₂ 2k⌉ bits
    let min_inputs = if arity == 2 {
        patterns_needed
    } else {
        (patterns_needed * 2).div_ceil(3) // 3^s >= 2^(1.58 s)
    };
    let s = rng.int_in(2, 8).max(min_inputs).min(d);
    let x: Vec<Vec<u8>> = (0..s)
        .map(|_| {
            let w: Vec<f64> = (0..arity).map(|_| rng.range(0.2, 1.0)).collect();
            (0..n).map(|_| rng.weighted(&w) as u8).collect()
        })
        .collect();
    let m = ((usize::BITS - (k - 1).leading_zeros()) as usize).max(1); // ⌈log₂ k⌉
    let mut vars = VarPicker::new(rng, s);
    let mut rules = Vec::with_capacity(m);
    let mut codes = vec![0usize; n];
    for bit in 0..m {
        let mut best: Option<(Rule, Vec<bool>, usize)> = None;
        for _ in 0..8 {
            let rule = draw_rule(rng, &mut vars, &x, arity);
            let out: Vec<bool> = (0..n).map(|r| rule.eval(&x, r)).collect();
            let ones = out.iter().filter(|&&b| b).count();
            let minority = ones.min(n - ones);
            let better = best.as_ref().is_none_or(|(_, _, b)| minority > *b);
            if better {
                best = Some((rule, out, minority));
            }
            if k > 2 || minority * 20 >= n {
                break;
            }
        }
        if let Some((rule, out, _)) = best {
            for (c, o) in codes.iter_mut().zip(&out) {
                *c |= usize::from(*o) << bit;
            }
            rules.push(rule);
        }
    }
    // Codes onto classes: the k most frequent codes take the k classes (in random order), the
    // other codes random classes; so every class occurs whenever k codes do.
    let n_codes = 1usize << m;
    let freq = counts(&codes, n_codes);
    let mut by_freq: Vec<usize> = (0..n_codes).collect();
    by_freq.sort_by(|&a, &b| freq[b].cmp(&freq[a]).then(a.cmp(&b)));
    let mut classes: Vec<usize> = (0..k).collect();
    rng.shuffle(&mut classes);
    let mut class_of = vec![0usize; n_codes];
    for (i, &code) in by_freq.iter().enumerate() {
        class_of[code] = if i < k { classes[i] } else { rng.below(k) };
    }
    let labels: Vec<usize> = codes.iter().map(|&c| class_of[c]).collect();

    let raw: Vec<Vec<f32>> = x
        .iter()
        .map(|c| c.iter().map(|&v| f32::from(v)).collect())
        .collect();
    let more = derived(rng, &raw, d - s, true);
    let mut continuous = vec![false; s];
    // Noisy copies keep the inputs' levels; mixed columns are continuous.
    continuous.extend(more.iter().map(|c| c.iter().any(|v| v.fract() != 0.0)));
    let mut columns = raw;
    columns.extend(more);
    let names: Vec<&str> = rules.iter().map(Rule::name).collect();
    let description = format!(
        "boolean: {s} {} inputs, {} rule(s) [{}]",
        if arity == 2 { "binary" } else { "ternary" },
        rules.len(),
        names.join(", ")
    );
    Mechanism {
        warpable: continuous.clone(),
        columns,
        continuous,
        labels,
        description,
    }
}
