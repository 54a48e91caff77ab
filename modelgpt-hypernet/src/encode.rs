//! The one cache of sentence embeddings (requirements, feature names, label names), used by both
//! facades (in memory, bounded) and by meta-training (backed by a file).
//!
//! Meta-training reads the same few thousand short strings over and over; encoding each once and
//! keeping the vectors on disk turns minutes of BERT forwards into a file read. A facade tailoring
//! again for the same task skips the encoder for everything it met before.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use modelgpt_core::RequirementEncoder;

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// Most sentences the facades' in-memory caches keep; past that a cache starts afresh.
pub const MEMO_CAPACITY: usize = 10_000;

/// Sentence → embedding map, optionally backed by a file and optionally bounded.
#[derive(Debug, Default)]
pub struct EmbeddingCache {
    dim: usize,
    map: HashMap<String, Vec<f32>>,
    path: Option<PathBuf>,
    dirty: bool,
    capacity: Option<usize>,
}

impl EmbeddingCache {
    /// An empty in-memory cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens (or starts) a cache stored at `path`. A corrupt file is ignored and rewritten.
    pub fn open(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut cache = Self {
            path: Some(path.clone()),
            ..Self::default()
        };
        // A vector of another length is corruption too: `embed` returns `dim` values per text,
        // and its callers split the result at those offsets.
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok((dim, map)) =
                serde_json::from_slice::<(usize, HashMap<String, Vec<f32>>)>(&bytes)
            && map.values().all(|v| v.len() == dim)
        {
            cache.dim = dim;
            cache.map = map;
        }
        cache
    }

    /// Bounds the cache to `capacity` sentences: when an insertion would pass it, the cache is
    /// emptied first (memory stays bounded whatever the caller feeds it).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity.max(1));
        self
    }

    /// Number of cached sentences.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Embeddings of `texts` (row-major `[texts.len(), dim]`), encoding the misses in batches.
    ///
    /// # Errors
    /// Encoder failures.
    pub fn embed(
        &mut self,
        encoder: &dyn RequirementEncoder,
        texts: &[String],
        device: &Device,
    ) -> Result<Vec<f32>> {
        let dim = encoder.embed_dim();
        if self.dim != dim {
            self.map.clear();
            self.dim = dim;
        }
        let mut missing: Vec<&str> = texts
            .iter()
            .filter(|t| !self.map.contains_key(t.as_str()))
            .map(String::as_str)
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if let Some(cap) = self.capacity
            && self.map.len() + missing.len() > cap
        {
            self.map.clear();
            missing = texts.iter().map(String::as_str).collect();
            missing.sort_unstable();
            missing.dedup();
        }
        for chunk in missing.chunks(32) {
            let emb = encoder.encode(chunk, device)?;
            let values = emb
                .try_into_data()?
                .convert::<f32>()
                .try_into_vec::<f32>()?;
            for (i, t) in chunk.iter().enumerate() {
                self.map
                    .insert((*t).to_string(), values[i * dim..(i + 1) * dim].to_vec());
            }
            self.dirty = true;
        }
        let mut out = Vec::with_capacity(texts.len() * dim);
        for t in texts {
            // Every text was inserted above.
            out.extend_from_slice(&self.map[t.as_str()]);
        }
        Ok(out)
    }

    /// Writes the cache to its file (atomically) if it changed.
    ///
    /// # Errors
    /// I/O failures.
    pub fn save(&mut self) -> Result<()> {
        if let (Some(path), true) = (&self.path, self.dirty) {
            let bytes =
                serde_json::to_vec(&(self.dim, &self.map)).map_err(|source| Error::Json {
                    path: path.clone(),
                    source,
                })?;
            write_atomic(path, &bytes)?;
            self.dirty = false;
        }
        Ok(())
    }

    /// The backing file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}
