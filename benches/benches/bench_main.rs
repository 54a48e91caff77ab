//! Criterion entry point.
use criterion::criterion_main;

mod benchmarks;

criterion_main!(
    benchmarks::encoder::benches,
    benchmarks::hypernet::benches,
    benchmarks::image::benches,
    benchmarks::targets::benches,
    benchmarks::text::benches
);
