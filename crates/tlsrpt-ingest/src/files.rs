//! Local sources: files, directories walked recursively, mbox archives (split while
//! streaming, so an archive of any size uses bounded memory) and Maildir folders.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::content::{Kind, sniff};
use crate::extract::{Claim, Found, Limits, extract};
use crate::mail::MessageMeta;
pub use crate::source::Source;

/// A file to read, as found by [`walk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    pub in_maildir: bool,
}

/// One input, read and unpacked.
#[derive(Debug)]
pub struct Input {
    pub source: Source,
    /// The file path, with `#N` for the N-th message of an mbox.
    pub locator: String,
    pub message_id: Option<String>,
    /// The input's bytes: all of them, or the first [`KEEP_OF_OVERSIZED`] when the input
    /// is over the size limit.
    pub bytes: Vec<u8>,
    /// The input's full size in bytes.
    pub size: u64,
    pub found: Vec<Found>,
}

/// How much of an oversized input is kept for inspection.
pub const KEEP_OF_OVERSIZED: usize = 1024 * 1024;

/// Expands the given paths into the files to read, in a stable order, all at once: see
/// [`walk`], which yields the same entries and errors one by one.
pub fn plan(paths: &[PathBuf]) -> (Vec<Entry>, Vec<(PathBuf, String)>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for found in walk(paths.to_vec()) {
        match found {
            Ok(entry) => entries.push(entry),
            Err(error) => errors.push(error),
        }
    }
    (entries, errors)
}

/// Walks the given paths lazily, yielding the files to read in a stable order (each
/// directory's children sorted by name), or a path that cannot be read and why.
/// Directories are walked recursively; a directory holding `cur/` and `new/` is read as a
/// Maildir (its `tmp/` is skipped, as unfinished deliveries live there). Symbolic links
/// to directories are not followed. Memory is that of the directories being walked, not
/// of the whole tree, so that a walk over millions of archived files stays small.
pub fn walk(paths: Vec<PathBuf>) -> Walk {
    Walk {
        roots: paths.into_iter(),
        open: Vec::new(),
    }
}

/// The iterator of [`walk`].
#[derive(Debug)]
pub struct Walk {
    roots: std::vec::IntoIter<PathBuf>,
    /// The directories being read, innermost last: their children not yet visited.
    open: Vec<OpenDir>,
}

/// A directory being read: its remaining children in name order, and whether they are in
/// a Maildir.
#[derive(Debug)]
struct OpenDir {
    children: std::vec::IntoIter<(PathBuf, PathKind)>,
    in_maildir: bool,
}

/// What a path is, as far as the walk cares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathKind {
    File,
    Dir,
    /// A symbolic link to a directory, which is not followed.
    DirLink,
    /// A symbolic link that cannot be followed, and why.
    Broken(String),
}

impl Iterator for Walk {
    type Item = Result<Entry, (PathBuf, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (path, kind, in_maildir) = match self.open.last_mut() {
                Some(dir) => match dir.children.next() {
                    Some((path, kind)) => (path, kind, dir.in_maildir),
                    None => {
                        self.open.pop();
                        continue;
                    }
                },
                None => {
                    let root = self.roots.next()?;
                    match fs::metadata(&root) {
                        Ok(meta) if meta.is_dir() => (root, PathKind::Dir, false),
                        Ok(_) => (root, PathKind::File, false),
                        Err(e) => return Some(Err((root, e.to_string()))),
                    }
                }
            };
            match kind {
                PathKind::File => return Some(Ok(Entry { path, in_maildir })),
                PathKind::DirLink => continue,
                PathKind::Broken(why) => return Some(Err((path, why))),
                PathKind::Dir => match open_dir(&path, in_maildir) {
                    Ok(dir) => self.open.push(dir),
                    Err(e) => return Some(Err((path, e.to_string()))),
                },
            }
        }
    }
}

/// Lists a directory's children to walk, sorted by name: hidden files, mail server
/// metadata and a Maildir's `tmp/` are left out.
fn open_dir(path: &Path, in_maildir: bool) -> std::io::Result<OpenDir> {
    let maildir = path.join("cur").is_dir() && path.join("new").is_dir();
    let mut children = Vec::new();
    for child in fs::read_dir(path)? {
        let Ok(child) = child else { continue };
        let path = child.path();
        // The type read with the directory costs no system call; a link is looked up.
        let kind = match child.file_type() {
            Ok(t) if t.is_dir() => PathKind::Dir,
            Ok(t) if t.is_symlink() => match fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => PathKind::DirLink,
                Ok(_) => PathKind::File,
                Err(e) => PathKind::Broken(e.to_string()),
            },
            _ => PathKind::File,
        };
        let name = child.file_name();
        let name = name.to_str().unwrap_or_default();
        let skip = match kind {
            PathKind::Dir => maildir && name == "tmp",
            PathKind::DirLink => true,
            PathKind::File | PathKind::Broken(_) => {
                name.starts_with('.') || is_mailbox_metadata(name)
            }
        };
        if !skip {
            children.push((path, kind));
        }
    }
    // Siblings share their parent's path, so their whole paths compare as their names
    // do (byte by byte), without splitting every path into components.
    children.sort_unstable_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    Ok(OpenDir {
        children: children.into_iter(),
        in_maildir: maildir || in_maildir,
    })
}

