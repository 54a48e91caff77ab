//! Names: feature names from small domain vocabularies, categorical level sets, target and
//! label names. All distinct within a task.

use std::collections::HashSet;

use super::rng::TaskRng;

/// A theme for a task's column names and target.
struct Domain {
    /// Numeric measurement names.
    features: &'static [&'static str],
    /// What the task predicts.
    targets: &'static [&'static str],
    /// Stem of numbered extra names (`sensor 12`) once the words run out.
    stem: &'static str,
}

const DOMAINS: &[Domain] = &[
    Domain {
        features: &[
            "age",
            "weight",
            "height",
            "bmi",
            "blood pressure",
            "heart rate",
            "cholesterol",
            "glucose",
            "insulin",
            "hemoglobin",
            "white cell count",
            "platelets",
            "creatinine",
            "sodium",
            "potassium",
            "body temperature",
            "oxygen saturation",
            "tumor size",
            "cell density",
            "bone density",
            "respiratory rate",
            "serum albumin",
            "days in hospital",
            "number of visits",
        ],
        targets: &[
            "diagnosis",
            "outcome",
            "risk group",
            "severity",
            "condition",
        ],
        stem: "lab test",
    },
    Domain {
        features: &[
            "income",
            "balance",
            "credit score",
            "loan amount",
            "debt ratio",
            "savings",
            "monthly spend",
            "account age",
            "transactions",
            "late payments",
            "interest rate",
            "tenure",
            "credit limit",
            "number of cards",
            "years employed",
            "household size",
            "property value",
            "overdraft days",
            "investment return",
            "insurance premium",
        ],
        targets: &[
            "credit risk",
            "decision",
            "customer segment",
            "default status",
            "churn",
        ],
        stem: "indicator",
    },
    Domain {
        features: &[
            "pressure",
            "temperature",
            "vibration",
            "humidity",
            "voltage",
            "current",
            "rpm",
            "torque",
            "flow rate",
            "load",
            "power",
            "frequency",
            "noise level",
            "tool wear",
            "oil quality",
            "cycle time",
            "coolant level",
            "motor hours",
            "spindle speed",
            "feed rate",
            "input gas",
            "output gas",
        ],
        targets: &[
            "machine state",
            "fault type",
            "quality grade",
            "failure mode",
            "status",
        ],
        stem: "sensor",
    },
    Domain {
        features: &[
            "rainfall",
            "wind speed",
            "elevation",
            "soil ph",
            "nitrogen",
            "phosphorus",
            "slope",
            "canopy cover",
            "sunlight hours",
            "distance to water",
            "air temperature",
            "soil moisture",
            "leaf area",
            "stem length",
            "petal width",
            "petal length",
            "wing span",
            "body mass",
            "population density",
            "altitude",
        ],
        targets: &["species", "land cover", "habitat", "plant type", "zone"],
        stem: "measurement",
    },
    Domain {
        features: &[
            "visits",
            "session length",
            "page views",
            "clicks",
            "bounce rate",
            "days since purchase",
            "basket size",
            "discount",
            "rating",
            "reviews",
            "cart value",
            "items viewed",
            "time on site",
            "emails opened",
            "support tickets",
            "returns",
            "loyalty points",
            "ad impressions",
            "conversion rate",
            "subscriptions",
        ],
        targets: &[
            "segment",
            "response",
            "purchase intent",
            "plan",
            "engagement level",
        ],
        stem: "metric",
    },
    Domain {
        features: &[
            "length",
            "width",
            "depth",
            "area",
            "perimeter",
            "density",
            "hardness",
            "thickness",
            "roughness",
            "brightness",
            "contrast",
            "compactness",
            "concavity",
            "symmetry",
            "radius",
            "texture",
            "smoothness",
            "elongation",
            "gloss",
            "opacity",
        ],
        targets: &["class", "category", "type", "grade", "kind"],
        stem: "feature",
    },
];

/// A categorical column theme: its name and at least eight levels (bins get distinct names).
pub(super) struct LevelSet {
    /// Column name.
    pub name: &'static str,
    /// Level names.
    pub levels: &'static [&'static str],
}

