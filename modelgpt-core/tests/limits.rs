//! Hostile and ambiguous input: every documented limit gives a typed error naming the file, the
//! place and the limit (or, for the row count, a reported sample), and the data rules (`inf`,
//! duplicate headers, missing labels, rare classes) are applied as documented.

use std::io::Write;
use std::path::{Path, PathBuf};

use modelgpt_core::data::{
    CsvOptions, CsvTable, ImageDataset, TabularDataset, TextDataset, read_csv_table,
};
use modelgpt_core::{Error, Limits};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn limit_name(err: &Error) -> Option<&'static str> {
    match err {
        Error::LimitExceeded { limit_name, .. } => Some(limit_name),
        _ => None,
    }
}

#[test]
fn compression_bomb_stops_at_the_input_limit() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of rows inflating from well under 1 MiB; the limit is 8 MiB.
    let mut csv = b"a,b,label\n".to_vec();
    let row = b"1,2,x\n3,4,y\n";
    while csv.len() < 64 << 20 {
        csv.extend_from_slice(row);
    }
    let gz = gzip(&csv);
    assert!(gz.len() < 1 << 20, "{}", gz.len());
    let p = write(dir.path(), "bomb.csv.gz", &gz);
    let limits = Limits {
        max_input_bytes: 8 << 20,
        ..Limits::default()
    };
    let err = CsvTable::read(&p, &limits).unwrap_err();
    assert_eq!(limit_name(&err), Some("max_input_bytes"), "{err}");
    assert!(
        err.to_string().starts_with(&p.display().to_string()),
        "{err}"
    );
    // Within the limit the same file loads (and is sampled down to `max_rows`).
    let roomy = Limits {
        max_input_bytes: 128 << 20,
        max_rows: 1_000,
        ..Limits::default()
    };
    let (ds, report) = TabularDataset::read_csv(
        &p,
        "label",
        &CsvOptions {
            limits: roomy,
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ds.n_rows(), 1_000);
    assert_eq!(report.rows_read, 1_000);
    assert!(report.subsampled());
    assert_eq!(report.rows_in_file, (csv.len() - 10) / 6);
}

#[test]
fn bzip2_files_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    enc.write_all(b"a,label\n1,x\n2,y\n3,x\n4,y\n").unwrap();
    let p = write(dir.path(), "t.csv.bz2", &enc.finish().unwrap());
    let ds = TabularDataset::from_csv(&p, "label").unwrap();
    assert_eq!((ds.n_rows(), ds.name.as_str()), (4, "t"));
}

#[test]
fn a_huge_cell_is_refused_with_its_line_and_column() {
    let mut csv = String::from("a,b,label\n1,x,p\n2,");
    csv.push_str(&"z".repeat(100_000));
    csv.push_str(",q\n");
    let err = CsvTable::parse_str(&csv, "big.csv").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                line: Some(3),
                column: Some(2),
                found: 100_000,
                limit_name: "max_cell_bytes",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("big.csv:3:2: "), "{err}");
}

#[test]
fn an_endless_line_is_refused_without_reading_it_all() {
    let limits = Limits {
        max_record_bytes: 1 << 16,
        ..Limits::default()
    };
    let mut csv = b"a,label\n".to_vec();
    csv.extend(std::iter::repeat_n(b'7', 1 << 20));
    let err = CsvTable::from_reader(&csv[..], "long.csv", &limits).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                line: Some(2),
                limit_name: "max_record_bytes",
                ..
            }
        ),
        "{err:?}"
    );
    // An unterminated quote cannot swallow the file either.
    let mut csv = b"a,label\n\"".to_vec();
    csv.extend(std::iter::repeat_n(b"x\n", 1 << 16).flatten());
    let err = CsvTable::from_reader(&csv[..], "quote.csv", &limits).unwrap_err();
    assert_eq!(limit_name(&err), Some("max_record_bytes"), "{err}");
}

