//! The tabular wing: hypernetworks that write every weight of an MLP for a table, in three
//! designs, their meta-trainer and the [`TabularModelGpt`] facade.
//!
//! - [`general`]: ours, one set of heads for any feature and class count ([`GeneralHyperNet`]).
//! - [`kernel`]: ours, non-linear: random-feature units with a closed-form discriminant head
//!   ([`KernelHyperNet`]).
//! - [`paper`]: the paper's per-task heads, training tasks only ([`PaperHyperNet`]).
//! - [`hypernet`]: either design behind one type ([`HyperNet`], [`HyperNetConfig`]).
//! - [`sample`]: what the general mode reads from the user's rows ([`TaskSample`]).
//! - [`select`]: which member of the MLP family to generate ([`ArchSelector`]).
//! - [`tasks`]: catalog tasks prepared for meta-training ([`PreparedTask`]).
//! - [`meta`]: meta-training ([`MetaTrainer`], paper Algorithm 1 and end-to-end).
//! - [`facade`]: [`TabularModelGpt`] and [`TailoredTabularModel`].

pub mod facade;
pub mod general;
pub mod hypernet;
pub mod kernel;
pub mod meta;
pub mod paper;
pub mod sample;
pub mod select;
pub mod tasks;

pub use facade::{
    MAX_CLASSES, MAX_FEATURES, MAX_SAMPLE_ROWS, TabularModelGpt, TabularModelGptBuilder,
    TailoredTabularModel,
};
pub use general::{GeneralHyperNet, GeneralHyperNetConfig, MlpTensors, TaskContext};
pub use hypernet::{HyperMode, HyperNet, HyperNetConfig, to_params};
pub use kernel::{KernelHyperNet, KernelHyperNetConfig};
pub use meta::{
    EpochReport, EpochTasks, MetaRule, MetaTrainConfig, MetaTrainReport, MetaTrainer,
    evaluate_generated, evaluate_generated_from,
};
pub use paper::{PaperHyperNet, PaperHyperNetConfig, PaperTask};
pub use sample::{N_CLASS_STATS, N_FEATURE_STATS, TaskSample};
pub use select::{
    ArchConstraints, ArchSelector, ArchSelectorConfig, ArchitectureChoice, Ranked, SelectorExample,
    SelectorQuality, SelectorTrainConfig, SelectorTrainReport, TaskMeta, generation_cost,
    select_architecture, selector_quality, spearman, train_selector,
};
pub use tasks::{
    MAX_NAME_CHARS, PreparedTask, SplitData, TaskView, build_context, class_text, feature_text,
};
