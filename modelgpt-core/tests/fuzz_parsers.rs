//! Property tests of the loaders of a user's own data on mutated input: CSV (in memory, and
//! `.gz` / `.bz2` files with their compressed bytes mutated), JSON Lines and PNG folders. Each
//! runs 100,000 generated inputs (`FUZZ_CASES` overrides), and checks that nothing panics, that
//! every failure is a typed error with a message, and that what loads keeps the documented
//! invariants (and can be profiled and preprocessed without a panic). The mutation engine is
//! `tests/fuzz/mod.rs`.

mod fuzz;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use fuzz::{Rng, mutate_bytes, mutate_json, mutate_png};
use modelgpt_core::data::{
    ColumnValues, CsvOptions, CsvTable, ImageDataset, TabularDataset, TabularPreprocessor,
    TextDataset, parse_records,
};
use modelgpt_core::{Error, Limits};

const CSV_SEEDS: &[&str] = &[
    "size,colour,label\n1,red,a\n2,blue,b\n3,red,a\n4,blue,b\n5,red,a\n6,blue,b\n",
    "id,text,label\r\n1,\"hello, \"\"world\"\"\",pos\r\n2,\"multi\nline\",neg\r\n3, plain ,pos\r\n4,,neg\r\n5,\"x\",neg\r\n",
    "\u{feff}x,y,z,target\n1.5,?,NA,yes\n-2e3,N/A,7,no\n,3,nan,yes\n0.25,4,5,no\n9,,1,yes\n",
    "a,b,label\n0.1,1,1\n0.2,2,2\n0.3,3,10\n0.4,4,1\n0.5,5,2\n0.6,6,10\n",
    "a,label\n\n\n1,x\n  \n2,y\n3,x\n\t\n4,y\n",
    "c1,c2,c3,c4,c5,c6,c7,c8,c9,label\n1,2,3,4,5,6,7,8,9,p\n9,8,7,6,5,4,3,2,1,q\n1,1,1,1,1,1,1,1,1,p\n2,2,2,2,2,2,2,2,2,q\n",
    "\"quoted head\",\"la,bel\"\n\"1\",\"a\"\n\"2\",\"b\"\n \"3\" ,\"a\"\n",
];

/// Tokens of the CSV grammar and of the type inference.
const CSV_TOKENS: &[&[u8]] = &[
    b",", b"\"", b"\"\"", b"\r\n", b"\n", b" \"", b"\" ", b"label", b"target", b"?", b"NA", b"nan",
    b"inf", b"-inf", b"1e39", b"1e-39", b"0", b"-0.0",
];

fn tight(seed: u64) -> Limits {
    Limits {
        max_input_bytes: 1 << 16,
        max_record_bytes: 2048,
        max_cell_bytes: 256,
        max_text_bytes: 512,
        max_columns: 16,
        max_categories: 8,
        max_classes: 6,
        max_rows: 20,
        row_sample_seed: seed,
        max_image_pixels: Limits::DEFAULT.max_image_pixels,
    }
}

fn limits_for(salt: u64) -> Limits {
    if salt.is_multiple_of(2) {
        Limits::DEFAULT
    } else {
        tight(salt)
    }
}

