//! Shared helpers of the integration tests.

use burn::tensor::Device;

/// The device every test runs on (flex: tests never depend on which GPU backend is compiled).
pub fn test_device() -> Device {
    Device::flex()
}
