//! On-disk cache of language-model answers.
//!
//! One JSON file per answer, named by the SHA-256 of everything that decides the answer: the
//! model's identity (endpoint, model name, sampling parameters), the prompt (messages and images)
//! and the request kind. Files are written to a temporary name in the same folder and renamed, so
//! readers never see half a file; an entry that cannot be parsed, or whose stored key does not
//! match its name, counts as a miss and is overwritten by the next [`AnswerCache::put`].

use std::fs;
use std::path::{Path, PathBuf};

use modelgpt_core::Prompt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Environment variable naming the root cache folder of ModelGPT-rs (answers go to its `llm/`).
pub const CACHE_ENV: &str = "MODELGPT_CACHE";

const FORMAT_VERSION: u32 = 1;

/// The SHA-256 of one request: model identity (endpoint, model, parameters), prompt (every
/// message and image) and request kind, each length-prefixed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// Hashes the model identity, the prompt and the request parameters.
    pub fn new(identity: &str, prompt: &Prompt, params: &str) -> Self {
        let mut h = Sha256::new();
        // Length-prefixed fields, so that no two different inputs share a byte stream.
        for part in [identity.as_bytes(), params.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(FORMAT_VERSION.to_le_bytes());
        for m in &prompt.messages {
            let role: &[u8] = match m.role {
                modelgpt_core::Role::System => b"system",
                modelgpt_core::Role::User => b"user",
                modelgpt_core::Role::Assistant => b"assistant",
            };
            h.update(role);
            h.update((m.content.len() as u64).to_le_bytes());
            h.update(m.content.as_bytes());
            for img in &m.images {
                h.update((img.mime.len() as u64).to_le_bytes());
                h.update(img.mime.as_bytes());
                h.update((img.bytes.len() as u64).to_le_bytes());
                h.update(&img.bytes);
            }
            h.update(b"\0end");
        }
        let digest = h.finalize();
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The hex digest (64 characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    key: String,
    answer: String,
}

/// A folder of cached answers: one JSON file per [`CacheKey`], written to a temporary name and
/// renamed (readers never see half a file). An entry that cannot be parsed, or whose stored key
/// does not match its name, is a miss and is overwritten by the next [`put`](Self::put).
///
/// ```
/// use modelgpt_core::Prompt;
/// use modelgpt_llm::{AnswerCache, CacheKey};
///
/// let dir = tempfile::tempdir()?;
/// let cache = AnswerCache::open(dir.path())?;
/// let key = CacheKey::new("openai:model@http://127.0.0.1:8080/v1", &Prompt::new().user("hi"), "single");
/// assert_eq!(cache.get(&key), None);
/// cache.put(&key, "A 2-class classification task.")?;
/// assert_eq!(cache.get(&key).as_deref(), Some("A 2-class classification task."));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AnswerCache {
    dir: PathBuf,
}

impl AnswerCache {
    /// Opens (and creates) the cache folder `dir`.
    ///
    /// # Errors
    /// [`Error::Cache`] when the folder cannot be created.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| Error::Cache {
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    /// The default folder: `$MODELGPT_CACHE/llm` when the variable is set and not empty, else
    /// `.modelgpt-cache/llm` under the current folder (the same root the examples use for their
    /// other caches).
    pub fn default_dir() -> PathBuf {
        let root = match std::env::var_os(CACHE_ENV) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => PathBuf::from(".modelgpt-cache"),
        };
        root.join("llm")
    }

    /// Opens [`default_dir`](Self::default_dir).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_default() -> Result<Self> {
        Self::open(Self::default_dir())
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds (or would hold) `key`'s answer.
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.as_str()))
    }

    /// The cached answer, if there is a readable, matching entry. Missing, unreadable and corrupt
    /// entries all return `None`.
    pub fn get(&self, key: &CacheKey) -> Option<String> {
        let bytes = fs::read(self.path(key)).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        (entry.version == FORMAT_VERSION && entry.key == key.as_str()).then_some(entry.answer)
    }

    /// Stores `answer` under `key`, atomically (temporary file + rename), replacing any entry.
    ///
    /// # Errors
    /// [`Error::Cache`] when the file cannot be written.
    pub fn put(&self, key: &CacheKey, answer: &str) -> Result<()> {
        let path = self.path(key);
        let entry = Entry {
            version: FORMAT_VERSION,
            key: key.as_str().to_string(),
            answer: answer.to_string(),
        };
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec_pretty(&entry).map_err(|e| Error::Cache {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        modelgpt_core::write_atomic(&path, &json).map_err(|source| Error::Cache { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_every_part() {
        let p = Prompt::new().user("hello");
        let k = CacheKey::new("a", &p, "single");
        assert_eq!(k, CacheKey::new("a", &p, "single"));
        assert_eq!(k.as_str().len(), 64);
        assert_ne!(k, CacheKey::new("b", &p, "single"));
        assert_ne!(k, CacheKey::new("a", &p, "parallel:3"));
        assert_ne!(
            k,
            CacheKey::new("a", &Prompt::new().system("hello"), "single")
        );
        // Field boundaries matter.
        assert_ne!(CacheKey::new("ab", &p, "c"), CacheKey::new("a", &p, "bc"));
    }

    #[test]
    fn corrupt_entries_are_misses_and_get_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AnswerCache::open(dir.path().join("nested/llm")).unwrap();
        let key = CacheKey::new("id", &Prompt::new().user("x"), "single");
        fs::write(cache.path(&key), b"{ not json").unwrap();
        assert_eq!(cache.get(&key), None);
        cache.put(&key, "answer").unwrap();
        assert_eq!(cache.get(&key).as_deref(), Some("answer"));
        // An entry copied under another key's name is not trusted.
        let other = CacheKey::new("id2", &Prompt::new().user("x"), "single");
        fs::copy(cache.path(&key), cache.path(&other)).unwrap();
        assert_eq!(cache.get(&other), None);
        // No temporary files are left behind.
        let leftovers = fs::read_dir(cache.dir()).unwrap().filter(|e| {
            e.as_ref()
                .map(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .unwrap_or(false)
        });
        assert_eq!(leftovers.count(), 0);
    }

    #[test]
    fn unwritable_folder_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, b"x").unwrap();
        assert!(matches!(
            AnswerCache::open(file.join("sub")),
            Err(Error::Cache { .. })
        ));
    }
}
