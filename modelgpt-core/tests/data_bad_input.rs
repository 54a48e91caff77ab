//! Bad user input gives typed errors that name the file, line and column; nothing panics.

use std::path::{Path, PathBuf};

use modelgpt_core::Error;
use modelgpt_core::data::{CsvOptions, ImageDataset, TabularDataset, TextDataset, read_csv_table};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

fn png_bytes(width: u32, height: u32, color: png::ColorType) -> Vec<u8> {
    let channels = match color {
        png::ColorType::Rgb => 3,
        _ => 1,
    };
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(color);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        let data: Vec<u8> = (0..width * height * channels)
            .map(|i| (i * 37 % 256) as u8)
            .collect();
        w.write_image_data(&data).unwrap();
    }
    out
}

#[test]
fn ragged_csv_row_names_line_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,b,label\n1,2,x\n3,4,y\n5,y\n");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    match &err {
        Error::Parse {
            path,
            line,
            column,
            reason,
        } => {
            assert_eq!(path, &p);
            assert_eq!(*line, 4);
            assert_eq!(*column, Some(3));
            assert!(reason.contains("expected 3 fields, found 2"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("d.csv:4:3"), "{msg}");
}

#[test]
fn too_many_fields_points_at_the_first_extra_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,label\n1,x\n2,y,oops\n");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Parse {
                line: 3,
                column: Some(3),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unterminated_quote_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,label\n1,x\n\"2,y\n3,x\n");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Parse {
                line: 3,
                column: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn non_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,label\n1,x\n2,\xe9t\xe9\n");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    match &err {
        Error::NotUtf8 { path, line } => {
            assert_eq!(path, &p);
            assert_eq!(*line, 3);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("d.csv:3"), "{err}");
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    assert!(
        matches!(&err, Error::EmptyData { path, .. } if path == &p),
        "{err:?}"
    );
    let err = read_csv_table(&p).unwrap_err();
    assert!(matches!(err, Error::EmptyData { .. }), "{err:?}");
}

#[test]
fn header_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,b,label\n");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    match &err {
        Error::EmptyData { path, reason } => {
            assert_eq!(path, &p);
            assert!(reason.contains("header only"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn single_class() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,label\n1,x\n2,x\n");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    match &err {
        Error::InvalidData { what, reason } => {
            assert!(what.contains("d.csv"), "{what}");
            assert!(
                reason.contains("single class") && reason.contains("`x`"),
                "{reason}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn missing_target_column_lists_available() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,b,label\n1,2,x\n3,4,y\n");
    let err = TabularDataset::from_csv(&p, "class").unwrap_err();
    match &err {
        Error::MissingColumn {
            path,
            column,
            available,
        } => {
            assert_eq!(path, &p);
            assert_eq!(column, "class");
            assert_eq!(available, "a, b, label");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn target_all_missing() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", b"a,label\n1,?\n2,\n3,NA\n");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidData { reason, .. } if reason.contains("no values")),
        "{err:?}"
    );
}

#[test]
fn corrupt_png_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cats/a.png",
        &png_bytes(4, 4, png::ColorType::Grayscale),
    );
    let bad = write(
        dir.path(),
        "dogs/b.png",
        b"\x89PNG\r\n\x1a\nthis is not a png",
    );
    let err = ImageDataset::from_folder(dir.path()).unwrap_err();
    match &err {
        Error::Image { path, .. } => assert_eq!(path, &bad),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("b.png"), "{err}");
}

#[test]
fn truncated_png_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cats/a.png",
        &png_bytes(4, 4, png::ColorType::Grayscale),
    );
    let full = png_bytes(8, 8, png::ColorType::Grayscale);
    let bad = write(dir.path(), "dogs/b.png", &full[..full.len() - 20]);
    let err = ImageDataset::from_folder(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Image { path, .. } if path == &bad),
        "{err:?}"
    );
}

