//! How a ping's body is received: before any database work and without a database connection
//! or lock ([`BodyReader`]: size limit, read timeout, minimum rate); a success body is staged in
//! a file of the data folder ([`StagedBody`]), then read line by line ([`LineReader`]); a
//! failure message keeps only the body's last 10 KiB ([`read_tail`]). Never held whole in memory.

use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Over a size limit.
    TooLarge(String),
    /// Line `line` is not acceptable.
    Invalid { line: u64, message: String },
    /// The client stopped sending or the connection failed.
    Read(String),
    /// Nothing arrived for the read timeout, or the body arrives slower than the minimum rate.
    TimedOut(String),
    /// The body could not be staged (the data folder is not writable, the disk is full).
    Staging(String),
}

/// Splits a byte stream into lines as it arrives, within a body and a line size limit.
pub struct LineReader<S> {
    stream: S,
    buffer: Vec<u8>,
    start: usize,
    line_number: u64,
    received: u64,
    max_body_bytes: u64,
    max_line_bytes: usize,
    ended: bool,
}

impl<S, E> LineReader<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    pub fn new(stream: S, max_body_bytes: u64, max_line_bytes: usize) -> Self {
        Self {
            stream,
            buffer: Vec::new(),
            start: 0,
            line_number: 0,
            received: 0,
            max_body_bytes,
            max_line_bytes,
            ended: false,
        }
    }

    /// The next line (without its `\n` or `\r\n`) and its 1-based number; `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<(u64, String)>, BodyError> {
        loop {
            if let Some(offset) = self.buffer[self.start..].iter().position(|b| *b == b'\n') {
                let end = self.start + offset;
                let line = self.take_line(end)?;
                self.start = end + 1;
                return Ok(Some(line));
            }
            if self.buffer.len() - self.start > self.max_line_bytes {
                return Err(BodyError::TooLarge(format!(
                    "line {} is longer than {} bytes",
                    self.line_number + 1,
                    self.max_line_bytes
                )));
            }
            if self.ended {
                if self.start < self.buffer.len() {
                    let end = self.buffer.len();
                    let line = self.take_line(end)?;
                    self.start = end;
                    return Ok(Some(line));
                }
                return Ok(None);
            }
            self.buffer.drain(..self.start);
            self.start = 0;
            match self.stream.next().await {
                None => self.ended = true,
                Some(Err(error)) => return Err(BodyError::Read(error.to_string())),
                Some(Ok(chunk)) => {
                    self.received += chunk.len() as u64;
                    if self.received > self.max_body_bytes {
                        return Err(BodyError::TooLarge(format!(
                            "the body is larger than {} bytes",
                            self.max_body_bytes
                        )));
                    }
                    self.buffer.extend_from_slice(&chunk);
                }
            }
        }
    }

    fn take_line(&mut self, end: usize) -> Result<(u64, String), BodyError> {
        self.line_number += 1;
        let mut bytes = &self.buffer[self.start..end];
        if let Some(stripped) = bytes.strip_suffix(b"\r") {
            bytes = stripped;
        }
        if bytes.len() > self.max_line_bytes {
            return Err(BodyError::TooLarge(format!(
                "line {} is longer than {} bytes",
                self.line_number, self.max_line_bytes
            )));
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok((self.line_number, text.to_owned())),
            Err(_) => Err(BodyError::Invalid {
                line: self.line_number,
                message: "not UTF-8 text".into(),
            }),
        }
    }
}

/// How a ping body must arrive: its size limit, the longest wait for its next bytes, and the
/// slowest average rate accepted once a read timeout's worth of time has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    pub max_bytes: u64,
    pub read_timeout: Duration,
    /// Bytes per second; 0: no minimum.
    pub min_bytes_per_sec: u64,
}

impl BodyLimits {
    /// The settings' limits with `max_bytes` as the size limit.
    pub fn of(config: &super::BackupConfig, max_bytes: u64) -> Self {
        Self {
            max_bytes,
            read_timeout: Duration::from_millis(config.ingest_read_timeout_ms.max(1)),
            min_bytes_per_sec: config.ingest_min_bytes_per_sec,
        }
    }
}

/// Reads a body chunk by chunk within its [`BodyLimits`]: a body that stalls or trickles is
/// given up (`TimedOut`), so a silent client holds no more than its socket.
pub struct BodyReader<S> {
    stream: S,
    limits: BodyLimits,
    started: Instant,
    received: u64,
}

