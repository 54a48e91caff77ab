//! Labels from scores: imbalanced quantile cuts, argmax, label noise and the "every class at
//! least twice" guarantee.

use super::rng::TaskRng;

/// Fewest rows any class of a prior task has.
pub(crate) const MIN_PER_CLASS: usize = 2;

/// Random class proportions: log-normal weights with a random spread, so some tasks are nearly
/// balanced and others have rare classes (normalised to sum to 1).
pub(super) fn class_weights(rng: &mut TaskRng, k: usize) -> Vec<f64> {
    let spread = if rng.bool(0.3) {
        rng.range(0.0, 0.2)
    } else {
        rng.range(0.2, 1.3)
    };
    let w: Vec<f64> = (0..k).map(|_| (spread * rng.normal()).exp()).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}

/// Cuts `score` into `weights.len()` classes at quantiles: the rows sorted by score are split
/// into consecutive runs, class 0 lowest. Each class gets [`MIN_PER_CLASS`] rows and the rest
/// is shared by `weights` (largest remainders), so every class has at least two rows when
/// `score.len() >= 2 * weights.len()`.
pub(super) fn quantile_labels(score: &[f32], weights: &[f64]) -> Vec<usize> {
    let n = score.len();
    let k = weights.len();
    let sizes = segment_sizes(n, weights);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    let mut labels = vec![0usize; n];
    let mut pos = 0;
    for (c, &size) in sizes.iter().enumerate().take(k) {
        for &r in &order[pos..(pos + size).min(n)] {
            labels[r] = c;
        }
        pos += size;
    }
    labels
}

/// Cuts `score` at quantiles into `k + 1 ..= 2k` bands (at most `k + 4`) and gives the bands
/// classes such that every class has a band and neighbouring bands differ: a random order of
/// the classes, with the extra bands inserted at random places. Some class then holds two
/// separate ranges of the score, so the label is a non-monotone function of it. Each band has
/// [`MIN_PER_CLASS`] rows when `score.len() >= MIN_PER_CLASS * bands` (otherwise the caller's
/// top-up applies).
pub(super) fn banded_labels(rng: &mut TaskRng, score: &[f32], k: usize) -> Vec<usize> {
    let bands = k + rng.int_in(1, k.min(4));
    let band = quantile_labels(score, &class_weights(rng, bands));
    let mut class_of: Vec<usize> = (0..k).collect();
    rng.shuffle(&mut class_of);
    while class_of.len() < bands {
        let mut placed = false;
        for _ in 0..16 {
            let at = rng.below(class_of.len() + 1);
            let below = at.checked_sub(1).map(|i| class_of[i]);
            let above = class_of.get(at).copied();
            let allowed: Vec<usize> = (0..k)
                .filter(|&c| Some(c) != below && Some(c) != above)
                .collect();
            if !allowed.is_empty() {
                class_of.insert(at, *rng.choose(&allowed));
                placed = true;
                break;
            }
        }
        if !placed {
            // Two classes and no free slot drawn: the top end always has one.
            let last = class_of[class_of.len() - 1];
            class_of.push((last + 1) % k);
        }
    }
    band.into_iter().map(|b| class_of[b]).collect()
}

/// Row counts per class: [`MIN_PER_CLASS`] each (as far as `n` allows), the rest by `weights`
/// with largest-remainder rounding; they sum to `n`.
pub(super) fn segment_sizes(n: usize, weights: &[f64]) -> Vec<usize> {
    let k = weights.len();
    if k == 0 {
        return Vec::new();
    }
    let base = MIN_PER_CLASS.min(n / k);
    let rest = n - base * k;
    let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let exact: Vec<f64> = weights.iter().map(|w| w / total * rest as f64).collect();
    let mut sizes: Vec<usize> = exact.iter().map(|e| base + e.floor() as usize).collect();
    let mut left = n - sizes.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..k).collect();
    by_remainder.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &c in by_remainder.iter().cycle() {
        if left == 0 {
            break;
        }
        sizes[c] += 1;
        left -= 1;
    }
    sizes
}

/// Class of each row: the argmax over `scores` (one score vector per class) plus a per-class
/// `bias`; rows of classes that end up with fewer than [`MIN_PER_CLASS`] rows are topped up with
/// the rows that come closest to them (smallest margin to the winning class).
pub(super) fn argmax_labels(scores: &[Vec<f32>], bias: &[f32]) -> Vec<usize> {
    let n = scores.first().map_or(0, Vec::len);
    let mut labels: Vec<usize> = (0..n)
        .map(|r| {
            let mut best = 0;
            let mut best_v = f32::NEG_INFINITY;
            for (c, s) in scores.iter().enumerate() {
                let v = s[r] + bias[c];
                if v > best_v {
                    best_v = v;
                    best = c;
                }
            }
            best
        })
        .collect();
    top_up_by_score(&mut labels, scores, bias);
    labels
}

