//! A small deterministic mutation engine for the property tests of every parser of untrusted
//! input (`tests/fuzz_*.rs` of each crate; the other crates include this file with
//! `#[path = "../../modelgpt-core/tests/fuzz/mod.rs"] mod fuzz;`, so there is one copy).
//!
//! - [`Rng`]: seeded SplitMix64. Case `i` of test `name` draws from its own seed
//!   ([`case_seed`]), so one case can be replayed alone with `FUZZ_CASE=i`.
//! - [`mutate_bytes`]: 1–6 of bit flips, byte sets, insertions of [`TOKENS`] (quotes,
//!   delimiters, `\r`, `\n`, NUL, invalid UTF-8, huge numbers, `inf`, `NaN`, ...), deletions,
//!   truncations, duplications, long runs, number swaps and splices from other seeds.
//! - [`mutate_json`]: JSON-aware mutations (a value swapped for an interesting one, keys removed,
//!   added or renamed, array elements removed or duplicated), then re-serialised; otherwise
//!   byte-level ones.
//! - [`mutate_png`]: chunk-aware PNG mutations with the chunk CRC fixed up (most of the time), so
//!   the decoder gets past its CRC check to the header fields and the image data.
//! - [`mutate_safetensors`]: the JSON header mutated and the file re-assembled with a matching
//!   (or an edge-value) length, the data section overwritten with NaN / inf ([`F32_TOKENS`]).
//! - [`run`]: runs every case under [`std::panic::catch_unwind`]. A panic (in the parser, or in
//!   an invariant the test checks on an `Ok` value) is reported with the case index, its seed, the
//!   panic message and location and a hex preview of the input, and fails the test; every `Err`
//!   must display a non-empty message. The case count is [`cases`] (100,000 unless `FUZZ_CASES`
//!   says otherwise).
//! - [`scratch_dir`]: where file-based cases write their input (tmpfs when available).
//!
//! Environment: `FUZZ_CASES=n` runs `n` cases per test, `FUZZ_SEED=s` draws other inputs (the
//! default, 0, is what CI runs), `FUZZ_CASE=i` replays case `i` alone, `FUZZ_TRACE=1` prints
//! each case before running it (to name the input of an abort, which no `catch_unwind` catches).
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::{Debug, Display, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

/// Inputs per parser unless `FUZZ_CASES` is set.
pub const DEFAULT_CASES: usize = 100_000;

/// The number of cases to run: `FUZZ_CASES` or `default`.
pub fn cases(default: usize) -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A scratch folder for the files of the cases, in `/dev/shm` (tmpfs) when there is one: the
/// cases rewrite one file over and over, which on a disk file system (ext4 flushes a file
/// truncated and rewritten when it is closed) is several times slower.
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("a temporary folder")
}

/// Seeded SplitMix64 (deterministic, no dependency).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// The seed of case `index` of test `name` (FNV-1a of the name, mixed with `FUZZ_SEED`).
pub fn case_seed(name: &str, index: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        std::env::var("FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    });
    let mut r = Rng::new(h ^ base.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index as u64);
    r.next_u64()
}

/// Byte strings that tend to break parsers: quoting and delimiters, line ends, NUL, invalid or
/// unusual UTF-8, numbers at the edges of every type, non-finite spellings, missing-value
/// markers, JSON punctuation and escapes, format markers.
pub const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b"\"a\"",
    b",",
    b",,",
    b";",
    b"\t",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\0",
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\x80",
    b"\xef\xbb\xbf",
    "é".as_bytes(),
    "İ".as_bytes(),
    "ẞ".as_bytes(),
    "\u{301}".as_bytes(),
    "🙂".as_bytes(),
    "\u{202e}".as_bytes(),
    "“".as_bytes(),
    "３".as_bytes(),
    b"NaN",
    b"nan",
    b"-NaN",
    b"inf",
    b"-inf",
    b"Infinity",
    b"1e39",
    b"-1e39",
    b"1e308",
    b"1e400",
    b"1e-45",
    b"1e-400",
    b"-0",
    b"0",
    b"-1",
    b"1",
    b"2",
    b"255",
    b"256",
    b"65535",
    b"65536",
    b"2147483647",
    b"2147483648",
    b"4294967295",
    b"4294967296",
    b"9007199254740993",
    b"9223372036854775807",
    b"18446744073709551615",
    b"18446744073709551616",
    b"340282366920938463463374607431768211457",
    b"0x10",
    b"1.",
    b".5",
    b"1e",
    b"--1",
    b"+",
    b"?",
    b"NA",
    b"N/A",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"false",
    b"{}",
    b"[]",
    b"\\",
    b"\\\"",
    b"\\u0000",
    b"\\ud800",
    b"\\uDFFF",
    b"\\n",
    b"@",
    b"@data",
    b"@attribute x real",
    b"|",
    b"#",
    b"```",
    b"..",
    b"/",
];

