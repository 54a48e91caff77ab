//! The format readers through the public API: bad input gives core's structured errors (file,
//! line, column) nested in `modelgpt_datasets::Error::Core`; nothing panics.

use std::io::Write;
use std::path::{Path, PathBuf};

use modelgpt_core::Error as CoreError;
use modelgpt_datasets::Error;
use modelgpt_datasets::formats::{idx, keel, orange, scattertext};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn keel_ragged_row_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.dat",
        b"@relation t\n@data\n1,2,a\n3,4,b\n5,c\n",
    );
    let err = keel::read(&p).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("t.dat:5:3: expected 3 fields, found 2"),
        "{msg}"
    );
    assert!(
        matches!(&err, Error::Core(CoreError::Parse { path, line: 5, column: Some(3), .. }) if path == &p),
        "{err:?}"
    );
}

#[test]
fn compressed_text_with_a_bad_byte_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"label,text\na,fine\nb,\xff\n").unwrap();
    let p = write(dir.path(), "c.csv.gz", &enc.finish().unwrap());
    let err = scattertext::read(&p, "label", "text").unwrap_err();
    assert!(
        matches!(&err, Error::Core(CoreError::NotUtf8 { path, line: 3 }) if path == &p),
        "{err:?}"
    );
}

#[test]
fn orange_single_class_corpus_is_invalid_data() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.tab",
        b"Author\tText\nd\ts\nclass\tmeta\nann\thi\nann\tho\n",
    );
    let err = orange::read_corpus(&p, "Author", "Text").unwrap_err();
    assert!(
        matches!(&err, Error::Core(CoreError::InvalidData { reason, .. }) if reason.contains("single class")),
        "{err:?}"
    );
}

#[test]
fn idx_bad_magic_and_mismatched_counts() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad", b"PK\x03\x04");
    assert!(matches!(
        idx::read(&bad),
        Err(Error::Core(CoreError::Parse { line: 1, .. }))
    ));
    let images = write(
        dir.path(),
        "images",
        &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 7, 9],
    );
    let labels = write(dir.path(), "labels", &[0, 0, 8, 1, 0, 0, 0, 1, 0]);
    let err = idx::read_dataset("x", &images, &labels, &["a", "b"]).unwrap_err();
    assert!(
        matches!(&err, Error::Core(CoreError::ShapeMismatch { actual, .. }) if actual == &[2, 1, 1]),
        "{err:?}"
    );
}
