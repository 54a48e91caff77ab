//! Synthetic prior tasks as an extra, per-epoch task source of meta-training
//! ([`modelgpt_hypernet::EpochTasks`]): epoch `e` trains on prior tasks
//! `(e − 1)·n .. e·n` of a [`TaskPrior`], prepared exactly like catalog tasks (the core's
//! preprocessing, MiniLM embeddings of the requirement, feature and label names).

use burn::tensor::Device;
use modelgpt_core::RequirementEncoder;
use modelgpt_core::data::Split;
use modelgpt_datasets::prior::{PriorConfig, TaskPrior};
use modelgpt_hypernet::{EmbeddingCache, EpochTasks, PreparedTask, feature_text};

/// Sentences the in-memory embedding cache of prior tasks keeps before it starts afresh.
const PRIOR_CACHE_CAPACITY: usize = 50_000;

/// Prior tasks for meta-training. See the [module docs](self).
pub struct PriorSource<'a> {
    prior: TaskPrior,
    per_epoch: usize,
    encoder: &'a dyn RequirementEncoder,
    cache: EmbeddingCache,
    max_train_rows: usize,
    device: Device,
}

impl<'a> PriorSource<'a> {
    /// `per_epoch` tasks per epoch from `config`, their training rows capped at
    /// `max_train_rows`.
    ///
    /// # Errors
    /// An invalid prior configuration.
    pub fn new(
        config: PriorConfig,
        per_epoch: usize,
        encoder: &'a dyn RequirementEncoder,
        max_train_rows: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            prior: TaskPrior::new(config)?,
            per_epoch,
            encoder,
            cache: EmbeddingCache::new().with_capacity(PRIOR_CACHE_CAPACITY),
            max_train_rows,
            device: device.clone(),
        })
    }
}

impl EpochTasks for PriorSource<'_> {
    fn tasks(&mut self, epoch: usize) -> modelgpt_hypernet::Result<Vec<PreparedTask>> {
        let start = (epoch.saturating_sub(1) * self.per_epoch) as u64;
        let drawn: Vec<_> = (start..start + self.per_epoch as u64)
            .map(|i| self.prior.task(i))
            .collect();
        // One batched encoding of the epoch's sentences and names, then cache hits.
        let mut texts: Vec<String> = Vec::new();
        for t in &drawn {
            texts.extend(t.requirements.iter().cloned());
            texts.extend(t.dataset.label_names.iter().cloned());
            texts.extend(t.dataset.feature_names().iter().map(|n| feature_text(n)));
        }
        self.cache.embed(self.encoder, &texts, &self.device)?;
        let mut out = Vec::with_capacity(drawn.len());
        for t in drawn {
            let data = &t.dataset;
            let split = Split::seeded(data.n_rows(), &data.targets, (0.8, 0.1, 0.1), t.index)?;
            out.push(PreparedTask::prepare(
                &data.name,
                data,
                &split,
                t.requirements.clone(),
                self.encoder,
                &mut self.cache,
                self.max_train_rows,
                &self.device,
            )?);
        }
        Ok(out)
    }

    fn per_epoch(&self) -> usize {
        self.per_epoch
    }

    fn describe(&self) -> String {
        format!(
            "prior v{} {} tasks/epoch {}",
            modelgpt_datasets::prior::PRIOR_VERSION,
            serde_json::to_string(self.prior.config()).unwrap_or_default(),
            self.per_epoch
        )
    }
}