/// Numbers that sit on an edge of some integer or float type.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "255",
    "256",
    "1000",
    "4096",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "-1e308",
    "1e400",
    "0.5",
    "-0.5",
    "1e-310",
    "3.4e38",
    "3.5e38",
    "-0",
];

/// An interesting JSON value (any type).
pub fn interesting_json(rng: &mut Rng, strings: &[&str]) -> Value {
    match rng.below(10) {
        0..=3 => {
            let n = rng.pick(NUMBERS);
            serde_json::from_str(n).unwrap_or(Value::Null)
        }
        4..=6 => {
            let s: String = match rng.below(8) {
                0 => String::new(),
                1 => "a".repeat(rng.range(2, 3000)),
                2 => "\u{0}".into(),
                3 => "İé🙂\u{301}".into(),
                4 if !strings.is_empty() => rng.pick(strings).to_string(),
                _ => rng
                    .pick(&[
                        "x", "NaN", "inf", "-1", "?", "a,b", "\"", "..", "c", "class",
                    ])
                    .to_string(),
            };
            Value::String(s)
        }
        7 => Value::Bool(rng.chance(50)),
        8 => Value::Null,
        _ => match rng.below(4) {
            0 => Value::Array(Vec::new()),
            1 => Value::Object(Default::default()),
            2 => serde_json::json!([0, -1, 1e300]),
            _ => serde_json::json!({"a": 1}),
        },
    }
}

/// Byte-level mutations of `data`, in place: 1 (half the time) to 6 operations. `donors` are
/// other seeds to splice from; `tokens` are format-specific tokens inserted besides [`TOKENS`].
pub fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, tokens: &[&[u8]], donors: &[Vec<u8>]) {
    let ops = if rng.chance(50) { 1 } else { rng.range(2, 6) };
    for _ in 0..ops {
        let len = data.len();
        let pos = rng.below(len + 1);
        match rng.below(14) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let random = rng.byte();
                data[i] = *rng.pick(&[0, 0xff, 0x7f, 0x80, b'"', b',', b'\n', b'\r', random]);
            }
            2..=4 => {
                let t = token(rng, tokens).to_vec();
                data.splice(pos..pos, t);
            }
            5 if len > 0 => {
                let most = if rng.chance(80) { 8 } else { 256 };
                let n = rng.range(1, len.min(most));
                let at = rng.below(len - n + 1);
                data.drain(at..at + n);
            }
            6 => data.truncate(pos),
            7 if len > 0 => {
                let a = rng.below(len);
                let b = rng.range(a, len.min(a + 512));
                let copy = data[a..b].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, copy);
            }
            8 => {
                let n = *rng.pick(&[2, 3, 16, 255, 1000, 4097, 70_000]);
                let b = if len > 0 && rng.chance(50) {
                    data[rng.below(len)]
                } else {
                    *rng.pick(&[b'a', b'"', b',', b'\n', b' ', b'9', b'[', b'{', 0])
                };
                data.splice(pos..pos, std::iter::repeat_n(b, n));
            }
            9 if !donors.is_empty() => {
                let d = rng.pick(donors);
                let from = rng.below(d.len() + 1);
                if rng.chance(50) {
                    data.truncate(pos);
                    data.extend_from_slice(&d[from..]);
                } else {
                    let to = rng.range(from, d.len().min(from + 256));
                    data.splice(pos..pos, d[from..to].iter().copied());
                }
            }
            10 if len > 0 => {
                let t = token(rng, tokens).to_vec();
                let end = (pos + t.len()).min(len);
                data.splice(pos.min(len)..end, t);
            }
            11 if len > 1 => {
                let (i, j) = (rng.below(len), rng.below(len));
                data.swap(i, j);
            }
            12 => swap_number(rng, data),
            _ => {
                let t = token(rng, tokens).to_vec();
                data.splice(pos..pos, t);
            }
        }
    }
    data.truncate(1 << 20);
}

