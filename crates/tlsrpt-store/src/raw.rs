//! Original bytes kept gzip-compressed, so that nothing is lost and any parse can be redone.

use std::io::{Read, Write};

use flate2::{Compression, read::MultiGzDecoder, write::GzEncoder};

/// Bytes compressed for storage, with the size of the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// The kept bytes as gzip (RFC 1952); possibly several members.
    pub compressed: Vec<u8>,
    /// The size of the original input, which may exceed what was kept.
    pub size: u64,
    /// False when only the head of an oversized input was kept.
    pub complete: bool,
}

impl Raw {
    /// Compresses `kept`, the first bytes (or all) of an input of `size` bytes. Fast
    /// compression: this runs once per report on the ingest path.
    pub fn compress(kept: &[u8], size: u64) -> Self {
        let mut encoder = GzEncoder::new(Vec::with_capacity(kept.len() / 4), Compression::fast());
        // Writing into a Vec cannot fail.
        let compressed = encoder
            .write_all(kept)
            .and_then(|()| encoder.finish())
            .unwrap_or_default();
        Self {
            compressed,
            size: size.max(kept.len() as u64),
            complete: size <= kept.len() as u64,
        }
    }

    /// Keeps a gzip stream that already holds exactly the original bytes (a report
    /// that arrived gzip-compressed), so it is stored as it came, without recompressing.
    pub fn from_gzip(gzip: Vec<u8>, size: u64) -> Self {
        Self {
            compressed: gzip,
            size,
            complete: true,
        }
    }

    /// Decompresses stored bytes (trailing bytes after the last gzip member are ignored).
    pub fn decompress(compressed: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        MultiGzDecoder::new(compressed).read_to_end(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_marks_truncation() {
        let raw = Raw::compress(b"{\"report-id\":\"x\"}", 17);
        assert!(raw.complete);
        assert_eq!(
            Raw::decompress(&raw.compressed).unwrap(),
            b"{\"report-id\":\"x\"}"
        );
        let head = Raw::compress(b"abc", 1_000_000);
        assert_eq!((head.size, head.complete), (1_000_000, false));
    }
}
