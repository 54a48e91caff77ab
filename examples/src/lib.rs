//! Shared helpers of the ModelGPT-rs examples.
