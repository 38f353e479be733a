//! Bounded decompression of gzip (multi-member, with trailing garbage tolerated) and zip,
//! so that a bomb costs at most the configured cap in memory.

use std::cell::RefCell;
use std::fmt;
use std::io::{Cursor, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

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

thread_local! {
    /// One raw-deflate state per thread, reset for each stream: setting up a new one
    /// (allocating and clearing its window) costs more than inflating a typical report
    /// of about 800 bytes.
    static INFLATE: RefCell<Decompress> = RefCell::new(Decompress::new(false));
}

/// Decompresses every gzip member of `data`. Bytes after the last member that do not
/// start another member are ignored (Mimecast appends some, TLSRPT-NOTES §4.13).
pub(crate) fn gunzip(data: &[u8], cap: usize) -> Result<Vec<u8>, Failure> {
    INFLATE.with_borrow_mut(|inflate| {
        let mut out = Vec::new();
        let mut rest = data;
        while rest.starts_with(&[0x1f, 0x8b]) {
            rest = member(inflate, rest, cap, &mut out)?;
        }
        Ok(out)
    })
}

/// Inflates the gzip member at the start of `data` (RFC 1952) onto `out`, checking its
/// CRC-32 and size; returns the bytes after it.
fn member<'d>(
    inflate: &mut Decompress,
    data: &'d [u8],
    cap: usize,
    out: &mut Vec<u8>,
) -> Result<&'d [u8], Failure> {
    let corrupt = |why: &str| Failure::Corrupt(format!("gzip data is truncated or corrupt: {why}"));
    let body = skip_header(data).ok_or_else(|| corrupt("invalid gzip header"))?;
    inflate.reset(false);
    let start = out.len();
    loop {
        if out.len() > cap {
            return Err(Failure::OverCap);
        }
        if out.len() == out.capacity() {
            // Room for at most one byte over the cap, which is how going over it shows.
            let room = (cap + 1 - out.len()).min(out.len().max(body.len() * 4).max(4096));
            out.reserve_exact(room);
        }
        let consumed = inflate.total_in() as usize;
        let produced = out.len();
        let status = inflate
            .decompress_vec(&body[consumed..], out, FlushDecompress::None)
            .map_err(|e| corrupt(&e.to_string()))?;
        if status == Status::StreamEnd {
            break;
        }
        let stalled = inflate.total_in() as usize == consumed && out.len() == produced;
        if stalled && out.len() < out.capacity() {
            return Err(corrupt("the stream ends early"));
        }
    }
    if out.len() > cap {
        return Err(Failure::OverCap);
    }
    let end = inflate.total_in() as usize;
    let trailer = body
        .get(end..end + 8)
        .ok_or_else(|| corrupt("the trailer is missing"))?;
    let mut crc = Crc::new();
    crc.update(&out[start..]);
    let size = (out.len() - start) as u32; // ISIZE is the size modulo 2^32.
    if trailer[..4] != crc.sum().to_le_bytes() || trailer[4..] != size.to_le_bytes() {
        return Err(corrupt("the checksum or size does not match"));
    }
    Ok(&body[end + 8..])
}

/// The deflate data after a gzip member's header, or `None` if the header is invalid.
fn skip_header(data: &[u8]) -> Option<&[u8]> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    // ID1 ID2 CM FLG MTIME(4) XFL OS; CM 8 is deflate, the only method defined.
    let (head, mut rest) = data.split_at_checked(10)?;
    if head[2] != 8 {
        return None;
    }
    let flags = head[3];
    if flags & FEXTRA != 0 {
        let len = u16::from_le_bytes([*rest.first()?, *rest.get(1)?]) as usize;
        rest = rest.get(2 + len..)?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = rest.iter().position(|&b| b == 0)?;
            rest = &rest[end + 1..];
        }
    }
    if flags & FHCRC != 0 {
        rest = rest.get(2..)?;
    }
    Some(rest)
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
    fn reads_headers_with_name_comment_and_extra_fields() {
        let mut e = flate2::GzBuilder::new()
            .filename("report.json")
            .comment("a comment")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::fast());
        e.write_all(b"{}").unwrap();
        let mut data = e.finish().unwrap();
        data.extend(gz(b" and more"));
        assert_eq!(gunzip(&data, 1024).unwrap(), b"{} and more");
    }

    #[test]
    fn rejects_a_stream_whose_checksum_does_not_match() {
        let mut data = gz(b"hello world");
        let crc = data.len() - 8;
        data[crc] ^= 1;
        let err = gunzip(&data, 1024).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
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