impl<S, E> BodyReader<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    pub fn new(stream: S, limits: BodyLimits) -> Self {
        Self {
            stream,
            limits,
            started: Instant::now(),
            received: 0,
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The next chunk; `None` at the end of the body.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        let idle_deadline = Instant::now() + self.limits.read_timeout;
        let deadline = match self.limits.min_bytes_per_sec {
            0 => idle_deadline,
            rate => {
                let earned = Duration::from_secs_f64(self.received as f64 / rate as f64);
                idle_deadline.min(self.started + self.limits.read_timeout + earned)
            }
        };
        let next = tokio::time::timeout_at(deadline.into(), self.stream.next()).await;
        match next {
            Err(_) => Err(BodyError::TimedOut(format!(
                "the body stalled after {} bytes (read timeout {} ms, minimum rate {} bytes/s)",
                self.received,
                self.limits.read_timeout.as_millis(),
                self.limits.min_bytes_per_sec
            ))),
            Ok(None) => Ok(None),
            Ok(Some(Err(error))) => Err(BodyError::Read(error.to_string())),
            Ok(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                if self.received > self.limits.max_bytes {
                    return Err(BodyError::TooLarge(format!(
                        "the body is larger than {} bytes",
                        self.limits.max_bytes
                    )));
                }
                Ok(Some(chunk))
            }
        }
    }
}

/// Reads a whole text body (log text), keeping at most `limits.max_bytes`.
pub async fn read_text<S, E>(stream: S, limits: BodyLimits) -> Result<String, BodyError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let max_bytes = limits.max_bytes;
    let mut reader = BodyReader::new(stream, limits);
    let mut text = Vec::new();
    loop {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => text.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(BodyError::TooLarge(_)) => {
                return Err(BodyError::TooLarge(format!(
                    "the text is larger than {max_bytes} bytes"
                )))
            }
            Err(error) => return Err(error),
        }
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Reads a whole body (a failure's output), keeping only its last `keep_bytes` (cut at a
/// character boundary): the end of a log says why it failed.
pub async fn read_tail<S, E>(
    stream: S,
    keep_bytes: usize,
    limits: BodyLimits,
) -> Result<String, BodyError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut reader = BodyReader::new(stream, limits);
    let mut tail: Vec<u8> = Vec::with_capacity(keep_bytes.min(64 * 1024));
    while let Some(chunk) = reader.next_chunk().await? {
        tail.extend_from_slice(&chunk);
        if tail.len() > keep_bytes {
            tail.drain(..tail.len() - keep_bytes);
        }
    }
    // Never start inside a character (UTF-8 continuation bytes are 0b10xx_xxxx).
    let start = tail
        .iter()
        .take(3)
        .take_while(|byte| (**byte & 0b1100_0000) == 0b1000_0000)
        .count();
    Ok(String::from_utf8_lossy(&tail[start..]).into_owned())
}

/// A body received into a file of the staging folder (mode 0600, in a 0700 folder), removed
/// when dropped.
#[derive(Debug)]
pub struct StagedBody {
    path: PathBuf,
    pub bytes: u64,
}

impl StagedBody {
    /// Receives `stream` into a new file of `dir` within `limits`.
    pub async fn receive<S, E>(
        dir: &FsPath,
        stream: S,
        limits: BodyLimits,
    ) -> Result<Self, BodyError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let staging_failed = |error: std::io::Error| {
            BodyError::Staging(format!("staging the body in {}: {error}", dir.display()))
        };
        crate::platform::files::create_private_dir(dir).map_err(staging_failed)?;
        // Removed when dropped, whatever ends the reception.
        let mut staged = StagedBody {
            path: dir.join(format!("{}.body", uuid::Uuid::now_v7())),
            bytes: 0,
        };
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&staged.path)
            .await
            .map_err(staging_failed)?;
        let mut reader = BodyReader::new(stream, limits);
        while let Some(chunk) = reader.next_chunk().await? {
            file.write_all(&chunk).await.map_err(staging_failed)?;
        }
        file.flush().await.map_err(staging_failed)?;
        staged.bytes = reader.received();
        Ok(staged)
    }

    /// The staged bytes, as a stream of chunks.
    pub async fn stream(
        &self,
    ) -> std::io::Result<impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin> {
        let file = tokio::fs::File::open(&self.path).await?;
        Ok(Box::pin(futures::stream::unfold(
            Some(file),
            |file| async move {
                let mut file = file?;
                let mut buffer = vec![0u8; 64 * 1024];
                match file.read(&mut buffer).await {
                    Ok(0) => None,
                    Ok(read) => {
                        buffer.truncate(read);
                        Some((Ok(Bytes::from(buffer)), Some(file)))
                    }
                    Err(error) => Some((Err(error), None)),
                }
            },
        )))
    }
}

