//! Benchmark groups.
pub mod encoder;
pub mod hypernet;
pub mod targets;
pub mod text;
