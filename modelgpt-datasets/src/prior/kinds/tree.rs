//! [`PriorKind::Tree`](crate::prior::PriorKind::Tree): a random axis-aligned decision tree, or
//! a sum of a few (a step function), over the drivers.

use super::super::labels::{class_weights, quantile_labels};
use super::super::rng::TaskRng;
use super::{Drivers, Mechanism, Shape, n_drivers};

/// Fewest rows a node needs to be split.
const MIN_SPLIT: usize = 4;

/// Grows one random tree on the rows `0..n` of `z` and returns its leaves (row sets).
///
/// Each split takes a random driver and a threshold at a random quantile (15–85 %) of the
/// node's own rows, so no leaf is empty; a node becomes a leaf at `depth`, when it has fewer
/// than [`MIN_SPLIT`] rows, with probability `p_stop` (below the root), or when the drawn
/// drivers are constant on its rows.
fn grow(rng: &mut TaskRng, z: &[Vec<f32>], depth: usize, p_stop: f64) -> Vec<Vec<usize>> {
    let n = z.first().map_or(0, Vec::len);
    let mut leaves = Vec::new();
    let mut stack: Vec<(Vec<usize>, usize)> = vec![((0..n).collect(), 0)];
    while let Some((rows, level)) = stack.pop() {
        if level >= depth || rows.len() < MIN_SPLIT || (level > 0 && rng.bool(p_stop)) {
            leaves.push(rows);
            continue;
        }
        let mut split = None;
        for _ in 0..3 {
            let j = rng.below(z.len());
            let mut vals: Vec<f32> = rows.iter().map(|&r| z[j][r]).collect();
            let q = rng.range(0.15, 0.85);
            let at = ((vals.len() as f64 * q) as usize).min(vals.len() - 1);
            let (_, t, _) = vals.select_nth_unstable_by(at, f32::total_cmp);
            let t = *t;
            let (left, right): (Vec<usize>, Vec<usize>) = rows.iter().partition(|&&r| z[j][r] <= t);
            if !left.is_empty() && !right.is_empty() {
                split = Some((left, right));
                break;
            }
        }
        match split {
            Some((left, right)) => {
                stack.push((right, level + 1));
                stack.push((left, level + 1));
            }
            None => leaves.push(rows),
        }
    }
    leaves
}

/// A random decision tree of depth 2–6 (at least `⌈log₂ k⌉`) whose leaves carry classes (every
/// class on one of the largest leaves, the other leaves drawn with imbalanced weights), or, 40 % of the time and
/// whenever a tree grows fewer leaves than classes, the sum of 2–6 random trees with Gaussian
/// leaf values cut into classes at quantiles. Drivers are continuous for more than 4 classes.
pub(in crate::prior) fn tree(rng: &mut TaskRng, shape: Shape) -> Mechanism {
    let Shape { n, d, k } = shape;
    let s = n_drivers(rng, d, 12);
    // Integer and binary drivers allow few distinct splits: only for few classes.
    let p_discrete = if k <= 4 { 0.25 } else { 0.0 };
    let drivers = Drivers::draw(rng, n, s, p_discrete);
    let z = &drivers.std;
    let p_stop = if rng.bool(0.5) {
        0.0
    } else {
        rng.range(0.05, 0.3)
    };
    let min_depth = (usize::BITS - (k - 1).leading_zeros()) as usize; // ⌈log₂ k⌉
    let weights = class_weights(rng, k);

    let mut single = rng.bool(0.6);
    let mut leaves = Vec::new();
    let depth = rng.int_in(2, 6).max(min_depth);
    if single {
        leaves = grow(rng, z, depth, p_stop);
        if leaves.len() < k {
            // Too few leaves for the classes: once more without early stops, else a sum.
            leaves = grow(rng, z, depth, 0.0);
            single = leaves.len() >= k;
        }
    }
    let (labels, description) = if single {
        // The k largest leaves (ties in random order) take one class each.
        rng.shuffle(&mut leaves);
        leaves.sort_by_key(|leaf| std::cmp::Reverse(leaf.len()));
        let mut classes: Vec<usize> = (0..k).collect();
        rng.shuffle(&mut classes);
        let mut labels = vec![0usize; n];
        for (i, leaf) in leaves.iter().enumerate() {
            let c = if i < k {
                classes[i]
            } else {
                rng.weighted(&weights)
            };
            for &r in leaf {
                labels[r] = c;
            }
        }
        let description = format!(
            "tree: {s} drivers, depth {depth}, {} leaves, stop rate {p_stop:.2}, label: leaf class",
            leaves.len()
        );
        (labels, description)
    } else {
        let n_trees = rng.int_in(2, 6);
        let depth = rng.int_in(2, 5);
        let mut score = vec![0.0f32; n];
        for _ in 0..n_trees {
            for leaf in grow(rng, z, depth, p_stop) {
                let v = rng.normal() as f32;
                for r in leaf {
                    score[r] += v;
                }
            }
        }
        let description = format!(
            "tree: {s} drivers, sum of {n_trees} trees of depth {depth}, stop rate {p_stop:.2}, \
             label: quantile cuts of the sum"
        );
        (quantile_labels(&score, &weights), description)
    };
    drivers.into_mechanism(rng, d, labels, description)
}
