//! Benchmark groups.
pub mod encoder;