/// A format-specific token (40 %) or one of [`TOKENS`].
fn token<'a>(rng: &mut Rng, tokens: &[&'a [u8]]) -> &'a [u8] {
    if !tokens.is_empty() && rng.chance(40) {
        tokens[rng.below(tokens.len())]
    } else {
        TOKENS[rng.below(TOKENS.len())]
    }
}

/// Replaces one ASCII digit run of `data` with an interesting number.
fn swap_number(rng: &mut Rng, data: &mut Vec<u8>) {
    let starts: Vec<usize> = (0..data.len())
        .filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit()))
        .collect();
    if starts.is_empty() {
        return;
    }
    let s = *rng.pick(&starts);
    let mut e = s;
    while e < data.len() && data[e].is_ascii_digit() {
        e += 1;
    }
    let n = rng.pick(NUMBERS).as_bytes().to_vec();
    data.splice(s..e, n);
}

/// Number of values in `v` (itself included).
fn count_values(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_values).sum(),
        Value::Object(map) => map.values().map(count_values).sum(),
        _ => 0,
    }
}

/// The value number `k` of `v` in pre-order (`k < count_values(v)`).
fn nth_value(v: &mut Value, mut k: usize) -> &mut Value {
    if k == 0 {
        return v;
    }
    k -= 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => Vec::new(),
    };
    for child in children {
        let n = count_values(child);
        if k < n {
            return nth_value(child, k);
        }
        k -= n;
    }
    unreachable!("value index beyond count_values")
}

/// One structural mutation of a JSON tree: a value swapped for an interesting one or for a copy
/// of another value of the same tree, keys removed, renamed or added, array elements removed,
/// repeated, reordered or added, numbers nudged, strings byte-mutated.
pub fn mutate_value(rng: &mut Rng, root: &mut Value, strings: &[&str]) {
    let total = count_values(root);
    if rng.chance(15) {
        let donor = nth_value(root, rng.below(total)).clone();
        *nth_value(root, rng.below(total)) = donor;
        return;
    }
    let k = rng.below(total);
    let v = nth_value(root, k);
    match v {
        Value::Object(map) if !map.is_empty() && rng.chance(60) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = rng.pick(&keys).clone();
            match rng.below(3) {
                0 => {
                    map.remove(&k);
                }
                1 => {
                    let item = map.remove(&k).unwrap_or(Value::Null);
                    let mut name = k.into_bytes();
                    mutate_bytes(rng, &mut name, &[], &[]);
                    map.insert(String::from_utf8_lossy(&name).into_owned(), item);
                }
                _ => {
                    let name = if strings.is_empty() || rng.chance(50) {
                        "extra".to_string()
                    } else {
                        rng.pick(strings).to_string()
                    };
                    map.insert(name, interesting_json(rng, strings));
                }
            }
        }
        Value::Array(items) if !items.is_empty() && rng.chance(60) => {
            let i = rng.below(items.len());
            match rng.below(5) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    items.insert(i, copy);
                }
                2 => items.truncate(i),
                3 => {
                    let j = rng.below(items.len());
                    items.swap(i, j);
                }
                _ => items.push(interesting_json(rng, strings)),
            }
        }
        Value::Number(n) if rng.chance(50) => {
            let x = n.as_f64().unwrap_or(0.0);
            let y = *rng.pick(&[x + 1.0, x - 1.0, x * 2.0, -x, 0.0, x * 1e6, x / 3.0]);
            *v = if y.fract() == 0.0 && y.abs() < 9e15 {
                Value::from(y as i64)
            } else {
                serde_json::Number::from_f64(y).map_or(Value::Null, Value::Number)
            };
        }
        Value::String(s) if rng.chance(50) => {
            let mut bytes = std::mem::take(s).into_bytes();
            mutate_bytes(rng, &mut bytes, &[], &[]);
            *s = String::from_utf8_lossy(&bytes).into_owned();
        }
        _ => *v = interesting_json(rng, strings),
    }
}