#[test]
fn images_of_different_sizes_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cats/a.png",
        &png_bytes(4, 4, png::ColorType::Grayscale),
    );
    write(
        dir.path(),
        "dogs/b.png",
        &png_bytes(5, 4, png::ColorType::Grayscale),
    );
    let err = ImageDataset::from_folder(dir.path()).unwrap_err();
    match &err {
        Error::ShapeMismatch {
            what,
            expected,
            actual,
        } => {
            assert!(what.contains("b.png"), "{what}");
            assert_eq!(expected, &[4, 4]);
            assert_eq!(actual, &[4, 5]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn png_folder_loads_gray_and_rgb() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cats/a.png",
        &png_bytes(3, 2, png::ColorType::Grayscale),
    );
    write(
        dir.path(),
        "dogs/b.png",
        &png_bytes(3, 2, png::ColorType::Rgb),
    );
    write(dir.path(), "dogs/notes.txt", b"ignored");
    let ds = ImageDataset::from_folder(dir.path()).unwrap();
    assert_eq!((ds.channels, ds.height, ds.width), (3, 2, 3));
    assert_eq!(ds.label_names, ["cats", "dogs"]);
    assert_eq!(ds.targets, [0, 1]);
    assert_eq!(ds.pixels.len(), 2 * 3 * 2 * 3);
    assert!(ds.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    // The grayscale image is replicated over the three channels.
    assert_eq!(ds.image(0)[..6], ds.image(0)[6..12]);
}

#[test]
fn single_class_folder_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cats/a.png",
        &png_bytes(2, 2, png::ColorType::Grayscale),
    );
    let err = ImageDataset::from_folder(dir.path()).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
    let empty = tempfile::tempdir().unwrap();
    let err = ImageDataset::from_folder(empty.path()).unwrap_err();
    assert!(matches!(err, Error::EmptyData { .. }), "{err:?}");
}

#[test]
fn bad_jsonl_line_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.jsonl",
        b"{\"text\": \"good\", \"label\": \"pos\"}\n\n{\"text\": \"bad\", \"label\": }\n",
    );
    let err = TextDataset::from_jsonl(&p, "text", "label").unwrap_err();
    match &err {
        Error::JsonLine { path, line, source } => {
            assert_eq!(path, &p);
            assert_eq!(*line, 3);
            assert!(source.column() > 0);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("t.jsonl:3:"), "{err}");
}

#[test]
fn jsonl_missing_field_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.jsonl",
        b"{\"text\": \"good\", \"label\": \"pos\"}\n{\"body\": \"bad\", \"label\": \"neg\"}\n",
    );
    let err = TextDataset::from_jsonl(&p, "text", "label").unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 2, reason, .. } if reason.contains("`text`")),
        "{err:?}"
    );
}

#[test]
fn jsonl_loads_string_and_numeric_labels() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.jsonl",
        b"{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n{\"text\": \"c\", \"label\": 1}\n",
    );
    let ds = TextDataset::from_jsonl(&p, "text", "label").unwrap();
    assert_eq!(ds.label_names, ["0", "1"]);
    assert_eq!(ds.targets, [1, 0, 1]);
}

#[test]
fn missing_file_is_an_io_error_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("absent.csv");
    let err = TabularDataset::from_csv(&p, "label").unwrap_err();
    assert!(
        matches!(&err, Error::IoAt { path, .. } if path == &p),
        "{err:?}"
    );
}

#[test]
fn quoted_csv_with_embedded_newlines_loads() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "d.csv",
        b"note,size,label\r\n\"two\r\nlines, and a comma\",1.5,a\r\n\"say \"\"hi\"\"\",NaN,b\r\n",
    );
    // One row per class: keep them (the default drops classes with fewer than two rows).
    let keep_all = CsvOptions {
        min_class_rows: 1,
        ..CsvOptions::default()
    };
    let (ds, _) = TabularDataset::read_csv(&p, "label", &keep_all).unwrap();
    assert_eq!(ds.n_rows(), 2);
    assert_eq!(ds.columns[0].values.display(1), "say \"hi\"");
    assert_eq!(ds.columns[1].values.display(1), "?");
}
