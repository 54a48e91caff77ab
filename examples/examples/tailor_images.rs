//! Tailor a CNN to your own labelled images in one hypernetwork forward pass.
//!
//! ```text
//! cargo run --release --example tailor_images -- --images DIR [--test-images DIR]
//!     [--description TEXT] [--out DIR] [--json]
//! cargo run --release --example tailor_images -- --model DIR --images DIR
//! ```
//!
//! `--images DIR` holds one sub-folder of PNG images per class (the sub-folder names are the
//! labels; grey or colour, 8 or 16 bit, palette and alpha handled, alpha dropped; every image the
//! size of the first; a colour image makes the whole set RGB). With `--model DIR`, `--images DIR`
//! is a folder of PNG files (sub-folders are read too) and one `path,label` line is printed per
//! image; images of another size are resized bilinearly to the model's.
//!
//! The requirement sentence comes from the Requirement Generator (`modelgpt-llm`): the offline
//! template writer, or an OpenAI-compatible endpoint with `--endpoint URL --llm-model NAME`
//! (which receives the images' text profile; the images themselves are not attached yet).
//! The generator is the untrained image hypernetwork
//! ([`modelgpt_hypernet::image::ImageModelGpt::untrained`]): no meta-trained image checkpoint is
//! shipped yet, and nothing is trained here.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;
use modelgpt_core::TailoredModel;
use modelgpt_core::data::ImageDataset;
use modelgpt_datasets::image::resize;
use modelgpt_examples::{device, load_encoder, requirement_generator};
use modelgpt_hypernet::image::{ImageModelGpt, TailoredImageModel};
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Generate a CNN for a folder of labelled images, or predict with a saved one")]
struct Args {
    /// Folder with one sub-folder of PNG images per class (or images to label with --model).
    #[arg(long)]
    images: PathBuf,
    /// Labelled test folder (same layout): report accuracy on it.
    #[arg(long)]
    test_images: Option<PathBuf>,
    /// What the images show (helps the requirement).
    #[arg(long)]
    description: Option<String>,
    /// Save the model to this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Predict with a saved model instead of generating one.
    #[arg(long, conflicts_with_all = ["test_images", "out", "description"])]
    model: Option<PathBuf>,
    /// OpenAI-compatible endpoint for the requirement (e.g. http://127.0.0.1:8080/v1).
    #[arg(long)]
    endpoint: Option<String>,
    /// Model name at the endpoint.
    #[arg(long, requires = "endpoint")]
    llm_model: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Every PNG under `dir` (recursively), sorted.
fn png_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("png"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `images` at the model's size.
fn fit_to(model: &TailoredImageModel, images: ImageDataset) -> Result<ImageDataset> {
    let s = model.cnn().spec();
    if images.channels != s.in_channels {
        bail!(
            "the model reads {}-channel images, these have {} channels",
            s.in_channels,
            images.channels
        );
    }
    Ok(if (images.height, images.width) != (s.height, s.width) {
        resize(&images, s.height, s.width)
    } else {
        images
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = device();

    if let Some(dir) = &args.model {
        let model = TailoredImageModel::load(dir, &device)
            .with_context(|| format!("loading model from {}", dir.display()))?;
        let files = png_files(&args.images)?;
        let images = ImageDataset::from_files("images", &files)?;
        let labels = model.predict_labels(&fit_to(&model, images)?)?;
        for (path, label) in files.iter().zip(labels) {
            println!("{},{label}", path.display());
        }
        return Ok(());
    }

    let mut data = ImageDataset::from_folder(&args.images)
        .with_context(|| format!("reading {}", args.images.display()))?;
    // The requirement names the task after the folder; a generic folder name says nothing.
    if ["train", "training", "images", "data", "test", "."].contains(&data.name.as_str()) {
        data.name = "image".into();
    }
    let mut profile = data.profile(16, 0);
    if let Some(d) = &args.description {
        profile = profile.with_description(d.clone());
    }
    let generator = requirement_generator(args.endpoint.as_deref(), args.llm_model.as_deref())?;
    let requirement = generator.generate(&profile)?.requirement;

    let encoder = load_encoder(&device)?;
    let mgpt = ImageModelGpt::untrained(Box::new(encoder), &device);
    let model = mgpt.tailor(&data, requirement.as_str())?;
    let timing = model.timing();
    let test_accuracy = match &args.test_images {
        Some(dir) => {
            let test = ImageDataset::from_folder(dir)
                .with_context(|| format!("reading {}", dir.display()))?;
            if test.label_names != data.label_names {
                bail!(
                    "{}: class folders {:?} differ from the training folders {:?}",
                    dir.display(),
                    test.label_names,
                    data.label_names
                );
            }
            let pred = model.predict(&fit_to(&model, test.clone())?)?;
            let hits = pred
                .iter()
                .zip(&test.targets)
                .filter(|(p, t)| p == t)
                .count();
            Some(hits as f64 / pred.len().max(1) as f64)
        }
        None => None,
    };
    if let Some(dir) = &args.out {
        model
            .save(dir)
            .with_context(|| format!("saving to {}", dir.display()))?;
    }
    if args.json {
        println!(
            "{}",
            json!({
                "requirement": requirement.as_str(),
                "n_classes": data.n_classes(),
                "labels": data.label_names,
                "generation_ms": timing.total_ms(),
                "test_accuracy": test_accuracy,
            })
        );
    } else {
        println!("requirement: {requirement}");
        println!(
            "generated a CNN ({} parameters) for {} images of {} × {} × {}, {} classes, in {:.1} ms \
             (prepare {:.1}, encode {:.1}, hypernetwork {:.1}; {} images read)",
            model.n_generated_params(),
            data.n_rows(),
            data.channels,
            data.height,
            data.width,
            data.n_classes(),
            timing.total_ms(),
            timing.prepare_ms,
            timing.encode_ms,
            timing.hypernet_ms,
            timing.n_sample
        );
        if let Some(a) = test_accuracy {
            println!("test accuracy: {a:.3}");
        }
        if let Some(dir) = &args.out {
            println!("saved to {}", dir.display());
        }
    }
    Ok(())
}