/// A mutated copy of the JSON text `seed`: most of the time 1–3 structural mutations
/// ([`mutate_value`]) re-serialised (compact or pretty, sometimes byte-mutated too); otherwise
/// byte-level mutations with JSON tokens. `strings` are domain values to swap in (field names,
/// enum spellings).
pub fn mutate_json(rng: &mut Rng, seed: &[u8], strings: &[&str], donors: &[Vec<u8>]) -> Vec<u8> {
    const JSON_TOKENS: &[&[u8]] = &[
        b"{", b"}", b"[", b"]", b":", b",", b"\"", b"null", b"-", b"e9", b"0", b"\\u0000",
    ];
    if rng.chance(70)
        && let Ok(mut v) = serde_json::from_slice::<Value>(seed)
    {
        for _ in 0..rng.range(1, 3) {
            mutate_value(rng, &mut v, strings);
        }
        let mut out = if rng.chance(50) {
            serde_json::to_vec(&v)
        } else {
            serde_json::to_vec_pretty(&v)
        }
        .unwrap_or_default();
        if rng.chance(15) {
            mutate_bytes(rng, &mut out, JSON_TOKENS, donors);
        }
        return out;
    }
    let mut out = seed.to_vec();
    mutate_bytes(rng, &mut out, JSON_TOKENS, donors);
    out
}

/// Little-endian `f32` bit patterns that break numeric code: NaN, ±inf, the largest finite,
/// subnormal, negative zero.
pub const F32_TOKENS: &[&[u8]] = &[
    &[0x00, 0x00, 0xc0, 0x7f],
    &[0x00, 0x00, 0x80, 0x7f],
    &[0x00, 0x00, 0x80, 0xff],
    &[0xff, 0xff, 0x7f, 0x7f],
    &[0x01, 0x00, 0x00, 0x00],
    &[0x00, 0x00, 0x00, 0x80],
];

