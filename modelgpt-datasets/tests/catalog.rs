//! Every catalog task loads from the real assets with exactly its documented counts.
//!
//! Needs the fetched assets (`python3 scripts/fetch_assets.py`); run in release
//! (`cargo test --release -p modelgpt-datasets --test catalog`).

use std::time::Instant;

use modelgpt_core::Modality;
use modelgpt_core::data::Dataset;
use modelgpt_datasets::{Catalog, Error};

fn catalog() -> Catalog {
    match Catalog::load() {
        Ok(c) => c,
        Err(e) => panic!("catalog needs the assets (run `python3 scripts/fetch_assets.py`): {e}"),
    }
}

#[test]
fn catalog_has_enough_tasks_of_each_modality() {
    let c = catalog();
    assert!(c.by_modality(Modality::Tabular).count() >= 40);
    assert!(c.by_modality(Modality::Text).count() >= 12);
    assert!(c.by_modality(Modality::Image).count() >= 3);
    for t in c.tasks() {
        assert!(t.requirements.len() >= 5, "{}", t.name);
        let mut distinct = t.requirements.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            t.requirements.len(),
            "{}: repeated requirement",
            t.name
        );
        assert!(t.labels.len() >= 2, "{}", t.name);
        assert!(
            !t.description.is_empty() && !t.source.is_empty(),
            "{}",
            t.name
        );
    }
    assert!(c.get("no-such-task").is_none());
    assert!(matches!(
        c.load_task("no-such-task"),
        Err(Error::UnknownTask { name }) if name == "no-such-task"
    ));
}

#[test]
fn every_task_loads_with_documented_counts() {
    let c = catalog();
    let mut problems = Vec::new();
    for t in c.tasks() {
        let start = Instant::now();
        let data = match c.load_task(&t.name) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{}: {e}", t.name));
                continue;
            }
        };
        let took = start.elapsed();
        let counts = data.class_counts();
        let got = (
            data.n_rows(),
            data.n_features(),
            data.label_names().to_vec(),
        );
        let want = (t.n_rows, t.n_features, t.labels.clone());
        if got != want {
            problems.push(format!("{}: loaded {got:?}, documented {want:?}", t.name));
        }
        if data.modality() != t.modality || data.name() != t.name {
            problems.push(format!("{}: modality/name differ", t.name));
        }
        if counts.contains(&0) {
            problems.push(format!("{}: an empty class: {counts:?}", t.name));
        }
        if let Dataset::Tabular(d) = &data
            && d.feature_names() != t.features
        {
            problems.push(format!(
                "{}: features {:?} vs {:?}",
                t.name,
                d.feature_names(),
                t.features
            ));
        }
        if data.task_spec() != t.task_spec() {
            problems.push(format!("{}: task spec differs", t.name));
        }
        // Split: a partition of all rows, with the own train/test boundary where documented.
        match t.split(data.targets(), 7) {
            Ok(s) => {
                let mut all: Vec<usize> = s
                    .train
                    .iter()
                    .chain(&s.valid)
                    .chain(&s.test)
                    .copied()
                    .collect();
                all.sort_unstable();
                if all != (0..data.n_rows()).collect::<Vec<_>>() {
                    problems.push(format!("{}: split is not a partition", t.name));
                }
                if let Some(n_train) = t.n_train
                    && (s.test.first() != Some(&n_train) || s.test.len() != data.n_rows() - n_train)
                {
                    problems.push(format!(
                        "{}: own test part does not start at {n_train}",
                        t.name
                    ));
                }
            }
            Err(e) => problems.push(format!("{}: split: {e}", t.name)),
        }
        let p = data.profile(8, 1);
        if p.records.len() != 8.min(data.n_rows()) {
            problems.push(format!(
                "{}: profile has {} records",
                t.name,
                p.records.len()
            ));
        }
        eprintln!(
            "{:<28} {:>6} rows {:>4} features {:>3} classes  {:?}",
            t.name,
            data.n_rows(),
            data.n_features(),
            data.n_classes(),
            took
        );
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn own_split_sets_report_their_training_part() {
    let c = catalog();
    let adult = c.get("adult").expect("adult task");
    assert_eq!(adult.n_train, Some(32561));
    let split = c.split("adult", 3).expect("adult split");
    assert_eq!(split.test.len(), 48842 - 32561);
    assert_eq!(split, c.split("adult", 3).expect("adult split"));
}

#[test]
fn curated_names_and_labels() {
    let c = catalog();
    let iris = c.load_task("iris").expect("iris");
    assert_eq!(iris.label_names(), ["setosa", "versicolor", "virginica"]);
    assert_eq!(iris.class_counts(), [50, 50, 50]);
    let heart = c.get("heart-disease").expect("heart-disease");
    assert_eq!(heart.labels, ["absent", "present"]);
    assert!(heart.requirements[0].starts_with("This is a 2-class tabular classification task"));
    let german = c.load_task("german-credit").expect("german-credit");
    let profile = german.profile(4, 0);
    // Codes such as `A11` are replaced by their meaning.
    assert!(
        profile
            .records
            .iter()
            .all(|r| !r.fields[0].1.starts_with("A1")),
        "{profile:?}"
    );
}

#[test]
fn new_text_tasks_have_documented_classes() {
    let c = catalog();
    let books = c.load_task("book-excerpts").expect("book-excerpts");
    assert_eq!(books.label_names(), ["book for adults", "children's book"]);
    assert_eq!(books.class_counts(), [70, 70]);

    let science = c.get("newsgroups-science").expect("newsgroups-science");
    assert_eq!(
        science.labels,
        ["cryptography", "electronics", "medicine", "space"]
    );
    assert_eq!(science.n_train, Some(1200));
    let data = c
        .load_task("newsgroups-science")
        .expect("newsgroups-science");
    assert_eq!(data.class_counts(), [400, 400, 400, 400]);

    let convention = c.get("convention-party").expect("convention-party");
    assert!(
        convention.source.contains("paragraphs"),
        "{}",
        convention.source
    );
    let data = c.load_task("convention-party").expect("convention-party");
    assert_eq!(data.class_counts(), [600, 600]);
    let Dataset::Text(text) = &data else {
        panic!("convention-party is a text task")
    };
    assert!(
        text.texts
            .iter()
            .all(|t| t.chars().count() >= 40 && !t.contains('\n') && t.trim() == t),
        "paragraphs are single trimmed lines of at least 40 characters"
    );
}