impl Drop for StagedBody {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&str]) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> {
        let parts: Vec<Result<Bytes, std::convert::Infallible>> = parts
            .iter()
            .map(|part| Ok(Bytes::copy_from_slice(part.as_bytes())))
            .collect();
        futures::stream::iter(parts)
    }

    async fn lines(parts: &[&str], max_line: usize) -> Result<Vec<(u64, String)>, BodyError> {
        let mut reader = LineReader::new(chunks(parts), 1024, max_line);
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().await? {
            lines.push(line);
        }
        Ok(lines)
    }

    #[tokio::test]
    async fn lines_split_across_chunks_are_joined_and_numbered() {
        let lines = lines(&["ab", "c\r\nd", "e\n\nf"], 10).await.expect("reads");
        assert_eq!(
            lines,
            vec![
                (1, "abc".to_owned()),
                (2, "de".to_owned()),
                (3, String::new()),
                (4, "f".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_refused_without_waiting_for_its_end() {
        let error = lines(&["ok\n", "0123456789", "0123456789"], 10)
            .await
            .expect_err("too long");
        assert_eq!(
            error,
            BodyError::TooLarge("line 2 is longer than 10 bytes".into())
        );
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        let big = "x\n".repeat(600);
        let mut reader = LineReader::new(chunks(&[&big]), 1024, 10);
        let error = reader.next_line().await.expect_err("too large");
        assert!(matches!(error, BodyError::TooLarge(_)), "{error:?}");
    }

    fn limits(read_timeout_ms: u64, min_bytes_per_sec: u64) -> BodyLimits {
        BodyLimits {
            max_bytes: 1 << 20,
            read_timeout: Duration::from_millis(read_timeout_ms),
            min_bytes_per_sec,
        }
    }

    #[tokio::test]
    async fn a_failure_keeps_the_last_bytes_of_its_body_without_splitting_a_character() {
        // "ééé" + "end": the last 6 bytes start inside the first "é".
        let tail = read_tail(chunks(&["aaaa", "ééé", "end"]), 6, limits(5_000, 0))
            .await
            .expect("reads");
        assert_eq!(tail, "éend");
        let whole = read_tail(chunks(&["short"]), 6, limits(5_000, 0))
            .await
            .expect("reads");
        assert_eq!(whole, "short");
    }

    #[tokio::test]
    async fn a_body_that_stalls_is_given_up_after_the_read_timeout() {
        let stalled = chunks(&["{\"path\":"]).chain(futures::stream::pending());
        let started = Instant::now();
        let error = read_text(stalled, limits(100, 0))
            .await
            .expect_err("stalled");
        assert!(matches!(error, BodyError::TimedOut(_)), "{error:?}");
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_body_under_the_minimum_rate_is_given_up_although_never_idle() {
        // A byte every 20 ms (50 bytes/s) never waits 200 ms, but the 1000 bytes/s allowance
        // runs out 200 ms (+ 1 ms a byte received) after the start.
        let trickle = futures::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from_static(b"x")),
                (),
            ))
        });
        let started = Instant::now();
        let error = read_text(Box::pin(trickle), limits(200, 1_000))
            .await
            .expect_err("too slow");
        assert!(matches!(error, BodyError::TimedOut(_)), "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn invalid_utf8_names_its_line() {
        let parts: Vec<Result<Bytes, std::convert::Infallible>> =
            vec![Ok(Bytes::from_static(b"ok\n\xff\xfe\n"))];
        let mut reader = LineReader::new(futures::stream::iter(parts), 1024, 10);
        assert!(reader.next_line().await.is_ok());
        assert_eq!(
            reader.next_line().await,
            Err(BodyError::Invalid {
                line: 2,
                message: "not UTF-8 text".into()
            })
        );
    }
}
