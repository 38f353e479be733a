//! The minimal HTTP/1.1 client side needed for the policy fetch (RFC 8461 §3.3): one GET,
//! no redirects followed, and a size cap enforced while streaming, also through chunked
//! transfer encoding.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// Largest response head accepted.
const MAX_HEAD: u64 = 16 * 1024;
/// Largest chunk-size or trailer line accepted.
const MAX_LINE: u64 = 1024;

/// Status line and headers of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    /// The first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How the body is delimited.
    pub(crate) fn framing(&self) -> Result<Framing, HttpError> {
        if let Some(te) = self.header("transfer-encoding") {
            let last = te.rsplit(',').next().unwrap_or_default().trim();
            return if last.eq_ignore_ascii_case("chunked") {
                Ok(Framing::Chunked)
            } else {
                Ok(Framing::UntilClose)
            };
        }
        match self.header("content-length") {
            Some(len) => len.trim().parse::<u64>().map(Framing::Length).map_err(|_| {
                HttpError::Malformed(format!("Content-Length `{len}` is not a number"))
            }),
            None => Ok(Framing::UntilClose),
        }
    }
}

/// How a response body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    Chunked,
    Length(u64),
    UntilClose,
}

/// What went wrong reading a response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error("the body is larger than {limit} bytes ({received} bytes received so far)")]
    TooLarge { limit: usize, received: usize },
    #[error("Content-Length announces {declared} bytes, more than the limit of {limit}")]
    DeclaredTooLarge { limit: usize, declared: u64 },
    #[error("the connection closed after {received} of {declared} bytes")]
    Truncated { declared: u64, received: usize },
}

/// Reads the status line and headers.
pub(crate) async fn read_head<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Result<ResponseHead, HttpError> {
    let mut used = 0u64;
    let status_line = read_line(reader, MAX_HEAD).await?;
    used += status_line.len() as u64;
    let status_line = String::from_utf8_lossy(&status_line);
    let status_line = status_line.trim_end();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(HttpError::Malformed(format!("status line `{status_line}`")));
    }
    let status = code
        .parse::<u16>()
        .map_err(|_| HttpError::Malformed(format!("status line `{status_line}`")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, MAX_HEAD.saturating_sub(used)).await?;
        used += line.len() as u64;
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| HttpError::Malformed(format!("header line `{line}`")))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(ResponseHead { status, headers })
}

/// Reads the body, never holding more than `limit` bytes.
pub(crate) async fn read_body<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    framing: Framing,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    match framing {
        Framing::Length(declared) => {
            if declared > limit as u64 {
                return Err(HttpError::DeclaredTooLarge { limit, declared });
            }
            read_to_end_lenient(&mut (&mut *reader).take(declared), &mut body).await?;
            if (body.len() as u64) < declared {
                return Err(HttpError::Truncated {
                    declared,
                    received: body.len(),
                });
            }
        }
        Framing::UntilClose => {
            read_to_end_lenient(&mut (&mut *reader).take(limit as u64 + 1), &mut body).await?;
            if body.len() > limit {
                return Err(HttpError::TooLarge {
                    limit,
                    received: body.len(),
                });
            }
        }
        Framing::Chunked => loop {
            let line = read_line(reader, MAX_LINE).await?;
            let line = String::from_utf8_lossy(&line);
            let size_text = line.trim_end().split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| HttpError::Malformed(format!("chunk size `{size_text}`")))?;
            if size == 0 {
                // Trailer fields, then the final empty line.
                while !read_line(reader, MAX_LINE).await?.trim_ascii().is_empty() {}
                break;
            }
            if body.len() as u64 + size > limit as u64 {
                return Err(HttpError::TooLarge {
                    limit,
                    received: body
                        .len()
                        .saturating_add(usize::try_from(size).unwrap_or(usize::MAX)),
                });
            }
            let before = body.len();
            read_to_end_lenient(&mut (&mut *reader).take(size), &mut body).await?;
            if ((body.len() - before) as u64) < size {
                return Err(HttpError::Malformed(
                    "the connection closed inside a chunk".to_owned(),
                ));
            }
            let end = read_line(reader, MAX_LINE).await?;
            if !end.trim_ascii().is_empty() {
                return Err(HttpError::Malformed(
                    "a chunk is longer than its size".to_owned(),
                ));
            }
        },
    }
    Ok(body)
}

/// Reads one line including its `\n`, failing beyond `max` bytes or at end of stream.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: u64,
) -> Result<Vec<u8>, HttpError> {
    let mut line = Vec::new();
    (&mut *reader)
        .take(max)
        .read_until(b'\n', &mut line)
        .await?;
    if line.last() != Some(&b'\n') {
        return Err(if line.len() as u64 >= max {
            HttpError::Malformed("a header or chunk line is too long".to_owned())
        } else {
            HttpError::Malformed("the connection closed in the middle of the response".to_owned())
        });
    }
    Ok(line)
}

/// `read_to_end` that treats a TLS peer closing without close_notify as the end.
async fn read_to_end_lenient<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> Result<(), HttpError> {
    match reader.read_to_end(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8], limit: usize) -> Result<(ResponseHead, Vec<u8>), HttpError> {
        let mut reader = tokio::io::BufReader::new(raw);
        let head = read_head(&mut reader).await?;
        let framing = head.framing()?;
        let body = read_body(&mut reader, framing, limit).await?;
        Ok((head, body))
    }

    #[tokio::test]
    async fn content_length_body() {
        let (head, body) = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
            100,
        )
        .await
        .expect("valid");
        assert_eq!(head.status, 200);
        assert_eq!(body, b"hello");
    }

    #[tokio::test]
    async fn chunked_body_with_extension_and_trailer() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n";
        let (_, body) = parse(raw, 100).await.expect("valid");
        assert_eq!(body, b"hello world");
    }

    #[tokio::test]
    async fn limits() {
        let declared = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n", 65536).await;
        assert!(matches!(
            declared,
            Err(HttpError::DeclaredTooLarge {
                declared: 70000,
                ..
            })
        ));
        let streamed = parse(b"HTTP/1.1 200 OK\r\n\r\n0123456789", 5).await;
        assert!(matches!(
            streamed,
            Err(HttpError::TooLarge {
                limit: 5,
                received: 6
            })
        ));
        let chunked = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n", 6).await;
        assert!(matches!(chunked, Err(HttpError::TooLarge { limit: 6, .. })));
        let truncated = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100).await;
        assert!(matches!(
            truncated,
            Err(HttpError::Truncated {
                declared: 10,
                received: 3
            })
        ));
    }

    #[tokio::test]
    async fn malformed_status_line() {
        let bad = parse(b"SMTP 220 hello\r\n\r\n", 100).await;
        assert!(matches!(bad, Err(HttpError::Malformed(_))));
    }
}