pub(super) const LEVEL_SETS: &[LevelSet] = &[
    LevelSet {
        name: "color",
        levels: &[
            "red", "green", "blue", "yellow", "black", "white", "orange", "purple",
        ],
    },
    LevelSet {
        name: "region",
        levels: &[
            "north", "south", "east", "west", "central", "coastal", "highland", "island",
        ],
    },
    LevelSet {
        name: "size",
        levels: &["xs", "s", "m", "l", "xl", "xxl", "3xl", "4xl"],
    },
    LevelSet {
        name: "grade",
        levels: &["A", "B", "C", "D", "E", "F", "G", "H"],
    },
    LevelSet {
        name: "material",
        levels: &[
            "wood", "steel", "plastic", "glass", "paper", "rubber", "copper", "stone",
        ],
    },
    LevelSet {
        name: "shift",
        levels: &[
            "dawn",
            "morning",
            "noon",
            "afternoon",
            "evening",
            "dusk",
            "night",
            "midnight",
        ],
    },
    LevelSet {
        name: "education",
        levels: &[
            "none",
            "primary",
            "secondary",
            "vocational",
            "bachelor",
            "master",
            "doctorate",
            "other",
        ],
    },
    LevelSet {
        name: "status",
        levels: &[
            "active",
            "inactive",
            "pending",
            "closed",
            "suspended",
            "new",
            "archived",
            "unknown",
        ],
    },
    LevelSet {
        name: "type",
        levels: &[
            "type a", "type b", "type c", "type d", "type e", "type f", "type g", "type h",
        ],
    },
    LevelSet {
        name: "brand",
        levels: &[
            "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka",
        ],
    },
    LevelSet {
        name: "channel",
        levels: &[
            "web", "phone", "store", "mail", "partner", "app", "kiosk", "agent",
        ],
    },
    LevelSet {
        name: "site",
        levels: &[
            "site 1", "site 2", "site 3", "site 4", "site 5", "site 6", "site 7", "site 8",
        ],
    },
];

/// Most levels a categorical column can have.
pub(super) const MAX_LEVELS: usize = 8;

/// Picks a level set (all have [`MAX_LEVELS`] levels).
pub(super) fn level_set(rng: &mut TaskRng) -> &'static LevelSet {
    rng.choose(LEVEL_SETS)
}

/// Names for a task's columns (`categorical[i]` is the level-set name of a categorical column,
/// `None` for a numeric one), all distinct, and the index of the domain used.
///
/// 15 % of tasks have anonymous names (`x1`, `V7`, `feature 3`, ...); the others take the words
/// of one domain in random order, then words of the other domains, then numbered names (`sensor
/// 12`). Categorical columns are named after their level set (`color`, then `color 2`, ...).
pub(super) fn feature_names(
    rng: &mut TaskRng,
    categorical: &[Option<&'static str>],
) -> (Vec<String>, usize) {
    let domain = rng.below(DOMAINS.len());
    let mut used: HashSet<String> = HashSet::with_capacity(categorical.len());
    if rng.bool(0.15) {
        let pattern = *rng.choose(&["x", "f", "V", "feature ", "var", "attr "]);
        let names = (1..=categorical.len())
            .map(|i| format!("{pattern}{i}"))
            .collect();
        return (names, domain);
    }
    let mut words: Vec<&str> = DOMAINS[domain].features.to_vec();
    rng.shuffle(&mut words);
    let mut others: Vec<&str> = DOMAINS
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != domain)
        .flat_map(|(_, d)| d.features.iter().copied())
        .collect();
    rng.shuffle(&mut others);
    words.extend(others);
    let stem = DOMAINS[domain].stem;
    let mut next_word = 0;
    let mut next_number = 1;
    let mut names = Vec::with_capacity(categorical.len());
    for cat in categorical {
        let name = match cat {
            Some(set) => {
                let mut j = 1;
                loop {
                    let candidate = if j == 1 {
                        (*set).to_string()
                    } else {
                        format!("{set} {j}")
                    };
                    if !used.contains(&candidate) {
                        break candidate;
                    }
                    j += 1;
                }
            }
            None => loop {
                let candidate = if next_word < words.len() {
                    next_word += 1;
                    words[next_word - 1].to_string()
                } else {
                    next_number += 1;
                    format!("{stem} {}", next_number - 1)
                };
                if !used.contains(&candidate) {
                    break candidate;
                }
            },
        };
        used.insert(name.clone());
        names.push(name);
    }
    (names, domain)
}