/// A mutated copy of the SafeTensors file `seed` (8-byte little-endian header length, JSON
/// header, data): the header mutated as JSON and the file re-assembled with a matching length
/// (half of the cases), or with an edge-value length; the data section's bytes (NaN, inf); or
/// byte-level mutations of the whole file.
pub fn mutate_safetensors(rng: &mut Rng, seed: &[u8], donors: &[Vec<u8>]) -> Vec<u8> {
    const STRINGS: &[&str] = &[
        "F32",
        "F16",
        "BF16",
        "F64",
        "I64",
        "I32",
        "U8",
        "BOOL",
        "dtype",
        "shape",
        "data_offsets",
        "__metadata__",
        "format",
        "pt",
    ];
    let split = (seed.len() >= 8)
        .then(|| u64::from_le_bytes(seed[..8].try_into().unwrap_or([0; 8])) as usize)
        .filter(|&n| n <= seed.len() - 8);
    let Some(n) = split else {
        let mut out = seed.to_vec();
        mutate_bytes(rng, &mut out, F32_TOKENS, donors);
        return out;
    };
    let (header, data) = (&seed[8..8 + n], &seed[8 + n..]);
    match rng.below(20) {
        0..=9 => {
            let h = mutate_json(rng, header, STRINGS, &[]);
            [&(h.len() as u64).to_le_bytes()[..], &h, data].concat()
        }
        10 | 11 => {
            let h = if rng.chance(50) {
                mutate_json(rng, header, STRINGS, &[])
            } else {
                header.to_vec()
            };
            let len: u64 = *rng.pick(&[
                0,
                1,
                (h.len() as u64).saturating_sub(1),
                h.len() as u64 + 1,
                h.len() as u64 + 4,
                (seed.len() - 8) as u64,
                100_000_001,
                u64::MAX,
                1 << 63,
            ]);
            [&len.to_le_bytes()[..], &h, data].concat()
        }
        12..=14 => {
            let mut d = data.to_vec();
            if rng.chance(70) && d.len() >= 4 {
                for _ in 0..rng.range(1, 4) {
                    let at = rng.below(d.len() / 4) * 4;
                    d[at..at + 4].copy_from_slice(F32_TOKENS[rng.below(F32_TOKENS.len())]);
                }
            } else {
                mutate_bytes(rng, &mut d, F32_TOKENS, &[]);
            }
            [&seed[..8 + n], &d[..]].concat()
        }
        _ => {
            let mut out = seed.to_vec();
            mutate_bytes(rng, &mut out, F32_TOKENS, donors);
            out
        }
    }
}

/// CRC-32 (IEEE), as PNG chunks use it.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

