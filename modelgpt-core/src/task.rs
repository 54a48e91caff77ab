//! Task descriptions: modality, inputs, labels.

use serde::{Deserialize, Serialize};

/// The kind of data a task works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Rows of numeric and categorical columns.
    Tabular,
    /// Free text.
    Text,
    /// Images.
    Image,
}

impl Modality {
    /// Lower-case name (`tabular`, `text`, `image`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Modality::Tabular => "tabular",
            Modality::Text => "text",
            Modality::Image => "image",
        }
    }
}

impl core::fmt::Display for Modality {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a generated model must do: modality, input fields and class labels.
///
/// ```
/// use modelgpt_core::{Modality, TaskSpec};
/// let t = TaskSpec::new("iris", Modality::Tabular)
///     .with_features(["sepal length", "sepal width", "petal length", "petal width"])
///     .with_labels(["setosa", "versicolor", "virginica"]);
/// assert_eq!(t.n_classes(), 3);
/// assert_eq!(t.n_features(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Task name (catalog key or user-given).
    pub name: String,
    /// Data modality.
    pub modality: Modality,
    /// Input feature / field names (tabular: columns; text: fields; image: empty).
    pub features: Vec<String>,
    /// Class label names, in class-index order.
    pub labels: Vec<String>,
}

impl TaskSpec {
    /// A task with no features and no labels yet.
    pub fn new(name: impl Into<String>, modality: Modality) -> Self {
        Self {
            name: name.into(),
            modality,
            features: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Sets the feature names.
    pub fn with_features<S: Into<String>>(mut self, f: impl IntoIterator<Item = S>) -> Self {
        self.features = f.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the label names.
    pub fn with_labels<S: Into<String>>(mut self, l: impl IntoIterator<Item = S>) -> Self {
        self.labels = l.into_iter().map(Into::into).collect();
        self
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.labels.len()
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.features.len()
    }
}
