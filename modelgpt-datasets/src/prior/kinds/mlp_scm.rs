//! [`PriorKind::MlpScm`](crate::prior::PriorKind::MlpScm): a structural causal model made of a
//! random sparse MLP, in the manner of the TabPFN prior (Hollmann et al., 2023, §4 and appendix
//! C.2: features and target are nodes of a random MLP fed by latent causes, noise at each node).

use super::super::inputs::{Marginal, mean_std, standardize, standardized};
use super::super::labels::{argmax_labels, banded_labels, class_weights, quantile_labels};
use super::super::rng::TaskRng;
use super::{Mechanism, Shape, use_argmax};

/// Node activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    Tanh,
    Relu,
    Identity,
    Sin,
    Abs,
}

impl Activation {
    const ALL: [Activation; 5] = [
        Activation::Tanh,
        Activation::Relu,
        Activation::Identity,
        Activation::Sin,
        Activation::Abs,
    ];
    /// Drawing weights of [`Activation::ALL`].
    const WEIGHTS: [f64; 5] = [0.25, 0.25, 0.15, 0.2, 0.15];

    fn draw(rng: &mut TaskRng) -> Self {
        Self::ALL[rng.weighted(&Self::WEIGHTS)]
    }

    fn apply(self, v: &mut [f32]) {
        match self {
            Activation::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
            Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
            Activation::Identity => {}
            // A periodic, non-monotone response.
            Activation::Sin => v.iter_mut().for_each(|x| *x = x.sin()),
            Activation::Abs => v.iter_mut().for_each(|x| *x = x.abs()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Identity => "identity",
            Activation::Sin => "sin",
            Activation::Abs => "abs",
        }
    }
}

/// One node of the graph.
struct Node {
    values: Vec<f32>,
    layer: usize,
    parents: Vec<usize>,
    /// Standard deviation of the node's value before its own noise was added.
    signal: f64,
    /// Standard deviation of that noise.
    noise: f64,
}

/// Latent causes (1–16 and at most the number of columns, varied marginals, standardized) feed
/// `depth` (1–4) layers of `width` (8–64, widened when the task needs more nodes) nodes; each node
/// has 1–`fan_in` random parents in the layer below, computes a weighted sum, standardizes it,
/// applies a random gain and shift and its layer's activation (tanh, ReLU, identity, sin or abs),
/// and adds Gaussian noise of its layer's level. The class comes from target nodes with enough
/// signal (quantile cuts of one node, bands of it with several bands per class, or the argmax of
/// one node per class); the features are other nodes, drawn with weights that fall with their graph
/// distance to the targets (parents, children and siblings first: causes and effects), at a random
/// rate, so some tasks observe the target's neighbours and others only remote or unconnected nodes.
pub(in crate::prior) fn mlp_scm(rng: &mut TaskRng, shape: Shape) -> Mechanism {
    let Shape { n, d, k } = shape;
    let depth = rng.int_in(1, 4);
    let argmax = use_argmax(rng, k, 0.3);
    let n_targets = if argmax { k } else { 1 };
    // Hidden nodes must hold the targets and (with the causes) the features.
    let width = rng
        .log_uniform_int(8, 64)
        .max((d + n_targets + depth).div_ceil(depth));
    // More observed columns allow more latent causes (few columns of a many-cause system would
    // leave the target mostly unexplained).
    let n_causes = rng.log_uniform_int(1, width.min(16).min(d.max(2)));
    let fan_in = rng.log_uniform_int(2, 12);
    let gain = rng.log_uniform(0.8, 4.0);
    let noise = rng.log_uniform(0.005, 0.2);
    let shared_activation = rng.bool(0.5).then(|| Activation::draw(rng));

    let mut nodes: Vec<Node> = Vec::with_capacity(n_causes + depth * width);
    for _ in 0..n_causes {
        let m = Marginal::draw(rng, 0.0);
        nodes.push(Node {
            values: standardized(&m.sample(rng, n)),
            layer: 0,
            parents: Vec::new(),
            signal: 1.0,
            noise: 0.0,
        });
    }
    let mut activations = Vec::with_capacity(depth);
    let mut below: Vec<usize> = (0..n_causes).collect();
    for layer in 1..=depth {
        let act = shared_activation.unwrap_or_else(|| Activation::draw(rng));
        activations.push(act.name());
        let level = noise * rng.log_uniform(0.5, 2.0);
        let mut this_layer = Vec::with_capacity(width);
        for _ in 0..width {
            let fan = rng.int_in(1, below.len().min(fan_in));
            let parents: Vec<usize> = rng
                .sample_indices(below.len(), fan)
                .into_iter()
                .map(|i| below[i])
                .collect();
            let mut a = vec![0.0f32; n];
            for &p in &parents {
                let w = rng.normal() as f32;
                for (ar, &pr) in a.iter_mut().zip(&nodes[p].values) {
                    *ar += w * pr;
                }
            }
            standardize(&mut a);
            let g = (gain * rng.log_uniform(0.7, 1.4)) as f32;
            let shift = (rng.normal() * 0.5) as f32;
            for x in a.iter_mut() {
                *x = *x * g + shift;
            }
            act.apply(&mut a);
            let (_, signal) = mean_std(&a);
            rng.add_normal(&mut a, level as f32);
            this_layer.push(nodes.len());
            nodes.push(Node {
                values: a,
                layer,
                parents,
                signal,
                noise: level,
            });
        }
        below = this_layer;
    }

    // Targets: hidden nodes whose signal dominates their noise; the strongest as a fallback.
    // Deeper targets are more nonlinear in the causes: 70 % of tasks take them from the deeper
    // half of the layers.
    let min_layer = if rng.bool(0.7) { depth / 2 + 1 } else { 1 };
    let mut candidates: Vec<usize> = (0..nodes.len())
        .filter(|&i| {
            nodes[i].layer >= min_layer && nodes[i].signal > 3.0 * nodes[i].noise.max(1e-3)
        })
        .collect();
    rng.shuffle(&mut candidates);
    candidates.truncate(n_targets);
    if candidates.len() < n_targets {
        let mut rest: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes[i].layer > 0 && !candidates.contains(&i))
            .collect();
        rest.sort_by(|&a, &b| nodes[b].signal.total_cmp(&nodes[a].signal).then(a.cmp(&b)));
        candidates.extend(rest.into_iter().take(n_targets - candidates.len()));
    }
    let targets = candidates;

