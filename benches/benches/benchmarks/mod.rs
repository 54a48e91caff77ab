//! Benchmark groups.
pub mod encoder;
pub mod hypernet;
pub mod image;
pub mod targets;
pub mod text;

use burn::tensor::Device;

/// `"flex"`, `"wgpu"`, ... from the device's debug form (`Device<Flex(Cpu)>`).
pub(crate) fn backend_name(device: &Device) -> String {
    let debug = format!("{device:?}");
    let inner = debug.strip_prefix("Device<").unwrap_or(&debug);
    let name: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    if name.is_empty() {
        "device".into()
    } else {
        name.to_lowercase()
    }
}
