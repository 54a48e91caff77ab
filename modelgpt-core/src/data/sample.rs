//! The one per-class sampler: every seeded choice of rows by class (support texts, per-class
//! caps of large data sets, stratified subsamples, the rows shown in a prompt) starts from
//! [`shuffled_by_class`], so they all draw the same way.
//!
//! ```
//! use modelgpt_core::data::{sample_per_class, sample_stratified};
//!
//! let targets = [0, 0, 0, 0, 1, 1, 2];
//! let all: Vec<usize> = (0..targets.len()).collect();
//! let capped = sample_per_class(&targets, &all, 3, 2, 7);
//! assert_eq!(capped.len(), 5); // 2 + 2 + 1
//! assert_eq!(capped, sample_per_class(&targets, &all, 3, 2, 7)); // seeded
//! let sub = sample_stratified(&targets, &all, 3, 4, 7);
//! assert_eq!(sub.len(), 4);
//! ```

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The rows of each class among `rows` (in `rows` order), then each class's rows shuffled with
/// `rng`, classes in index order. Rows whose class is `≥ n_classes` are skipped.
pub fn shuffled_by_class(
    targets: &[usize],
    rows: &[usize],
    n_classes: usize,
    rng: &mut StdRng,
) -> Vec<Vec<usize>> {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for &r in rows {
        if let Some(class_rows) = targets.get(r).and_then(|&c| by_class.get_mut(c)) {
            class_rows.push(r);
        }
    }
    for class_rows in &mut by_class {
        class_rows.shuffle(rng);
    }
    by_class
}

/// Up to `per_class` rows of each class among `rows`, chosen at random (seeded; all of a class's
/// rows when it has fewer), grouped by class in index order.
pub fn sample_per_class(
    targets: &[usize],
    rows: &[usize],
    n_classes: usize,
    per_class: usize,
    seed: u64,
) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    shuffled_by_class(targets, rows, n_classes, &mut rng)
        .into_iter()
        .flat_map(|class_rows| class_rows.into_iter().take(per_class))
        .collect()
}

/// At most `max` rows of `rows` with the class proportions kept (seeded): each class's rows in
/// random order are spread evenly over `[0, 1)` and the first `max` positions are taken, so every
/// class gets its share (rounded) and the result is ordered by position.
pub fn sample_stratified(
    targets: &[usize],
    rows: &[usize],
    n_classes: usize,
    max: usize,
    seed: u64,
) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut keyed: Vec<(f64, usize)> = Vec::with_capacity(rows.len());
    for class_rows in shuffled_by_class(targets, rows, n_classes, &mut rng) {
        let len = class_rows.len() as f64;
        keyed.extend(
            class_rows
                .into_iter()
                .enumerate()
                .map(|(i, r)| ((i as f64 + 0.5) / len, r)),
        );
    }
    // Stable: ties keep class order.
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    keyed.into_iter().take(max).map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_class_caps_each_class_and_is_seeded() {
        let targets = [0, 0, 0, 1, 1, 2];
        let all = [0, 1, 2, 3, 4, 5];
        let s = sample_per_class(&targets, &all, 3, 2, 1);
        assert_eq!(s.len(), 5);
        let classes: Vec<usize> = s.iter().map(|&r| targets[r]).collect();
        assert_eq!(classes, [0, 0, 1, 1, 2]);
        assert_eq!(s, sample_per_class(&targets, &all, 3, 2, 1));
        // Only the given rows are candidates; out-of-range classes are skipped.
        assert_eq!(sample_per_class(&[0, 7, 1], &[1, 2], 2, 5, 0), [2]);
    }

    #[test]
    fn stratified_keeps_proportions() {
        let targets: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
        let all: Vec<usize> = (0..100).collect();
        let s = sample_stratified(&targets, &all, 2, 20, 3);
        assert_eq!(s.len(), 20);
        let ones = s.iter().filter(|&&r| targets[r] == 1).count();
        assert_eq!(ones, 5);
        let mut sorted = s.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "no row twice");
    }
}