    // Graph distance from the targets (edges in both directions), then features drawn without
    // replacement with weights falling with the distance: `exp(-decay * (distance - 1))`, and a
    // small weight for nodes not connected at all.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for &p in &node.parents {
            children[p].push(i);
        }
    }
    let mut distance = vec![usize::MAX; nodes.len()];
    let mut queue = std::collections::VecDeque::new();
    for &t in &targets {
        distance[t] = 0;
        queue.push_back(t);
    }
    while let Some(i) = queue.pop_front() {
        for &j in nodes[i].parents.iter().chain(&children[i]) {
            if distance[j] == usize::MAX {
                distance[j] = distance[i] + 1;
                queue.push_back(j);
            }
        }
    }
    let decay = rng.range(0.3, 2.5);
    let mut keyed: Vec<(f64, usize)> = (0..nodes.len())
        .filter(|&i| distance[i] > 0)
        .map(|i| {
            let w = if distance[i] == usize::MAX {
                0.005
            } else {
                (-decay * (distance[i] - 1) as f64).exp()
            };
            // Efraimidis–Spirakis: the largest keys u^(1/w) are a weighted sample.
            (rng.uniform().max(f64::MIN_POSITIVE).ln() / w, i)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let chosen: Vec<usize> = keyed.into_iter().take(d).map(|(_, i)| i).collect();

    let mut banded = false;
    let labels = if argmax {
        let scores: Vec<Vec<f32>> = targets
            .iter()
            .map(|&t| standardized(&nodes[t].values))
            .collect();
        let bias: Vec<f32> = (0..scores.len())
            .map(|_| (rng.normal() * 0.3) as f32)
            .collect();
        argmax_labels(&scores, &bias)
    } else if rng.bool(0.35) {
        banded = true;
        banded_labels(rng, &nodes[targets[0]].values, k)
    } else {
        quantile_labels(&nodes[targets[0]].values, &class_weights(rng, k))
    };
    let n_near = chosen.iter().filter(|&&i| distance[i] <= 2).count();
    let description = format!(
        "mlp_scm: {n_causes} causes, depth {depth}, width {width}, fan-in <= {fan_in}, \
         activations [{}], noise {noise:.3}, distance decay {decay:.2}, {n_near} of {} features \
         within two edges of the target, label: {}",
        activations.join(", "),
        chosen.len(),
        if argmax {
            "argmax of one node per class"
        } else if banded {
            "bands of one node"
        } else {
            "quantile cuts of one node"
        }
    );
    let columns: Vec<Vec<f32>> = chosen
        .into_iter()
        .map(|i| std::mem::take(&mut nodes[i].values))
        .collect();
    Mechanism::continuous(columns, labels, description)
}