/// A mutated copy of the PNG `seed`: usually the data (or length) of one chunk is mutated and its
/// CRC recomputed, IHDR fields get edge values, chunks are dropped or duplicated; sometimes plain
/// byte-level mutations (which mostly stop at a CRC check).
pub fn mutate_png(rng: &mut Rng, seed: &[u8], donors: &[Vec<u8>]) -> Vec<u8> {
    // (type, data) of each chunk after the 8-byte signature.
    let mut chunks: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    let mut i = 8;
    while i + 12 <= seed.len() {
        let n = u32::from_be_bytes([seed[i], seed[i + 1], seed[i + 2], seed[i + 3]]) as usize;
        if i + 12 + n > seed.len() {
            break;
        }
        let ty = [seed[i + 4], seed[i + 5], seed[i + 6], seed[i + 7]];
        chunks.push((ty, seed[i + 8..i + 8 + n].to_vec()));
        i += 12 + n;
    }
    if chunks.is_empty() || rng.chance(15) {
        let mut out = seed.to_vec();
        mutate_bytes(
            rng,
            &mut out,
            &[b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS"],
            donors,
        );
        return out;
    }
    let mut bad_len: Option<usize> = None;
    let mut bad_crc = rng.chance(5);
    for _ in 0..rng.range(1, 3) {
        let c = rng.below(chunks.len());
        match rng.below(10) {
            0..=2 if &chunks[c].0 == b"IHDR" || rng.chance(30) => {
                // IHDR: width, height (u32 BE), bit depth, colour type, compression, filter,
                // interlace.
                let ihdr = chunks.iter_mut().find(|(t, _)| t == b"IHDR");
                if let Some((_, d)) = ihdr
                    && d.len() >= 13
                {
                    let field = rng.below(7);
                    if field < 2 {
                        let v: u32 = *rng.pick(&[
                            0,
                            1,
                            2,
                            3,
                            255,
                            4096,
                            4097,
                            65535,
                            1 << 24,
                            0x7FFF_FFFF,
                            u32::MAX,
                        ]);
                        d[field * 4..field * 4 + 4].copy_from_slice(&v.to_be_bytes());
                    } else {
                        d[6 + field] = *rng.pick(&[0, 1, 2, 3, 4, 6, 7, 8, 16, 255]);
                    }
                }
            }
            3..=6 => {
                let donors: Vec<Vec<u8>> = Vec::new();
                mutate_bytes(rng, &mut chunks[c].1, &[], &donors);
            }
            7 => {
                let chunk = chunks.remove(c);
                if rng.chance(50) {
                    let at = rng.below(chunks.len() + 1);
                    chunks.insert(at, chunk.clone());
                    chunks.insert(at, chunk);
                }
            }
            8 => {
                let ty = *rng.pick(&[*b"PLTE", *b"tRNS", *b"IDAT", *b"IEND", *b"gAMA", *b"sBIT"]);
                let mut data = vec![0u8; *rng.pick(&[0, 1, 3, 6, 12, 256, 769])];
                data.iter_mut().for_each(|b| *b = rng.byte());
                let at = rng.below(chunks.len() + 1);
                chunks.insert(at, (ty, data));
            }
            _ => {
                if rng.chance(50) {
                    bad_len = Some(rng.below(chunks.len().max(1)));
                } else {
                    bad_crc = true;
                }
            }
        }
        if chunks.is_empty() {
            break;
        }
    }
    let mut out = seed[..8].to_vec();
    for (k, (ty, data)) in chunks.iter().enumerate() {
        let mut n = data.len() as u32;
        if bad_len == Some(k) {
            n = *rng.pick(&[
                0,
                n.wrapping_add(1),
                n.wrapping_sub(1),
                0x7FFF_FFFF,
                u32::MAX,
            ]);
        }
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(ty);
        out.extend_from_slice(data);
        let mut crc = crc32(&[ty, data]);
        if bad_crc && rng.chance(50) {
            crc ^= 1;
        }
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

/// A short, printable description of an input for failure reports.
pub trait Preview {
    /// Length and the first bytes, in hex and escaped text.
    fn preview(&self) -> String;
}

/// Hex and escaped-text preview of `bytes` (first 96 bytes).
pub fn hex_preview(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(96)];
    let hex: String = head.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    format!(
        "{} bytes: hex {hex}{} text {:?}",
        bytes.len(),
        if bytes.len() > head.len() { "…" } else { "" },
        String::from_utf8_lossy(head)
    )
}

impl Preview for Vec<u8> {
    fn preview(&self) -> String {
        hex_preview(self)
    }
}

impl Preview for String {
    fn preview(&self) -> String {
        hex_preview(self.as_bytes())
    }
}

impl<S: Display> Preview for (S, Vec<u8>) {
    fn preview(&self) -> String {
        format!("{}: {}", self.0, hex_preview(&self.1))
    }
}

thread_local! {
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Cases running now, in any thread: a panic on an unnamed thread (a library's worker pool, such
/// as the tokenizer's rayon threads) while one runs is part of a case, and is resumed in it.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Keeps panics inside a case quiet (they are collected and reported), with a backtrace of the
/// first frames; panics elsewhere go to the default hook.
fn install_hook() {
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let worker = std::thread::current().name().is_none();
            if IN_CASE.with(Cell::get) || (worker && IN_FLIGHT.load(Ordering::SeqCst) > 0) {
                let bt = std::backtrace::Backtrace::force_capture().to_string();
                let frames: String = bt
                    .lines()
                    .filter(|l| {
                        l.contains("modelgpt") || l.contains("at ./") || l.contains("/src/")
                    })
                    .take(24)
                    .collect::<Vec<_>>()
                    .join("\n");
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{info}\n{frames}")));
            } else {
                default(info);
            }
        }));
    });
}

/// The error's variant path from its `Debug` form (`Core(Parse { .. })` → `Core::Parse`).
fn kind_of(debug: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = debug;
    for _ in 0..3 {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            break;
        }
        rest = &rest[name.len()..];
        parts.push(name);
        if let Some(r) = rest.strip_prefix('(') {
            rest = r;
        } else {
            break;
        }
    }
    parts.join("::")
}

/// What a fuzz run saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases run.
    pub cases: usize,
    /// Cases that returned `Ok`.
    pub ok: usize,
    /// Cases that returned `Err`, by error variant.
    pub errors: BTreeMap<String, usize>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Of which generating the inputs.
    pub generate_seconds: f64,
}

impl Report {
    /// Cases that returned `Err`.
    pub fn err(&self) -> usize {
        self.errors.values().sum()
    }
}

