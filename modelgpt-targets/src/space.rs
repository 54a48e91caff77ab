//! Architecture spaces: the members of a target family a hypernetwork may choose between, declared
//! as data next to the family, each with a parameter count and a cost.
//!
//! [`MlpSpace`] is the MLP family's: hidden depth (0 = a linear model) × hidden width, every
//! hidden layer of one member the same width. [`MlpArchitecture`] is one member; with the
//! feature and class counts of a task it gives its [`MlpSpec`], its parameter count and its
//! multiply–adds per predicted row.
//!
//! ```
//! use modelgpt_targets::space::{MlpArchitecture, MlpSpace};
//!
//! let space = MlpSpace::default();
//! assert_eq!(space.candidates().len(), 1 + 3 * 7);
//! let arch = MlpArchitecture::new(2, 64);
//! assert_eq!(arch.name(), "mlp-2x64");
//! assert_eq!(arch.n_params(10, 3), 10 * 64 + 64 + 64 * 64 + 64 + 64 * 3 + 3);
//! assert_eq!("mlp-2x64".parse::<MlpArchitecture>().unwrap(), arch);
//! assert_eq!(MlpArchitecture::linear().n_params(10, 3), 33);
//! // The members of at most 1,000 parameters for 10 features and 3 classes:
//! let small = space.within_budget(10, 3, 1_000);
//! assert!(small.iter().all(|a| a.n_params(10, 3) <= 1_000));
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mlp::{MlpActivation, MlpSpec};

/// Most hidden layers a member of an [`MlpSpace`] may have.
pub const MAX_SPACE_DEPTH: usize = 8;
/// Widest hidden layer a member of an [`MlpSpace`] may have.
pub const MAX_SPACE_WIDTH: usize = 4096;

/// One member of the MLP family: `depth` hidden layers of `width` units (`depth` 0: a linear
/// model, `width` is then 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MlpArchitecture {
    /// Number of hidden layers (0: multinomial logistic / linear discriminant).
    pub depth: usize,
    /// Units of every hidden layer (0 when `depth` is 0).
    pub width: usize,
}

impl MlpArchitecture {
    /// `depth` hidden layers of `width` units (`depth` 0 ignores `width`).
    pub fn new(depth: usize, width: usize) -> Self {
        if depth == 0 {
            Self::linear()
        } else {
            Self { depth, width }
        }
    }

    /// The linear member (no hidden layer).
    pub fn linear() -> Self {
        Self { depth: 0, width: 0 }
    }

    /// Widths of the hidden layers.
    pub fn hidden(&self) -> Vec<usize> {
        vec![self.width; self.depth]
    }

    /// The [`MlpSpec`] of this member for `d_input` features and `n_classes` classes.
    pub fn spec(&self, d_input: usize, n_classes: usize, activation: MlpActivation) -> MlpSpec {
        MlpSpec::new(d_input, n_classes)
            .with_hidden(self.hidden())
            .with_activation(activation)
    }

    /// Number of parameters (weights and biases) for `d_input` features and `n_classes` classes.
    pub fn n_params(&self, d_input: usize, n_classes: usize) -> usize {
        let mut dims = vec![d_input];
        dims.extend(self.hidden());
        dims.push(n_classes);
        dims.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Multiply–adds per predicted row (the weights' count; the cost of one prediction).
    pub fn flops_per_row(&self, d_input: usize, n_classes: usize) -> usize {
        let mut dims = vec![d_input];
        dims.extend(self.hidden());
        dims.push(n_classes);
        dims.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// `linear` or `mlp-{depth}x{width}`; [`FromStr`] reads it back.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for MlpArchitecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.depth == 0 {
            write!(f, "linear")
        } else {
            write!(f, "mlp-{}x{}", self.depth, self.width)
        }
    }
}

impl FromStr for MlpArchitecture {
    type Err = Error;

    /// Reads `linear` or `mlp-{depth}x{width}` (e.g. `mlp-2x64`).
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidConfig {
            field: "architecture",
            reason: format!("`{s}` is not `linear` or `mlp-DEPTHxWIDTH` (e.g. `mlp-1x256`)"),
        };
        let s = s.trim();
        if s == "linear" {
            return Ok(Self::linear());
        }
        let rest = s.strip_prefix("mlp-").ok_or_else(bad)?;
        let (depth, width) = rest.split_once('x').ok_or_else(bad)?;
        let depth: usize = depth.parse().map_err(|_| bad())?;
        let width: usize = width.parse().map_err(|_| bad())?;
        if depth == 0 || width == 0 {
            return Err(bad());
        }
        Ok(Self { depth, width })
    }
}

