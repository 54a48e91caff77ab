//! Making columns look like real data: numeric columns turned into categorical ones, and
//! missing values (in `modelgpt-core`'s representation: `NaN` / `None`).

use modelgpt_core::data::ColumnValues;

use super::names::{MAX_LEVELS, level_set};
use super::rng::TaskRng;

/// A numeric column binned into a categorical one, with the name of its level set.
pub(super) struct Categorical {
    pub values: ColumnValues,
    pub set_name: &'static str,
}

/// Bins `col` into 2–8 levels named from a random level set, or `None` when the column is
/// constant.
///
/// A column with at most eight distinct values (flags, small counts) keeps one level per value;
/// otherwise cut points sit at random quantiles (so levels are imbalanced). Bins are mapped to
/// level names in random order, and the levels are stored sorted, as `modelgpt-core`'s readers
/// store them; only levels that occur are kept.
pub(super) fn to_categorical(rng: &mut TaskRng, col: &[f32]) -> Option<Categorical> {
    let n = col.len();
    let mut distinct: Vec<f32> = Vec::with_capacity(MAX_LEVELS + 1);
    for &x in col {
        if !distinct.contains(&x) {
            distinct.push(x);
            if distinct.len() > MAX_LEVELS {
                break;
            }
        }
    }
    if distinct.len() < 2 {
        return None;
    }
    // Upper bounds of the bins, ascending; a value goes to the first bin whose bound is >= it.
    let bounds: Vec<f32> = if distinct.len() <= MAX_LEVELS {
        distinct.sort_by(f32::total_cmp);
        distinct
    } else {
        let levels = rng.int_in(2, MAX_LEVELS);
        let mut qs: Vec<f64> = (0..levels - 1).map(|_| rng.range(0.05, 0.95)).collect();
        qs.sort_by(f64::total_cmp);
        let mut sorted = col.to_vec();
        sorted.sort_by(f32::total_cmp);
        let mut b: Vec<f32> = qs
            .iter()
            .map(|q| sorted[((n as f64 * q) as usize).min(n - 1)])
            .collect();
        b.push(f32::INFINITY);
        b.dedup();
        b
    };
    let bin_of = |x: f32| bounds.partition_point(|&b| b < x).min(bounds.len() - 1);
    let mut present = vec![false; bounds.len()];
    let bins: Vec<usize> = col
        .iter()
        .map(|&x| {
            let b = bin_of(x);
            present[b] = true;
            b
        })
        .collect();
    let used: Vec<usize> = (0..bounds.len()).filter(|&b| present[b]).collect();
    if used.len() < 2 {
        return None;
    }
    let set = level_set(rng);
    let mut names: Vec<&str> = set.levels.to_vec();
    rng.shuffle(&mut names);
    // Level names of the used bins, then sorted; `code_of_bin` maps bins to sorted positions.
    let mut named: Vec<(&str, usize)> = used
        .iter()
        .enumerate()
        .map(|(i, &b)| (names[i], b))
        .collect();
    named.sort();
    let mut code_of_bin = vec![0u32; bounds.len()];
    for (code, &(_, b)) in named.iter().enumerate() {
        code_of_bin[b] = code as u32;
    }
    Some(Categorical {
        values: ColumnValues::Categorical {
            levels: named.iter().map(|(l, _)| (*l).to_string()).collect(),
            codes: bins.into_iter().map(|b| Some(code_of_bin[b])).collect(),
        },
        set_name: set.name,
    })
}

/// Blanks out cells of `values`: `rate` of them completely at random, or (30 % of the time for
/// numeric columns) mostly among the values above a random quantile (missing not at random, as
/// sensors that saturate). At most 90 % of the cells above the quantile go, so every column
/// keeps values. Returns how many cells were blanked.
pub(super) fn blank_out(rng: &mut TaskRng, values: &mut ColumnValues, rate: f64) -> usize {
    let n = values.len();
    let mut blanked = 0;
    match values {
        ColumnValues::Numeric(v) => {
            let above = if rng.bool(0.3) && n > 0 {
                let mut sorted = v.clone();
                let q = rng.range(0.5, 0.9);
                let at = ((n as f64 * q) as usize).min(n - 1);
                let (_, t, _) = sorted.select_nth_unstable_by(at, f32::total_cmp);
                Some(*t)
            } else {
                None
            };
            let p_above = (rate / 0.3).min(0.9);
            for x in v.iter_mut() {
                let p = match above {
                    Some(t) if *x > t => p_above,
                    Some(_) => rate * 0.1,
                    None => rate,
                };
                if rng.bool(p) {
                    *x = f32::NAN;
                    blanked += 1;
                }
            }
        }
        ColumnValues::Categorical { codes, .. } => {
            for c in codes.iter_mut() {
                if rng.bool(rate) {
                    *c = None;
                    blanked += 1;
                }
            }
        }
    }
    blanked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binning_keeps_order_within_bins_and_sorted_levels() {
        let mut rng = TaskRng::new(2);
        let col: Vec<f32> = (0..300).map(|i| i as f32).collect();
        let c = to_categorical(&mut rng, &col).expect("not constant");
        let ColumnValues::Categorical { levels, codes } = &c.values else {
            panic!("categorical expected");
        };
        let mut sorted = levels.clone();
        sorted.sort();
        assert_eq!(&sorted, levels);
        assert!((2..=MAX_LEVELS).contains(&levels.len()));
        assert!(
            codes
                .iter()
                .all(|c| c.is_some_and(|c| (c as usize) < levels.len()))
        );
        let flags: Vec<f32> = (0..50).map(|i| (i % 2) as f32).collect();
        let c = to_categorical(&mut rng, &flags).expect("two values");
        assert!(matches!(&c.values, ColumnValues::Categorical { levels, .. } if levels.len() == 2));
        assert!(to_categorical(&mut rng, &[1.0; 10]).is_none());
    }

    #[test]
    fn blanking_uses_core_markers() {
        let mut rng = TaskRng::new(4);
        let mut v = ColumnValues::Numeric((0..1000).map(|i| i as f32).collect());
        let k = blank_out(&mut rng, &mut v, 0.2);
        let ColumnValues::Numeric(x) = &v else {
            panic!("numeric expected")
        };
        assert_eq!(x.iter().filter(|x| x.is_nan()).count(), k);
        assert!(k > 50 && k < 400, "{k}");
    }
}