#[test]
fn too_many_columns_is_an_error_at_the_header() {
    let header: Vec<String> = (0..5_000).map(|i| format!("c{i}")).collect();
    let csv = format!("{}\n", header.join(","));
    let err = CsvTable::parse_str(&csv, "wide.csv").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                line: Some(1),
                found: 5_000,
                limit: 4_096,
                limit_name: "max_columns",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn infinities_are_errors_naming_line_and_column_nan_is_missing() {
    let err =
        TabularDataset::from_csv_str("a,b,y\n1,2,p\n2,inf,q\n3,4,p\n", "y", "t.csv").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Parse {
                line: 3,
                column: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("`inf`"), "{err}");
    // Out of the f32 range counts as infinite too.
    let err = TabularDataset::from_csv_str("a,y\n1e39,p\n2,q\n", "y", "t.csv").unwrap_err();
    assert!(matches!(&err, Error::Parse { line: 2, .. }), "{err:?}");
    // A word column may hold "inf" as a category.
    let ds = TabularDataset::from_csv_str("a,y\ninf,p\nlow,q\n", "y", "t.csv").unwrap();
    assert!(!ds.columns[0].values.is_numeric());
    // NaN in any case is missing.
    let ds = TabularDataset::from_csv_str("a,y\nNAN,p\n2,q\nnan,p\n", "y", "t.csv").unwrap();
    assert!(ds.columns[0].values.is_numeric());
    assert_eq!(ds.columns[0].values.display(0), "?");
}

#[test]
fn duplicate_and_empty_header_names_are_errors() {
    let err = read_csv_table(write(
        tempfile::tempdir().unwrap().path(),
        "d.csv",
        b"a,a,y\n1,2,p\n",
    ))
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Parse {
                line: 1,
                column: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    let err = CsvTable::parse_str(",a,y\n0,1,p\n", "pandas.csv").unwrap_err();
    assert_eq!(err.to_string(), "pandas.csv:1:1: empty column name");
}

#[test]
fn missing_labels_and_rare_classes_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "r.csv",
        b"x,y\n1,a\n2,b\n3,\n4,a\n5,b\n6,?\n7,c\n",
    );
    let (ds, report) = TabularDataset::read_csv(&p, "y", &CsvOptions::default()).unwrap();
    assert_eq!(ds.label_names, ["a", "b"]);
    assert_eq!(ds.n_rows(), 4);
    assert_eq!(report.rows_in_file, 7);
    assert_eq!(report.rows_missing_label, 2);
    assert_eq!(report.dropped_classes, [("c".to_string(), 1)]);
    assert_eq!(report.rows_dropped_with_classes, 1);
    assert!(!report.subsampled());
}

#[test]
fn one_row_per_class_is_refused() {
    let mut csv = String::from("x,y\n");
    for i in 0..300 {
        csv.push_str(&format!("{i},class{i}\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "singletons.csv", csv.as_bytes());
    let err = TabularDataset::from_csv(&p, "y").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidData { reason, .. } if reason.contains("300 of 300")),
        "{err:?}"
    );
}

#[test]
fn too_many_classes_or_categories_are_errors() {
    let mut csv = String::from("x,id,y\n");
    for i in 0..2_400 {
        csv.push_str(&format!("{i},id{i},c{}\n", i % 1_200));
    }
    let err = TabularDataset::from_csv_str(&csv, "y", "t").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                found: 1_200,
                limit: 1_000,
                column: Some(3),
                limit_name: "max_classes",
                ..
            }
        ),
        "{err:?}"
    );
    let mut csv = String::from("x,id,y\n");
    for i in 0..2_400 {
        csv.push_str(&format!("{i},id{i},c{}\n", i % 2));
    }
    let err = TabularDataset::from_csv_str(&csv, "y", "t").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                found: 2_400,
                column: Some(2),
                limit_name: "max_categories",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("`id`"), "{err}");
}

#[test]
fn the_row_sample_is_seeded_and_reported() {
    let mut csv = String::from("x,y\n");
    for i in 0..5_000 {
        csv.push_str(&format!("{i},{}\n", i % 3));
    }
    let limits = Limits {
        max_rows: 500,
        ..Limits::default()
    };
    let a = CsvTable::from_reader(csv.as_bytes(), "s.csv", &limits).unwrap();
    let b = CsvTable::from_reader(csv.as_bytes(), "s.csv", &limits).unwrap();
    assert_eq!(a, b);
    assert_eq!((a.rows.len(), a.rows_in_file), (500, 5_000));
    assert!(a.lines.windows(2).all(|w| w[0] < w[1]));
    let other = Limits {
        row_sample_seed: 1,
        ..limits
    };
    let c = CsvTable::from_reader(csv.as_bytes(), "s.csv", &other).unwrap();
    assert_ne!(a.lines, c.lines);
}

#[test]
fn jsonl_limits() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!(
        "{{\"text\":\"short\",\"label\":\"a\"}}\n{{\"text\":\"{}\",\"label\":\"b\"}}\n",
        "w".repeat(2 << 20)
    );
    let p = write(dir.path(), "long.jsonl", long.as_bytes());
    let err = TextDataset::from_jsonl(&p, "text", "label").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                line: Some(2),
                limit_name: "max_text_bytes",
                ..
            }
        ),
        "{err:?}"
    );
    let mut many = String::new();
    for i in 0..3_000 {
        many.push_str(&format!("{{\"text\":\"t{i}\",\"label\":{}}}\n", i % 2));
    }
    let p = write(dir.path(), "many.jsonl.gz", &gzip(many.as_bytes()));
    let limits = Limits {
        max_rows: 100,
        ..Limits::default()
    };
    let ds = TextDataset::from_jsonl_with(&p, "text", "label", &limits).unwrap();
    assert_eq!(ds.n_rows(), 100);
}

#[test]
fn a_huge_image_is_refused_from_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (4_097u32, 4_096u32);
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        writer
            .write_image_data(&vec![0u8; (w * h) as usize])
            .unwrap();
    }
    write(dir.path(), "a/big.png", &bytes);
    write(dir.path(), "b/big.png", &bytes);
    let err = ImageDataset::from_folder(dir.path()).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LimitExceeded {
                found,
                limit_name: "max_image_pixels",
                ..
            } if *found == u64::from(w) * u64::from(h)
        ),
        "{err:?}"
    );
}