/// What a task of `domain` predicts (`outcome`, `credit risk`, `species`, ...).
pub(super) fn target_name(rng: &mut TaskRng, domain: usize) -> String {
    let targets = DOMAINS.get(domain).map_or(&["outcome"][..], |d| d.targets);
    (*rng.choose(targets)).to_string()
}

const BINARY: &[[&str; 2]] = &[
    ["no", "yes"],
    ["negative", "positive"],
    ["benign", "malignant"],
    ["normal", "abnormal"],
    ["fail", "pass"],
    ["stay", "churn"],
    ["legit", "fraud"],
    ["low", "high"],
    ["absent", "present"],
    ["rejected", "approved"],
    ["healthy", "sick"],
    ["off", "on"],
];

/// Ordered or nominal label lists; a task with `k` classes uses the first `k` of one with at
/// least `k` entries (nominal ones shuffled first).
const LISTS: &[(&[&str], bool)] = &[
    (&["low", "medium", "high"], true),
    (&["small", "medium", "large"], true),
    (&["poor", "fair", "good"], true),
    (&["mild", "moderate", "severe"], true),
    (&["down", "flat", "up"], true),
    (&["very low", "low", "medium", "high", "very high"], true),
    (&["spring", "summer", "autumn", "winter"], false),
    (&["north", "east", "south", "west"], false),
    (
        &[
            "red", "green", "blue", "yellow", "orange", "purple", "black", "white", "brown", "grey",
        ],
        false,
    ),
    (
        &[
            "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
            "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi",
            "chi", "psi", "omega",
        ],
        false,
    ),
    (
        &[
            "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q",
            "R", "S", "T", "U", "V", "W", "X", "Y", "Z",
        ],
        true,
    ),
];

/// `k` distinct class names: word pairs for two classes, word lists when one is long enough
/// (half of the time), otherwise numbered names (`class 7`, `group 3`, `type 12`, ...).
pub(super) fn label_names(rng: &mut TaskRng, k: usize) -> Vec<String> {
    if k == 2 && rng.bool(0.8) {
        return rng
            .choose(BINARY)
            .iter()
            .map(|s| (*s).to_string())
            .collect();
    }
    let fits: Vec<&(&[&str], bool)> = LISTS.iter().filter(|(l, _)| l.len() >= k).collect();
    if !fits.is_empty() && rng.bool(0.5) {
        let (list, ordered) = **rng.choose(&fits);
        let mut list: Vec<&str> = list.to_vec();
        if !ordered {
            rng.shuffle(&mut list);
        }
        return list[..k].iter().map(|s| (*s).to_string()).collect();
    }
    let stem = *rng.choose(&["class", "group", "type", "category", "cluster", "level"]);
    let first = if rng.bool(0.7) { 1 } else { 0 };
    (first..first + k).map(|i| format!("{stem} {i}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct() {
        let mut rng = TaskRng::new(11);
        for _ in 0..50 {
            let cats: Vec<Option<&str>> = (0..600)
                .map(|i| (i % 7 == 0).then_some(LEVEL_SETS[i % 3].name))
                .collect();
            let (names, _) = feature_names(&mut rng, &cats);
            let distinct: HashSet<&String> = names.iter().collect();
            assert_eq!(distinct.len(), names.len());
            for k in [2, 3, 5, 26, 50] {
                let labels = label_names(&mut rng, k);
                let distinct: HashSet<&String> = labels.iter().collect();
                assert_eq!((labels.len(), distinct.len()), (k, k));
            }
        }
        assert!(LEVEL_SETS.iter().all(|s| s.levels.len() >= MAX_LEVELS));
    }
}
