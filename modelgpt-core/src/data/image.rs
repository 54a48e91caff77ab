//! Image data sets: PNG folders (one sub-folder per class).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

    /// Loads a folder with one sub-folder per class (sorted names = labels), each holding `.png`
    /// files (grayscale or RGB, 8 or 16 bit, palette and alpha handled; alpha dropped). All images
    /// must have the same size; if any is colour, grayscale images are replicated to RGB.
    ///
    /// # Errors
    /// I/O errors, [`Error::Image`] naming a corrupt file, [`Error::ShapeMismatch`] naming the
    /// first image whose size differs from the first one's, [`Error::EmptyData`] when no image is
    /// found, [`Error::InvalidData`] for fewer than two classes, [`Error::LimitExceeded`] naming an
    /// image above [`Limits::max_image_pixels`](crate::Limits::max_image_pixels) (checked from its
    /// header, before any pixel is decoded).
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
                push_decoded(&mut decoded, f)?;
                targets.push(label);
            }
        }
        if decoded.is_empty() {
            return Err(Error::EmptyData {
                path: dir.to_path_buf(),
                reason: "no PNG image in any class sub-folder".into(),
            });
        }
        if label_names.len() < 2 {
            return Err(Error::InvalidData {
                what: dir.display().to_string(),
                reason: format!(
                    "{} class folder(s) with images; classification needs at least two",
                    label_names.len()
                ),
            });
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "images".into());
        Ok(assemble(name, &decoded, targets, label_names))
    }

    /// Reads unlabelled PNG files (for prediction): the images in `paths` order, converted as
    /// [`ImageDataset::from_folder`] converts them, every target 0 and no label names.
    ///
    /// # Errors
    /// As [`ImageDataset::from_folder`]; [`Error::EmptyData`] for no paths.
    pub fn from_files(name: &str, paths: &[PathBuf]) -> Result<Self> {
        let mut decoded: Vec<(PathBuf, Decoded)> = Vec::with_capacity(paths.len());
        for f in paths {
            push_decoded(&mut decoded, f.clone())?;
        }
        if decoded.is_empty() {
            return Err(Error::EmptyData {
                path: PathBuf::from(name),
                reason: "no PNG image".into(),
            });
        }
        let targets = vec![0; decoded.len()];
        Ok(assemble(name.to_string(), &decoded, targets, Vec::new()))
    }
}

/// Decodes the PNG `f` and appends it to `decoded`.
///
/// # Errors
/// As [`decode_png`]; [`Error::ShapeMismatch`] naming `f` when its size is not the first
/// image's.
fn push_decoded(decoded: &mut Vec<(PathBuf, Decoded)>, f: PathBuf) -> Result<()> {
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
    Ok(())
}

/// Pixels in `[0, 1]`, `[n, channels, height, width]`: colour when any image is colour (grey
/// images replicated), else grey; alpha dropped. Every image has the first one's size.
fn assemble(
    name: String,
    decoded: &[(PathBuf, Decoded)],
    targets: Vec<usize>,
    label_names: Vec<String>,
) -> ImageDataset {
    let first = &decoded[0].1;
    let (height, width) = (first.height, first.width);
    let channels = if decoded.iter().any(|(_, d)| d.channels >= 3) {
        3
    } else {
        1
    };
    let mut pixels = Vec::with_capacity(decoded.len() * channels * height * width);
    for (_, d) in decoded {
        for c in 0..channels {
            let src = c.min(d.channels.min(3) - 1);
            for i in 0..height * width {
                pixels.push(d.pixels[i * d.channels + src] as f32 / 255.0);
            }
        }
    }
    ImageDataset {
        name,
        channels,
        height,
        width,
        pixels,
        targets,
        label_names,
    }
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
    // png 0.18 does not check the PLTE length and panics while expanding a palette that is not
    // whole RGB triples or has more than 256 entries.
    if let Some(palette) = reader.info().palette.as_deref()
        && (!palette.len().is_multiple_of(3) || palette.len() > 3 * 256)
    {
        return Err(Error::InvalidData {
            what: path.display().to_string(),
            reason: format!(
                "corrupt PNG palette of {} bytes (must be whole RGB entries, at most 256)",
                palette.len()
            ),
        });
    }
    let (w, h) = (reader.info().width, reader.info().height);
    let pixels = u64::from(w) * u64::from(h);
    let limit = crate::limits::Limits::DEFAULT.max_image_pixels;
    if pixels > limit {
        return Err(Error::LimitExceeded {
            path: path.to_path_buf(),
            line: None,
            column: None,
            what: format!("the pixel count of a {w} x {h} image"),
            found: pixels,
            limit,
            limit_name: "max_image_pixels",
        });
    }
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
