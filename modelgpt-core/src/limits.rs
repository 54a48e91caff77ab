//! Resource limits of the loaders of a user's own data, with their defaults in one place.
//!
//! Every loader of untrusted input ([`TabularDataset::read_csv`](crate::data::TabularDataset::read_csv),
//! [`read_csv_table`](crate::data::read_csv_table), [`TextDataset::from_jsonl`](crate::data::TextDataset::from_jsonl),
//! [`ImageDataset::from_folder`](crate::data::ImageDataset::from_folder)) reads through these
//! limits, so a hostile file (a compression bomb, a 50 MB cell, 20,000 columns, an identifier
//! column with a million distinct values) ends in a typed [`Error::LimitExceeded`] naming the file,
//! the place and the limit, instead of exhausting memory or time. One limit is a *reduction*, not
//! an error: tables and text files with more than [`Limits::max_rows`] records keep a seeded,
//! reported row sample.
//!
//! | limit | default | beyond it |
//! |---|---|---|
//! | [`max_input_bytes`](Limits::max_input_bytes) | 1 GiB (decompressed) | error |
//! | [`max_record_bytes`](Limits::max_record_bytes) | 8 MiB per record (line) | error |
//! | [`max_cell_bytes`](Limits::max_cell_bytes) | 64 KiB per table cell or header name | error |
//! | [`max_text_bytes`](Limits::max_text_bytes) | 1 MiB per text of a text data set | error |
//! | [`max_columns`](Limits::max_columns) | 4,096 columns | error |
//! | [`max_categories`](Limits::max_categories) | 1,000 distinct values per categorical column | error |
//! | [`max_classes`](Limits::max_classes) | 1,000 classes | error |
//! | [`max_rows`](Limits::max_rows) | 100,000 records | seeded uniform row sample, reported |
//! | [`max_image_pixels`](Limits::max_image_pixels) | 16,777,216 pixels (4096 × 4096) per image | error |
//!
//! Memory stays bounded: files are streamed record by record (never held whole), so what a load
//! keeps is at most `max_rows` records of at most `max_record_bytes` each, plus the data set built
//! from them.
//!
//! ```
//! use modelgpt_core::Limits;
//! let strict = Limits { max_columns: 10, ..Limits::default() };
//! assert_eq!(strict.max_rows, Limits::DEFAULT.max_rows);
//! ```
//!
//! [`Error::LimitExceeded`]: crate::Error::LimitExceeded

use serde::{Deserialize, Serialize};

/// Resource limits applied when reading a user's data; see the [module docs](self) for the
/// defaults and what happens beyond each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Most bytes read from one file, after decompression (`.gz`, `.bz2`).
    pub max_input_bytes: u64,
    /// Most bytes of one record (a line, or several lines joined by a quoted field).
    pub max_record_bytes: usize,
    /// Most bytes of one table cell or header name.
    pub max_cell_bytes: usize,
    /// Most bytes of one text of a text data set.
    pub max_text_bytes: usize,
    /// Most columns of a table (the label column included).
    pub max_columns: usize,
    /// Most distinct values of one categorical feature column.
    pub max_categories: usize,
    /// Most classes (distinct labels).
    pub max_classes: usize,
    /// Most records kept from one file; above it, a uniform sample of this many records (seeded
    /// by [`Limits::row_sample_seed`], in file order) is kept and the reduction is reported.
    pub max_rows: usize,
    /// Seed of the row sample taken above [`Limits::max_rows`].
    pub row_sample_seed: u64,
    /// Most pixels (width × height) of one image.
    pub max_image_pixels: u64,
}

impl Limits {
    /// The defaults (see the [module docs](self)).
    pub const DEFAULT: Limits = Limits {
        max_input_bytes: 1 << 30,
        max_record_bytes: 8 << 20,
        max_cell_bytes: 64 << 10,
        max_text_bytes: 1 << 20,
        max_columns: 4_096,
        max_categories: 1_000,
        max_classes: 1_000,
        max_rows: 100_000,
        row_sample_seed: 0,
        max_image_pixels: 4096 * 4096,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A uniform reservoir sample of at most `cap` items of a stream (Algorithm R), seeded, kept in
/// stream order. Used by the loaders to bound the rows they keep.
#[derive(Debug)]
pub(crate) struct Reservoir<T> {
    cap: usize,
    seen: usize,
    state: u64,
    items: Vec<(usize, T)>,
}

impl<T> Reservoir<T> {
    pub(crate) fn new(cap: usize, seed: u64) -> Self {
        Self {
            cap,
            seen: 0,
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
            items: Vec::new(),
        }
    }

    fn next_u64(&mut self) -> u64 {
        // SplitMix64.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn push(&mut self, item: T) {
        let index = self.seen;
        self.seen += 1;
        if self.items.len() < self.cap {
            self.items.push((index, item));
            return;
        }
        // Uniform in 0..=index.
        let j = ((u128::from(self.next_u64()) * (index as u128 + 1)) >> 64) as usize;
        if j < self.cap {
            self.items[j] = (index, item);
        }
    }

    /// Items seen in all.
    pub(crate) fn seen(&self) -> usize {
        self.seen
    }

    /// The kept items, in stream order.
    pub(crate) fn into_sorted(mut self) -> Vec<T> {
        self.items.sort_unstable_by_key(|(i, _)| *i);
        self.items.into_iter().map(|(_, t)| t).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservoir_keeps_everything_below_the_cap_and_a_sorted_sample_above() {
        let mut r = Reservoir::new(10, 1);
        (0..7).for_each(|i| r.push(i));
        assert_eq!(r.into_sorted(), (0..7).collect::<Vec<_>>());
        let mut r = Reservoir::new(100, 3);
        (0..10_000).for_each(|i| r.push(i));
        assert_eq!(r.seen(), 10_000);
        let kept = r.into_sorted();
        assert_eq!(kept.len(), 100);
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        // Roughly uniform: about half the sample comes from the second half of the stream.
        let late = kept.iter().filter(|&&i| i >= 5_000).count();
        assert!((30..=70).contains(&late), "{late}");
        let mut again = Reservoir::new(100, 3);
        (0..10_000).for_each(|i| again.push(i));
        assert_eq!(again.into_sorted(), kept);
    }
}
