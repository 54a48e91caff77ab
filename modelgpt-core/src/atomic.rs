//! Atomic file replacement: every writer in the workspace (checkpoints, exports, caches, reports)
//! goes through [`replace_atomically`], so readers see the old file or the new one, never a
//! partial write.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `target` with what `write` puts into a temporary file beside it: creates the parent
/// folder if needed, calls `write(tmp)`, syncs the file to disk and renames it over `target`.
/// On any failure the temporary file is removed; a crash leaves at most a stray hidden
/// `.<name>.<pid>.<n>.tmp` file.
///
/// `io` turns the I/O errors of the steps around `write` into the caller's error type.
///
/// # Errors
/// `write`'s error, or `io(e)` for a failed folder creation, sync or rename.
pub fn replace_atomically<E>(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    io: impl Fn(std::io::Error) -> E,
) -> Result<(), E> {
    if let Some(dir) = target.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(&io)?;
    }
    let tmp = temporary_path(target);
    let result = write(&tmp).and_then(|()| {
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&tmp, target))
            .map_err(&io)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically (see [`replace_atomically`]).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("nested/out.json");
/// modelgpt_core::write_atomic(&path, b"{}")?;
/// assert_eq!(std::fs::read(&path)?, b"{}");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The I/O error of the failed step.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_atomically(
        path,
        |tmp| {
            let mut f = std::fs::File::create(tmp)?;
            f.write_all(bytes)
        },
        |e| e,
    )
}

/// A hidden temporary name beside `target`, unique within and across processes.
fn temporary_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    target.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"old").unwrap();
        let err = replace_atomically(
            &path,
            |tmp| {
                std::fs::write(tmp, b"partial")?;
                Err(std::io::Error::other("boom"))
            },
            |e| e,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.bin"]);
    }
}
