//! IDX files (the MNIST / Fashion-MNIST byte-array format), optionally gzip-compressed: a magic
//! number (`0 0 type ndims`), `ndims` big-endian `u32` dimensions, then the data.

use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::ImageDataset;

use super::read_bytes;
use crate::error::Result;

/// Reads an IDX file of unsigned bytes (type code `0x08`), optionally gzip-compressed: returns its
/// dimensions and data.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("labels-idx1-ubyte");
/// std::fs::write(&path, [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])?;
/// let (dims, data) = modelgpt_datasets::formats::idx::read(&path)?;
/// assert_eq!((dims, data), (vec![3], vec![7, 2, 1]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// I/O errors, [`modelgpt_core::Error::Parse`] (line 1, i.e. the header) for a bad magic number,
/// an unsupported element type or a data length that does not match the dimensions.
pub fn read(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<u8>)> {
    let path = path.as_ref();
    let bytes = read_bytes(path)?;
    let bad = |reason: String| CoreError::parse(path, 1, None, reason);
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()).into());
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "unsupported IDX element type 0x{:02x} (only unsigned bytes)",
            bytes[2]
        ))
        .into());
    }
    let nd = bytes[3] as usize;
    let header = 4 + 4 * nd;
    if bytes.len() < header {
        return Err(bad("truncated IDX header".into()).into());
    }
    let dims: Vec<usize> = (0..nd)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    // Checked: a product that wraps (e.g. `[2^31, 2^31, 4]`) would let an empty data section
    // pass for dimensions it cannot hold.
    let Some(expected) = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) else {
        return Err(bad(format!(
            "IDX dimensions {dims:?} describe more bytes than can be addressed"
        ))
        .into());
    };
    if bytes.len() - header != expected {
        return Err(bad(format!(
            "IDX data has {} bytes, dimensions {dims:?} need {expected}",
            bytes.len() - header
        ))
        .into());
    }
    let mut data = bytes;
    data.drain(..header);
    Ok((dims, data))
}

/// Reads an IDX image file (`[n, h, w]` unsigned bytes, scaled to `[0, 1]`) and its IDX label file
/// (`[n]`), both optionally gzip-compressed, as grayscale images. Labels are named by
/// `label_names` (label `k` = entry `k`).
///
/// # Errors
/// Those of [`read`], [`modelgpt_core::Error::ShapeMismatch`] when the counts differ or a label is
/// out of range.
pub fn read_dataset(
    name: &str,
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    label_names: &[&str],
) -> Result<ImageDataset> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let (dims, data) = read(images)?;
    let (ldims, ldata) = read(labels)?;
    if dims.len() != 3 || ldims.len() != 1 || ldims[0] != dims[0] {
        return Err(CoreError::ShapeMismatch {
            what: format!(
                "IDX images {} and labels {}",
                images.display(),
                labels.display()
            ),
            expected: vec![ldims.first().copied().unwrap_or(0), 0, 0],
            actual: dims,
        }
        .into());
    }
    if let Some(&bad) = ldata.iter().find(|&&l| l as usize >= label_names.len()) {
        return Err(CoreError::ShapeMismatch {
            what: format!("label {bad} in {}", labels.display()),
            expected: vec![label_names.len()],
            actual: vec![bad as usize + 1],
        }
        .into());
    }
    Ok(ImageDataset {
        name: name.to_string(),
        channels: 1,
        height: dims[1],
        width: dims[2],
        pixels: data.into_iter().map(|b| b as f32 / 255.0).collect(),
        targets: ldata.into_iter().map(|l| l as usize).collect(),
        label_names: label_names.iter().map(|s| s.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.idx");
        let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        bytes.extend([0, 255, 128, 64]);
        std::fs::write(&p, &bytes).unwrap();
        let (dims, data) = read(&p).unwrap();
        assert_eq!(dims, [2, 1, 2]);
        assert_eq!(data, [0, 255, 128, 64]);
        std::fs::write(&p, &bytes[..18]).unwrap();
        assert!(matches!(
            read(&p),
            Err(crate::Error::Core(CoreError::Parse { line: 1, .. }))
        ));
    }

    #[test]
    fn images_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        let labels = dir.path().join("labels");
        std::fs::write(
            &images,
            [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 255],
        )
        .unwrap();
        std::fs::write(&labels, [0, 0, 8, 1, 0, 0, 0, 2, 1, 0]).unwrap();
        let ds = read_dataset("toy", &images, &labels, &["zero", "one"]).unwrap();
        assert_eq!((ds.height, ds.width, ds.n_rows()), (1, 1, 2));
        assert_eq!(ds.pixels, [0.0, 1.0]);
        assert_eq!(ds.targets, [1, 0]);
        let err = read_dataset("toy", &images, &labels, &["zero"]).unwrap_err();
        assert!(
            matches!(err, crate::Error::Core(CoreError::ShapeMismatch { .. })),
            "{err:?}"
        );
    }
}