/// The MLP family's architecture space: the linear member (when depth 0 is listed) and every
/// `depth × width` combination of the listed values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpSpace {
    /// Hidden depths (0 = linear).
    pub depths: Vec<usize>,
    /// Hidden widths (every depth ≥ 1 gets each of them).
    pub widths: Vec<usize>,
}

impl Default for MlpSpace {
    /// Depth 0–3 × width 16, 32, 64, 128, 256, 512, 1,024 (22 members).
    fn default() -> Self {
        Self {
            depths: vec![0, 1, 2, 3],
            widths: vec![16, 32, 64, 128, 256, 512, 1024],
        }
    }
}

impl MlpSpace {
    /// Checks the space is non-empty and within [`MAX_SPACE_DEPTH`] / [`MAX_SPACE_WIDTH`], with
    /// even widths of at least 2 (kernel-mode generators write hidden units in mirrored pairs).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: String| Err(Error::InvalidConfig { field, reason });
        if self.depths.is_empty() {
            return bad("depths", "the architecture space lists no depth".into());
        }
        if let Some(d) = self.depths.iter().find(|&&d| d > MAX_SPACE_DEPTH) {
            return bad(
                "depths",
                format!("depth {d} is above the limit of {MAX_SPACE_DEPTH}"),
            );
        }
        if self.depths.iter().any(|&d| d > 0) {
            if self.widths.is_empty() {
                return bad("widths", "hidden depths are listed but no width".into());
            }
            if let Some(w) = self
                .widths
                .iter()
                .find(|&&w| w < 2 || w % 2 == 1 || w > MAX_SPACE_WIDTH)
            {
                return bad(
                    "widths",
                    format!("width {w} must be even and in 2..={MAX_SPACE_WIDTH}"),
                );
            }
        }
        Ok(())
    }

    /// Every member, smallest depth first, then by width (duplicates removed).
    pub fn candidates(&self) -> Vec<MlpArchitecture> {
        let mut out = Vec::new();
        let mut depths = self.depths.clone();
        depths.sort_unstable();
        depths.dedup();
        let mut widths = self.widths.clone();
        widths.sort_unstable();
        widths.dedup();
        for d in depths {
            if d == 0 {
                out.push(MlpArchitecture::linear());
            } else {
                out.extend(widths.iter().map(|&w| MlpArchitecture::new(d, w)));
            }
        }
        out
    }

    /// Whether `arch` is a member.
    pub fn contains(&self, arch: &MlpArchitecture) -> bool {
        self.candidates().contains(arch)
    }

    /// The members of at most `max_params` parameters for `d_input` features and `n_classes`
    /// classes (possibly none).
    pub fn within_budget(
        &self,
        d_input: usize,
        n_classes: usize,
        max_params: usize,
    ) -> Vec<MlpArchitecture> {
        self.candidates()
            .into_iter()
            .filter(|a| a.n_params(d_input, n_classes) <= max_params)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_match_the_spec() {
        for arch in MlpSpace::default().candidates() {
            let spec = arch.spec(7, 4, MlpActivation::Relu);
            assert_eq!(arch.n_params(7, 4), spec.param_spec().numel(), "{arch}");
        }
    }

    #[test]
    fn names_round_trip() {
        for arch in MlpSpace::default().candidates() {
            assert_eq!(arch.name().parse::<MlpArchitecture>().unwrap(), arch);
        }
        for bad in ["", "mlp", "mlp-0x8", "mlp-2x", "mlp-ax3", "cnn-1x2"] {
            assert!(bad.parse::<MlpArchitecture>().is_err(), "{bad}");
        }
    }

    #[test]
    fn invalid_spaces_are_refused() {
        let empty = MlpSpace {
            depths: vec![],
            widths: vec![8],
        };
        assert!(empty.validate().is_err());
        let odd = MlpSpace {
            depths: vec![1],
            widths: vec![7],
        };
        assert!(odd.validate().unwrap_err().to_string().contains("width 7"));
        let linear_only = MlpSpace {
            depths: vec![0],
            widths: vec![],
        };
        assert!(linear_only.validate().is_ok());
        assert_eq!(linear_only.candidates(), vec![MlpArchitecture::linear()]);
        assert!(MlpSpace::default().validate().is_ok());
    }
}
