//! Requirement encoder throughput (filled in with the encoder).
use criterion::{Criterion, criterion_group};

fn encoder(_c: &mut Criterion) {}

criterion_group!(benches, encoder);