/// Gives every class with fewer than [`MIN_PER_CLASS`] rows the rows of other (large enough)
/// classes whose score for it is closest to their own class's.
fn top_up_by_score(labels: &mut [usize], scores: &[Vec<f32>], bias: &[f32]) {
    let k = scores.len();
    let mut counts = counts(labels, k);
    for c in 0..k {
        while counts[c] < MIN_PER_CLASS {
            let donor = (0..labels.len())
                .filter(|&r| labels[r] != c && counts[labels[r]] > MIN_PER_CLASS)
                .max_by(|&a, &b| {
                    let ma = scores[c][a] + bias[c] - scores[labels[a]][a] - bias[labels[a]];
                    let mb = scores[c][b] + bias[c] - scores[labels[b]][b] - bias[labels[b]];
                    ma.total_cmp(&mb).then(b.cmp(&a))
                });
            let Some(r) = donor else { return };
            counts[labels[r]] -= 1;
            labels[r] = c;
            counts[c] += 1;
        }
    }
}

/// Rows per class.
pub(super) fn counts(labels: &[usize], k: usize) -> Vec<usize> {
    let mut counts = vec![0usize; k];
    for &l in labels {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    counts
}

/// Replaces the labels of a random `rate` fraction of rows by uniformly drawn classes.
pub(super) fn add_label_noise(rng: &mut TaskRng, labels: &mut [usize], k: usize, rate: f64) {
    let flips = (labels.len() as f64 * rate).round() as usize;
    for r in rng.sample_indices(labels.len(), flips) {
        labels[r] = rng.below(k);
    }
}

/// Makes every class have at least [`MIN_PER_CLASS`] rows by re-assigning random rows of the
/// currently largest class; returns how many rows were re-assigned. Needs
/// `labels.len() >= MIN_PER_CLASS * k`.
pub(super) fn ensure_min_count(rng: &mut TaskRng, labels: &mut [usize], k: usize) -> usize {
    let mut counts = counts(labels, k);
    let mut moved = 0;
    for c in 0..k {
        while counts[c] < MIN_PER_CLASS {
            let Some(big) = (0..k).max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))
            else {
                return moved;
            };
            if counts[big] <= MIN_PER_CLASS {
                return moved;
            }
            // The `j`-th row of class `big` (there are `counts[big]` of them).
            let j = rng.below(counts[big]);
            let Some(r) = labels
                .iter()
                .enumerate()
                .filter(|&(_, &l)| l == big)
                .nth(j)
                .map(|(r, _)| r)
            else {
                return moved;
            };
            labels[r] = c;
            counts[big] -= 1;
            counts[c] += 1;
            moved += 1;
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_cuts_follow_the_weights_and_keep_two_per_class() {
        let score: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let labels = quantile_labels(&score, &[0.5, 0.0, 0.5]);
        assert_eq!(counts(&labels, 3), [49, 2, 49]);
        assert_eq!(labels[0], 0);
        assert_eq!(labels[99], 2);
        assert_eq!(segment_sizes(7, &[1.0, 1.0, 1.0]).iter().sum::<usize>(), 7);
    }

    #[test]
    fn bands_give_every_class_rows_and_break_monotonicity() {
        let mut rng = TaskRng::new(9);
        let score: Vec<f32> = (0..200).map(|i| i as f32).collect();
        for k in [2, 3, 5] {
            let labels = banded_labels(&mut rng, &score, k);
            assert!(counts(&labels, k).iter().all(|&n| n >= MIN_PER_CLASS));
            // Runs of equal labels along the score: more runs than classes.
            let runs = 1 + labels.windows(2).filter(|w| w[0] != w[1]).count();
            assert!(runs > k, "{k}: {runs} runs");
        }
    }

    #[test]
    fn argmax_tops_up_rare_classes_with_the_closest_rows() {
        let a: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let b: Vec<f32> = vec![0.0; 10];
        let c: Vec<f32> = (0..10).map(|i| -(i as f32)).collect();
        // Class 1 never wins outright; rows 0 (a = 0, c = 0) and 1 are closest to it.
        let labels = argmax_labels(&[a, b, c], &[0.0, -0.5, 0.1]);
        assert!(counts(&labels, 3).iter().all(|&n| n >= 2), "{labels:?}");
    }

    #[test]
    fn ensure_min_count_reassigns_from_the_largest_class() {
        let mut rng = TaskRng::new(1);
        let mut labels = vec![0usize; 20];
        labels[3] = 2;
        let moved = ensure_min_count(&mut rng, &mut labels, 3);
        assert_eq!(moved, 3);
        assert!(counts(&labels, 3).iter().all(|&n| n >= 2));
    }
}