/// Runs `n` cases of test `name`: `generate` makes input `i` from its own [`Rng`] (seeded with
/// [`case_seed`]), `check` parses it (and checks the invariants of an `Ok` value, panicking when
/// one fails). Panics are caught per case; after the run, the test fails listing up to ten
/// distinct panics (case index, seed, message, input preview). Every `Err` must display a
/// non-empty message. `FUZZ_CASE=i` runs only case `i`; `FUZZ_TRACE=1` prints each case before
/// running it (to find the input of an abort, which no `catch_unwind` can catch).
pub fn run<I: Preview, T, E: Display + Debug>(
    name: &str,
    n: usize,
    mut generate: impl FnMut(&mut Rng) -> I,
    mut check: impl FnMut(&I) -> Result<T, E>,
) -> Report {
    install_hook();
    let only: Option<usize> = std::env::var("FUZZ_CASE").ok().and_then(|v| v.parse().ok());
    // An abort (not a panic: e.g. a failed allocation) ends the process before the report;
    // `FUZZ_TRACE=1` names each case first, so the last one named is the culprit.
    let trace = std::env::var_os("FUZZ_TRACE").is_some();
    let t0 = Instant::now();
    let mut report = Report::default();
    let mut failures: Vec<String> = Vec::new();
    let mut seen_sites: Vec<String> = Vec::new();
    let mut n_panics = 0usize;
    for index in 0..n {
        if only.is_some_and(|o| o != index) {
            continue;
        }
        let seed = case_seed(name, index);
        let mut rng = Rng::new(seed);
        let g0 = Instant::now();
        let input = generate(&mut rng);
        report.generate_seconds += g0.elapsed().as_secs_f64();
        if trace {
            eprintln!("fuzz {name}: case {index}: {}", input.preview());
        }
        IN_CASE.with(|c| c.set(true));
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| match check(&input) {
            Ok(_) => None,
            Err(e) => {
                let shown = e.to_string();
                assert!(
                    !shown.trim().is_empty(),
                    "an error displays as empty: {e:?}"
                );
                Some(kind_of(&format!("{e:?}")))
            }
        }));
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        IN_CASE.with(|c| c.set(false));
        report.cases += 1;
        match outcome {
            Ok(None) => report.ok += 1,
            Ok(Some(kind)) => *report.errors.entry(kind).or_default() += 1,
            Err(payload) => {
                n_panics += 1;
                let msg = LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| {
                        payload
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "<non-string panic>".into())
                    });
                // One report per panic site (the first line names the location).
                let site = msg.lines().next().unwrap_or_default().to_string();
                if !seen_sites.contains(&site) && failures.len() < 10 {
                    seen_sites.push(site);
                    failures.push(format!(
                        "case {index} (seed {seed:#018x}; replay with FUZZ_CASE={index}): {msg}\n  input: {}",
                        input.preview()
                    ));
                }
            }
        }
    }
    report.seconds = t0.elapsed().as_secs_f64();
    println!(
        "fuzz {name}: {} cases in {:.2} s ({:.0}/s; generating {:.2} s): ok {}, err {} {:?}, panics {n_panics}",
        report.cases,
        report.seconds,
        report.cases as f64 / report.seconds.max(1e-9),
        report.generate_seconds,
        report.ok,
        report.err(),
        report.errors
    );
    assert!(
        failures.is_empty(),
        "fuzz {name}: {n_panics} of {} cases panicked instead of returning an error:\n\n{}",
        report.cases,
        failures.join("\n\n")
    );
    report
}

/// Asserts that a run was not vacuous: some inputs parsed and some were rejected (skipped when
/// a single case is replayed).
pub fn assert_mixed(report: &Report) {
    if std::env::var("FUZZ_CASE").is_ok() || report.cases < 1000 {
        return;
    }
    assert!(report.ok > 0, "no mutated input parsed: {report:?}");
    assert!(
        report.err() > 0,
        "no mutated input was rejected: {report:?}"
    );
}
