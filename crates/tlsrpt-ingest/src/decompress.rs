//! Bounded decompression of gzip (multi-member, with trailing garbage tolerated) and zip,
//! so that a bomb costs at most the configured cap in memory.

use std::fmt;

use std::io::{Cursor, Read};

use flate2::bufread::GzDecoder;

/// Why decompression stopped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The output would exceed the cap; the caller knows which limit that was.
    OverCap,
    /// The container is truncated or corrupt.
    Corrupt(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OverCap => f.write_str("decompressed size exceeds the cap"),
            Self::Corrupt(why) => f.write_str(why),
        }
    }
}

/// Decompresses every gzip member of `data`. Bytes after the last member that do not
/// start another member are ignored (Mimecast appends some, TLSRPT-NOTES §4.13).
pub(crate) fn gunzip(data: &[u8], cap: usize) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.starts_with(&[0x1f, 0x8b]) {
        let mut decoder = GzDecoder::new(rest);
        let budget = (cap + 1).saturating_sub(out.len()) as u64;
        let read = (&mut decoder)
            .take(budget)
            .read_to_end(&mut out)
            .map_err(|e| Failure::Corrupt(format!("gzip data is truncated or corrupt: {e}")))?;
        if out.len() > cap {
            return Err(Failure::OverCap);
        }
        let remaining = decoder.into_inner();
        if read == 0 && remaining.len() == rest.len() {
            break;
        }
        rest = remaining;
    }
    Ok(out)
}

/// One file of a zip archive.
pub(crate) struct ZipEntry {
    pub(crate) name: String,
    pub(crate) data: Vec<u8>,
}

/// Reads the files of a zip archive, with at most `cap` bytes in all and `max_entries` files.
pub(crate) fn unzip(data: &[u8], cap: usize, max_entries: usize) -> Result<Vec<ZipEntry>, Failure> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data))
        .map_err(|e| Failure::Corrupt(format!("zip archive is truncated or corrupt: {e}")))?;
    if archive.len() > max_entries {
        return Err(Failure::Corrupt(format!(
            "zip archive has {} entries, over the limit of {max_entries}",
            archive.len()
        )));
    }
    let mut entries = Vec::new();
    let mut total = 0usize;
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| Failure::Corrupt(format!("zip entry {i} cannot be read: {e}")))?;
        if file.is_dir() {
            continue;
        }
        let name = file.name().to_owned();
        let mut buf = Vec::new();
        let budget = (cap + 1).saturating_sub(total) as u64;
        (&mut file)
            .take(budget)
            .read_to_end(&mut buf)
            .map_err(|e| Failure::Corrupt(format!("zip entry {name:?} is corrupt: {e}")))?;
        total += buf.len();
        if total > cap {
            return Err(Failure::OverCap);
        }
        entries.push(ZipEntry { name, data: buf });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_multi_member_streams_and_ignores_trailing_garbage() {
        let mut data = gz(b"hello ");
        data.extend(gz(b"world"));
        data.extend(b"\r\n--trailing garbage--");
        assert_eq!(gunzip(&data, 1024).unwrap(), b"hello world");
    }

    #[test]
    fn rejects_truncated_and_oversized_streams() {
        let data = gz(&[b'a'; 10_000]);
        let err = gunzip(&data[..data.len() / 2], 1 << 20).unwrap_err();
        assert!(err.to_string().contains("truncated or corrupt"), "{err}");
        assert_eq!(gunzip(&data, 9_999).unwrap_err(), Failure::OverCap);
        assert_eq!(gunzip(&data, 10_000).unwrap().len(), 10_000);
    }
}