fn csv_donors() -> Vec<Vec<u8>> {
    CSV_SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn mutated_csv(rng: &mut Rng, donors: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = rng.pick(donors).clone();
    mutate_bytes(rng, &mut bytes, CSV_TOKENS, donors);
    bytes
}

/// The invariants [`CsvTable`] documents.
fn check_table(t: &CsvTable, limits: &Limits) {
    assert!(!t.header.is_empty(), "empty header");
    assert!(t.header.len() <= limits.max_columns, "too many columns");
    for (j, h) in t.header.iter().enumerate() {
        assert!(!h.is_empty(), "empty header name");
        assert!(!t.header[..j].contains(h), "duplicate header name {h:?}");
        assert!(
            h.len() <= limits.max_cell_bytes,
            "header name over max_cell_bytes"
        );
    }
    assert_eq!(t.rows.len(), t.lines.len(), "one line number per row");
    assert!(t.rows.len() <= limits.max_rows, "rows above max_rows");
    assert!(
        t.rows_in_file >= t.rows.len(),
        "rows_in_file below rows kept"
    );
    assert!(
        t.lines.windows(2).all(|w| w[0] < w[1]),
        "lines not increasing"
    );
    for row in &t.rows {
        assert_eq!(row.len(), t.header.len(), "ragged row accepted");
        assert!(
            row.iter().all(|c| c.len() <= limits.max_cell_bytes),
            "cell over max_cell_bytes"
        );
    }
}

/// The invariants of a [`TabularDataset`], and that it can be profiled, subset and preprocessed.
fn check_tabular(ds: &TabularDataset, limits: &Limits) {
    let n = ds.n_rows();
    assert!(n > 0, "no rows");
    assert!(
        ds.n_classes() >= 2 && ds.n_classes() <= limits.max_classes,
        "class count"
    );
    assert!(
        ds.targets.iter().all(|&t| t < ds.n_classes()),
        "target out of range"
    );
    assert!(!ds.columns.is_empty(), "no feature column");
    for c in &ds.columns {
        assert_eq!(c.values.len(), n, "column length");
        match &c.values {
            ColumnValues::Numeric(v) => {
                assert!(
                    v.iter().all(|x| x.is_finite() || x.is_nan()),
                    "infinite value"
                )
            }
            ColumnValues::Categorical { levels, codes } => {
                assert!(
                    levels.len() <= limits.max_categories,
                    "levels over max_categories"
                );
                assert!(
                    codes.iter().flatten().all(|&k| (k as usize) < levels.len()),
                    "code"
                );
            }
        }
    }
    let _ = ds.profile(4, 1);
    let _ = ds.subset(&[n - 1, 0]);
    let all: Vec<usize> = (0..n).collect();
    let pre = TabularPreprocessor::fit(ds, &all).expect("fit on a loaded data set");
    let m = pre
        .transform(ds, &all)
        .expect("transform the data it was fitted on");
    assert_eq!(m.shape(), [n, pre.n_outputs()]);
}

/// The target column a case asks for: usually the last column or `label`.
fn pick_target(rng: &mut Rng, header: &[String]) -> String {
    match rng.below(10) {
        0..=5 => header.last().cloned().unwrap_or_default(),
        6 | 7 => "label".into(),
        8 => rng.pick(header).clone(),
        _ => "no such column".into(),
    }
}

/// Parses `bytes` as CSV within `limits` and, when it parses, builds a data set from it.
fn csv_case(bytes: &[u8], salt: u64, path: &str) -> Result<(), Error> {
    let limits = limits_for(salt);
    let mut rng = Rng::new(salt);
    let table = CsvTable::from_reader(bytes, path, &limits)?;
    check_table(&table, &limits);
    if rng.chance(25)
        && let Ok(text) = std::str::from_utf8(bytes)
        && limits == Limits::DEFAULT
    {
        let again = CsvTable::parse_str(text, path).expect("parse_str agrees with from_reader");
        assert_eq!(again, table, "parse_str and from_reader differ");
    }
    let target = pick_target(&mut rng, &table.header);
    let options = CsvOptions {
        limits,
        min_class_rows: *rng.pick(&[1, 2, 3]),
    };
    let (ds, report) = TabularDataset::from_table_with(&table, &target, "fuzz".into(), &options)?;
    assert_eq!(report.rows_read, table.rows.len());
    assert!(report.rows_missing_label + report.rows_dropped_with_classes <= report.rows_read);
    check_tabular(&ds, &limits);
    // New rows to predict on: the same table through the fitted preprocessing.
    let all: Vec<usize> = (0..ds.n_rows()).collect();
    let pre = TabularPreprocessor::fit(&ds, &all).expect("fit");
    if let Ok(m) = pre.transform_table(&table) {
        assert_eq!(m.rows, table.rows.len());
    }
    Ok(())
}

#[test]
fn valid_csv_seeds_load() {
    for (i, seed) in CSV_SEEDS.iter().enumerate() {
        let table = CsvTable::parse_str(seed, "seed.csv").unwrap_or_else(|e| panic!("{i}: {e}"));
        let target = table.header.last().unwrap().clone();
        let ds = TabularDataset::from_table(&table, &target, "seed".into())
            .unwrap_or_else(|e| panic!("seed {i}: {e}"));
        check_tabular(&ds, &Limits::DEFAULT);
    }
}

/// `CsvTable::from_reader` + `TabularDataset::from_table_with` on 100,000 mutated CSV texts, half
/// of them within tight limits (20 rows, 16 columns, 256-byte cells, 8 categories, 6 classes).
#[test]
fn fuzz_csv_in_memory() {
    let donors = csv_donors();
    let report = fuzz::run(
        "csv_memory",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| (rng.next_u64(), mutated_csv(rng, &donors)),
        |(salt, bytes)| csv_case(bytes, *salt, "fuzz.csv"),
    );
    fuzz::assert_mixed(&report);
}

/// `parse_records` (the building block of the other format readers) with `;`, tab and `|`
/// delimiters on 100,000 mutated texts: every record's line numbers increase.
#[test]
fn fuzz_parse_records_delimiters() {
    let donors: Vec<Vec<u8>> = CSV_SEEDS
        .iter()
        .map(|s| s.replace(',', ";").into_bytes())
        .chain(CSV_SEEDS.iter().map(|s| s.replace(',', "\t").into_bytes()))
        .collect();
    let report = fuzz::run(
        "parse_records",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let mut bytes = rng.pick(&donors).clone();
            mutate_bytes(rng, &mut bytes, &[b";", b"\t", b"|", b"\""], &donors);
            (
                rng.next_u64(),
                String::from_utf8_lossy(&bytes).into_owned().into_bytes(),
            )
        },
        |(salt, bytes)| {
            let text = std::str::from_utf8(bytes).expect("lossy text is UTF-8");
            let delimiter = *Rng::new(*salt).pick(b";\t|,");
            let records = parse_records(text, delimiter, Path::new("fuzz.txt"))?;
            assert!(records.windows(2).all(|w| w[0].0 < w[1].0), "line numbers");
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn bz2(bytes: &[u8]) -> Vec<u8> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// One compressed-CSV fuzz run: seeds are the CSV seeds compressed (and two-member streams);
/// 75 % of inputs mutate the compressed bytes, the rest compress a mutated CSV. Each input is
/// written to one reused file and read with `CsvTable::read` or `TabularDataset::read_csv`.
fn fuzz_compressed(name: &str, file: &str, compress: fn(&[u8]) -> Vec<u8>) {
    let dir = fuzz::scratch_dir();
    let path: PathBuf = dir.path().join(file);
    let plain = csv_donors();
    let mut seeds: Vec<Vec<u8>> = plain.iter().map(|s| compress(s)).collect();
    seeds.push([compress(&plain[0]), compress(b"7,red,b\n8,blue,a\n")].concat());
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(&path, s).unwrap();
        let table = CsvTable::read(&path, &Limits::DEFAULT).unwrap_or_else(|e| panic!("{i}: {e}"));
        check_table(&table, &Limits::DEFAULT);
    }
    let report = fuzz::run(
        name,
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let bytes = if rng.chance(75) {
                let mut b = rng.pick(&seeds).clone();
                mutate_bytes(rng, &mut b, &[], &seeds);
                b
            } else {
                compress(&mutated_csv(rng, &plain))
            };
            (rng.next_u64(), bytes)
        },
        |(salt, bytes)| {
            std::fs::write(&path, bytes).expect("write the case");
            let limits = limits_for(*salt);
            if salt % 4 < 2 {
                let table = CsvTable::read(&path, &limits)?;
                check_table(&table, &limits);
            } else {
                let options = CsvOptions {
                    limits,
                    min_class_rows: 2,
                };
                let (ds, _) = TabularDataset::read_csv(&path, "label", &options)?;
                check_tabular(&ds, &limits);
            }
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

/// `.csv.gz` files: 100,000 inputs.
#[test]
fn fuzz_csv_gz_files() {
    fuzz_compressed("csv_gz", "fuzz.csv.gz", gzip);
}

/// `.csv.bz2` files: 100,000 inputs.
#[test]
fn fuzz_csv_bz2_files() {
    fuzz_compressed("csv_bz2", "fuzz.csv.bz2", bz2);
}

const JSONL_SEED: &str = "{\"text\": \"great film\", \"label\": \"pos\"}\n{\"text\":\"dull\",\"label\":\"neg\"}\n{\"text\": \"ok \\u00e9 \\\"q\\\"\", \"label\": 1}\n\n{\"text\":\"t\",\"label\":true,\"extra\":[1,2]}\r\n{\"text\": \"Line one.\\nLine two is longer.\", \"label\": \"neg\"}\n";

/// A mutated JSON Lines text: one or two lines mutated as JSON, or the whole text as bytes.
fn mutated_jsonl(rng: &mut Rng) -> Vec<u8> {
    let strings = ["text", "label", "pos", "neg"];
    if rng.chance(60) {
        let mut lines: Vec<Vec<u8>> = JSONL_SEED.lines().map(|l| l.as_bytes().to_vec()).collect();
        for _ in 0..rng.range(1, 2) {
            let i = rng.below(lines.len());
            lines[i] = mutate_json(rng, &lines[i], &strings, &[]);
        }
        lines.join(&b"\n"[..])
    } else {
        let mut b = JSONL_SEED.as_bytes().to_vec();
        mutate_bytes(
            rng,
            &mut b,
            &[b"{\"text\":", b"\"label\":", b"\n{}", b"\\"],
            &[],
        );
        b
    }
}

fn check_text(ds: &TextDataset, limits: &Limits) {
    assert_eq!(ds.texts.len(), ds.targets.len());
    assert!(ds.n_rows() > 0 && ds.n_classes() >= 2);
    assert!(ds.n_classes() <= limits.max_classes);
    assert!(ds.targets.iter().all(|&t| t < ds.n_classes()));
    assert!(ds.texts.iter().all(|t| t.len() <= limits.max_text_bytes));
    let _ = ds.profile(3, 1);
    let _ = ds.split_paragraphs(5);
    let _ = ds.subset(&[0]);
}

#[test]
fn valid_jsonl_seed_loads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("seed.jsonl");
    std::fs::write(&p, JSONL_SEED).unwrap();
    let ds = TextDataset::from_jsonl(&p, "text", "label").unwrap();
    assert_eq!(ds.label_names, ["1", "neg", "pos", "true"]);
    check_text(&ds, &Limits::DEFAULT);
}

/// `TextDataset::from_jsonl_with` on 100,000 mutated JSON Lines files (one in ten gzip-compressed;
/// half within tight limits), written to one reused file.
#[test]
fn fuzz_jsonl_files() {
    let dir = fuzz::scratch_dir();
    let plain = dir.path().join("fuzz.jsonl");
    let gz = dir.path().join("fuzz.jsonl.gz");
    let report = fuzz::run(
        "jsonl",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| (rng.next_u64(), mutated_jsonl(rng)),
        |(salt, bytes)| {
            let mut rng = Rng::new(*salt);
            let path = if rng.chance(10) {
                std::fs::write(&gz, gzip(bytes)).expect("write");
                &gz
            } else {
                std::fs::write(&plain, bytes).expect("write");
                &plain
            };
            let limits = limits_for(*salt);
            let (text, label) = match rng.below(20) {
                0 => ("label", "text"),
                1 => ("extra", "label"),
                2 => ("", "label"),
                _ => ("text", "label"),
            };
            let ds = TextDataset::from_jsonl_with(path, text, label, &limits)?;
            check_text(&ds, &limits);
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

/// Small PNGs of every colour type the loader handles.
fn png_seeds() -> Vec<Vec<u8>> {
    use png::{BitDepth, ColorType};
    let encode = |w: u32, h: u32, color: ColorType, depth: BitDepth, palette: bool| {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(color);
            enc.set_depth(depth);
            if palette {
                enc.set_palette(vec![0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 255, 255]);
                enc.set_trns(vec![255, 128]);
            }
            let mut writer = enc.write_header().unwrap();
            let samples = match color {
                ColorType::Grayscale | ColorType::Indexed => 1,
                ColorType::GrayscaleAlpha => 2,
                ColorType::Rgb => 3,
                ColorType::Rgba => 4,
            };
            let bits = samples * depth as usize;
            let row = (w as usize * bits).div_ceil(8);
            let data: Vec<u8> = (0..row * h as usize).map(|i| (i * 37 % 4) as u8).collect();
            writer.write_image_data(&data).unwrap();
        }
        out
    };
    vec![
        encode(2, 2, ColorType::Grayscale, BitDepth::Eight, false),
        encode(2, 2, ColorType::Rgb, BitDepth::Eight, false),
        encode(2, 2, ColorType::Rgba, BitDepth::Sixteen, false),
        encode(2, 2, ColorType::GrayscaleAlpha, BitDepth::Eight, false),
        encode(2, 2, ColorType::Indexed, BitDepth::Two, true),
        encode(2, 2, ColorType::Grayscale, BitDepth::One, false),
        encode(3, 1, ColorType::Grayscale, BitDepth::Sixteen, false),
    ]
}

fn check_images(ds: &ImageDataset) {
    assert!(ds.n_classes() >= 2 && ds.n_rows() >= 2);
    assert!(
        ds.channels == 1 || ds.channels == 3,
        "channels {}",
        ds.channels
    );
    assert_eq!(
        ds.pixels.len(),
        ds.n_rows() * ds.n_features(),
        "pixel count"
    );
    assert!(
        ds.pixels.iter().all(|p| (0.0..=1.0).contains(p)),
        "pixel out of [0, 1]"
    );
    assert!(ds.targets.iter().all(|&t| t < ds.n_classes()));
    let _ = ds.profile(2, 1);
    let _ = ds.subset(&[1, 0]);
}

/// `ImageDataset::from_folder` on 100,000 folders of two classes, one image each: class `a`
/// holds a valid 2×2 PNG, class `b` a mutated one (chunk-aware mutations with the CRC fixed up,
/// IHDR edge values, dropped and repeated chunks, plain byte mutations).
#[test]
fn fuzz_png_folders() {
    let seeds = png_seeds();
    let dir = fuzz::scratch_dir();
    for class in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(class)).unwrap();
    }
    std::fs::write(dir.path().join("a/0.png"), &seeds[0]).unwrap();
    let target = dir.path().join("b/0.png");
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(&target, s).unwrap();
        match ImageDataset::from_folder(dir.path()) {
            Ok(ds) => check_images(&ds),
            // The 3×1 seed differs in size from class `a`'s image.
            Err(Error::ShapeMismatch { .. }) if i == 6 => {}
            Err(e) => panic!("seed {i}: {e}"),
        }
    }
    let report = fuzz::run(
        "png_folder",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| {
            let seed = rng.pick(&seeds).clone();
            mutate_png(rng, &seed, &seeds)
        },
        |bytes| {
            std::fs::write(&target, bytes).expect("write");
            let ds = ImageDataset::from_folder(dir.path())?;
            check_images(&ds);
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}