/// Index and state files that mail servers keep beside messages.
fn is_mailbox_metadata(name: &str) -> bool {
    name.starts_with("dovecot")
        || name.starts_with("courierimap")
        || matches!(name, "maildirfolder" | "subscriptions")
}

/// Reads one planned file and hands each input in it to `emit`: one input for a plain
/// file, one per message for an mbox archive.
pub fn read(entry: &Entry, limits: &Limits, emit: &mut dyn FnMut(Input)) {
    let locator = entry.path.display().to_string();
    let source = if entry.in_maildir {
        Source::Maildir
    } else {
        Source::File
    };
    let unreadable = |reason: String| Input {
        source,
        locator: locator.clone(),
        message_id: None,
        bytes: Vec::new(),
        size: 0,
        found: vec![Found::Rejected { part: None, reason }],
    };
    let file = match File::open(&entry.path) {
        Ok(f) => f,
        Err(e) => return emit(unreadable(format!("cannot open the file: {e}"))),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let head = match reader.fill_buf() {
        Ok(h) => h,
        Err(e) => return emit(unreadable(format!("cannot read the file: {e}"))),
    };
    if !entry.in_maildir && head.starts_with(b"From ") {
        return read_mbox(reader, &locator, limits, emit);
    }
    // An oversized file is not read beyond the head that is kept of it.
    let cap = if size > limits.max_input_bytes as u64 {
        KEEP_OF_OVERSIZED
    } else {
        limits.max_input_bytes.max(KEEP_OF_OVERSIZED)
    };
    let mut bytes = Vec::with_capacity(size.min(cap as u64) as usize);
    if let Err(e) = reader.by_ref().take(cap as u64 + 1).read_to_end(&mut bytes) {
        return emit(unreadable(format!("cannot read the file: {e}")));
    }
    emit(unpack(source, locator, bytes, size, limits));
}

/// Unpacks one input's bytes: rejects it when over the size limit (keeping its head),
/// and reads the message header of mail for the record.
pub fn unpack(
    source: Source,
    locator: String,
    mut bytes: Vec<u8>,
    size: u64,
    limits: &Limits,
) -> Input {
    let size = size.max(bytes.len() as u64);
    let (message_id, found) = if size > limits.max_input_bytes as u64 {
        bytes.truncate(KEEP_OF_OVERSIZED);
        let reason = format!(
            "input is {size} bytes, over the limit of {} bytes (raise --max-input-size if it is genuine)",
            limits.max_input_bytes
        );
        (None, vec![Found::Rejected { part: None, reason }])
    } else {
        let message_id = (sniff(&bytes) == Kind::Mail)
            .then(|| MessageMeta::read(&bytes).message_id)
            .flatten();
        (message_id, extract(&bytes, Claim::Operator, limits))
    };
    Input {
        source,
        locator,
        message_id,
        bytes,
        size,
        found,
    }
}

/// Splits an mbox archive into messages while streaming. A line starting `From ` after
/// a blank line (or at the start) begins a message; `>From ` quoting is undone (mboxrd).
fn read_mbox(mut reader: impl BufRead, path: &str, limits: &Limits, emit: &mut dyn FnMut(Input)) {
    let mut message: Vec<u8> = Vec::new();
    let mut size = 0u64;
    let mut number = 0usize;
    let mut previous_blank = true;
    let mut line = Vec::new();
    let mut flush = |message: &mut Vec<u8>, size: &mut u64, number: usize| {
        if number > 0 {
            let bytes = std::mem::take(message);
            emit(unpack(
                Source::Mbox,
                format!("{path}#{number}"),
                bytes,
                *size,
                limits,
            ));
        }
        *size = 0;
    };
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                flush(&mut message, &mut size, number);
                emit(Input {
                    source: Source::Mbox,
                    locator: format!("{path}#{}", number + 1),
                    message_id: None,
                    bytes: Vec::new(),
                    size: 0,
                    found: vec![Found::Rejected {
                        part: None,
                        reason: format!("cannot read the mbox archive: {e}"),
                    }],
                });
                return;
            }
        }
        if previous_blank && line.starts_with(b"From ") {
            flush(&mut message, &mut size, number);
            number += 1;
            previous_blank = false;
            continue;
        }
        previous_blank = line == b"\n" || line == b"\r\n";
        let unquoted = match line.iter().position(|&b| b != b'>') {
            Some(n) if n > 0 && line[n..].starts_with(b"From ") => &line[1..],
            _ => &line[..],
        };
        size += unquoted.len() as u64;
        if message.len() + unquoted.len() <= limits.max_input_bytes.max(KEEP_OF_OVERSIZED) {
            message.extend_from_slice(unquoted);
        }
    }
    flush(&mut message, &mut size, number);
}
