//! Data profiles: what a language model or a template writer is shown of a user's data.

use serde::{Deserialize, Serialize};

use crate::task::TaskSpec;

/// One example record shown to a language model: field/value pairs and the label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// `(field name, value as text)` pairs in column order.
    pub fields: Vec<(String, String)>,
    /// The label's name.
    pub label: String,
}

/// A summary of a labelled data set: the task, its size, class balance and a few records.
///
/// Built by the data sets of [`crate::data`] (`profile` methods) and consumed by prompt builders
/// and offline requirement writers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataProfile {
    /// Modality, feature names and label names.
    pub task: TaskSpec,
    /// Number of labelled rows.
    pub n_rows: usize,
    /// Rows per class, in label order.
    pub class_counts: Vec<usize>,
    /// Example records (every class represented when possible).
    pub records: Vec<SampleRecord>,
    /// A user's description of the task or of the data's origin, if any.
    pub description: Option<String>,
}

impl DataProfile {
    /// A profile with no records.
    pub fn new(task: TaskSpec, n_rows: usize, class_counts: Vec<usize>) -> Self {
        Self {
            task,
            n_rows,
            class_counts,
            records: Vec::new(),
            description: None,
        }
    }

    /// Attaches a description.
    pub fn with_description(mut self, d: impl Into<String>) -> Self {
        let d = d.into();
        self.description = if d.trim().is_empty() { None } else { Some(d) };
        self
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.task.n_classes()
    }
}
