//! Property tests of the answer parsers ([`reduce`], [`Expectations::accept`],
//! [`parse_parallel`]) on mutated model answers: never a panic, every rejection a typed
//! [`Error::InvalidAnswer`] with a message, and every accepted sentence passes the checks again.
//! 100,000 inputs per parser (`FUZZ_CASES` overrides); see `modelgpt-core/tests/fuzz/mod.rs` for
//! the mutation engine.

#[path = "../../modelgpt-core/tests/fuzz/mod.rs"]
mod fuzz;

use fuzz::{Rng, mutate_bytes};
use modelgpt_llm::{Error, Expectations, parse_parallel, reduce};

/// Answers in the shapes small models give: prefaces, markdown, quotes, numbering, code fences.
const SEEDS: &[&str] = &[
    "This is a 3-class tabular classification task.",
    "Sure! Here is the requirement:\n\n**Requirement:** \"This is a 2-class text classification task.\"\n\nIt is useful.",
    "```\nRequirement: Classify irises into three species, e.g. setosa. More text.\n```",
    "# Requirement\n> “A binary classification task of 0.5 mm parts.”",
    "- Predict one of ten digits from 28x28 images! Then stop?",
    "Answer: detect spam (two classes) vs. ham, i.e. a binary task.",
    "The requirement is: 'Categorise news into twenty topics'",
    "final answer: regression? no, classification of 7 kinds.",
    "Here you go:\n1. Identify the sentiment of a review (positive or negative).",
    "",
    "   \n\n  ",
    "İstanbul ẞtraße: classify 3 classes. Ünïcödé!",
];

const PARALLEL_SEEDS: &[&str] = &[
    "2\n1. A 3-class tabular classification of iris species.\nBatch 2: Classify irises into three species.",
    "3\n- Classify wines into 3 cultivars.\n- Predict the cultivar (three classes).\n(3) A 3-class classification task.",
    "Batches: 1\nBatch 1: This is a binary classification task.",
    "```\n2\n1) Detect fraud, two classes.\n2) Predict fraud: binary.\n```",
    "0",
    "1\n",
];

/// Tokens an answer parser cares about: sentence ends, abbreviations, numbering, markdown, and
/// text whose lower-case form has another byte length.
const ANSWER_TOKENS: &[&[u8]] = &[
    b".",
    b"!",
    b"?",
    b". ",
    b"e.g.",
    b"i.e.",
    b"etc.",
    b"Batch ",
    b"batch",
    b"1.",
    b"(2)",
    b"3)",
    b"**",
    b"__",
    b"`",
    b"```",
    b"# ",
    b"> ",
    b"- ",
    b"\xe2\x80\xa2 ",
    b"Requirement:",
    b"requirements:",
    b"Final answer:",
    b"\xe2\x80\x9c",
    b"\xe2\x80\x9d",
    b"\xc2\xab",
    b"\xc4\xb0",
    b"\xe1\xba\x9e",
    b"\xe2\x84\xaa",
    b"\xc8\xba",
    b"class",
    b"classes",
    b"classification",
    b"binary",
    b"three",
    b"twenty",
    b"3-class",
    b" X",
];

fn answer(rng: &mut Rng, seeds: &[&str]) -> String {
    let donors: Vec<Vec<u8>> = seeds.iter().map(|s| s.as_bytes().to_vec()).collect();
    let mut bytes = rng.pick(seeds).as_bytes().to_vec();
    mutate_bytes(rng, &mut bytes, ANSWER_TOKENS, &donors);
    String::from_utf8_lossy(&bytes).into_owned()
}

fn expectations(rng: &mut Rng) -> Expectations {
    let mut e = Expectations::new().with_n_classes(*rng.pick(&[0, 1, 2, 3, 7, 10, 20, 21, 100]));
    if rng.chance(20) {
        e.max_chars = *rng.pick(&[1, 10, 50, 600, 5000]);
    }
    e
}

fn is_invalid_answer(e: &Error) -> bool {
    matches!(e, Error::InvalidAnswer { .. })
}

#[test]
fn valid_answers_are_accepted() {
    let e = Expectations::new().with_n_classes(3);
    assert_eq!(
        e.accept(SEEDS[0]).unwrap(),
        "This is a 3-class tabular classification task."
    );
    let e2 = Expectations::new().with_n_classes(2);
    assert_eq!(
        e2.accept(SEEDS[1]).unwrap(),
        "This is a 2-class text classification task."
    );
    let lines = parse_parallel(PARALLEL_SEEDS[0], 2, &e).unwrap();
    assert_eq!(lines[1], "Classify irises into three species.");
    assert_eq!(parse_parallel(PARALLEL_SEEDS[1], 3, &e).unwrap().len(), 3);
}

/// [`reduce`] and [`Expectations::accept`] on 100,000 mutated answers.
#[test]
fn fuzz_reduce_and_accept() {
    let report = fuzz::run(
        "llm_accept",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| (rng.next_u64(), answer(rng, SEEDS).into_bytes()),
        |(salt, bytes)| {
            let raw = std::str::from_utf8(bytes).expect("lossy conversion gives UTF-8");
            let reduced = reduce(raw);
            assert!(
                reduced.is_empty() || reduced.ends_with(['.', '!', '?']),
                "reduce gave {reduced:?}"
            );
            let e = expectations(&mut Rng::new(*salt));
            match e.accept(raw) {
                Ok(sentence) => {
                    assert_eq!(sentence, reduced, "accept returns the reduced sentence");
                    assert!(e.check(&sentence).is_ok(), "accepted but fails check");
                    Ok(())
                }
                Err(err) => {
                    assert!(is_invalid_answer(&err), "untyped rejection {err:?}");
                    Err(err)
                }
            }
        },
    );
    fuzz::assert_mixed(&report);
}

/// [`parse_parallel`] on 100,000 mutated answers of the parallel prompt.
#[test]
fn fuzz_parse_parallel() {
    let report = fuzz::run(
        "llm_parallel",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| (rng.next_u64(), answer(rng, PARALLEL_SEEDS).into_bytes()),
        |(salt, bytes)| {
            let raw = std::str::from_utf8(bytes).expect("lossy conversion gives UTF-8");
            let mut rng = Rng::new(*salt);
            let expected = *rng.pick(&[0, 1, 2, 3, 4, usize::MAX]);
            let e = expectations(&mut rng);
            match parse_parallel(raw, expected, &e) {
                Ok(lines) => {
                    assert_eq!(lines.len(), expected);
                    for l in &lines {
                        assert!(e.check(l).is_ok(), "accepted line {l:?} fails check");
                    }
                    Ok(())
                }
                Err(err) => {
                    assert!(is_invalid_answer(&err), "untyped rejection {err:?}");
                    Err(err)
                }
            }
        },
    );
    fuzz::assert_mixed(&report);
}
