//! Writing and reading frames.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::snapshot::{LoggedState, SnapshotEntry};
use crate::{FORMAT_VERSION, Header, MAGIC, OLDEST_READABLE_VERSION, TickEntry};

const KIND_HEADER: u8 = 1;
const KIND_TICK: u8 = 2;
const KIND_SNAPSHOT: u8 = 3;
/// Frames larger than this are taken for damage, not data.
const MAX_FRAME: usize = 1 << 30;
/// How often the writer pushes buffered records to the file.
const FLUSH_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a chokepoint run log: {0}")]
    NotALog(String),
    #[error(
        "this run log has format version {found}; this chokepoint reads version {expected} (and older versions from {oldest}); replay it with the chokepoint version that wrote it (see the header's engine_version)"
    )]
    Version {
        found: u32,
        expected: u32,
        oldest: u32,
    },
    #[error("the run log's header is damaged: {0}")]
    Header(String),
    #[error("cannot encode a record: {0}")]
    Encode(String),
}

fn checksum(kind: u8, payload: &[u8]) -> [u8; 8] {
    let mut h = blake3::Hasher::new();
    h.update(&[kind]);
    h.update(payload);
    h.finalize().as_bytes()[..8].try_into().expect("8 bytes")
}

fn frame(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(kind, payload));
}

/// Appends records to a log file as the run goes.
pub struct LogWriter {
    out: BufWriter<File>,
    path: PathBuf,
    buf: Vec<u8>,
    payload: Vec<u8>,
    last_flush: Instant,
    bytes: u64,
    snapshot_every: u64,
}

impl LogWriter {
    /// Create the file and write the magic, version and header, flushed at once.
    pub fn create(path: &Path, header: &Header) -> Result<Self, LogError> {
        let io = |source| LogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::create(path).map_err(io)?;
        let mut w = LogWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            path: path.to_path_buf(),
            buf: Vec::new(),
            payload: Vec::new(),
            last_flush: Instant::now(),
            bytes: 0,
            snapshot_every: header.snapshot_every,
        };
        w.buf.extend_from_slice(MAGIC);
        w.buf.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let json = serde_json::to_vec(header).map_err(|e| LogError::Encode(e.to_string()))?;
        frame(KIND_HEADER, &json, &mut w.buf);
        w.emit()?;
        w.flush()?;
        Ok(w)
    }

    fn emit(&mut self) -> Result<(), LogError> {
        self.out
            .write_all(&self.buf)
            .map_err(|source| LogError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Append one tick. Records reach the file at least every half second and on
    /// [`flush`](Self::flush); a run killed between flushes leaves a log that reads to
    /// its last whole record.
    pub fn write_tick(&mut self, entry: &TickEntry) -> Result<(), LogError> {
        self.payload.clear();
        let payload = postcard::to_extend(entry, std::mem::take(&mut self.payload))
            .map_err(|e| LogError::Encode(e.to_string()))?;
        frame(KIND_TICK, &payload, &mut self.buf);
        self.payload = payload;
        self.emit()?;
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Append one tick of `sim` (which has just run it; `entry.digest` is its state
    /// digest) and, when the header's `snapshot_every` says so, a snapshot of its state:
    /// what a run calls after each tick.
    pub fn write_tick_of(
        &mut self,
        sim: &chokepoint_engine::Simulation,
        entry: &TickEntry,
    ) -> Result<(), LogError> {
        self.write_tick(entry)?;
        if self.snapshot_every > 0 && (entry.tick + 1).is_multiple_of(self.snapshot_every) {
            // The check is on the state as replay will read it back (through the log's
            // mirror types), restored as `Simulation::from_state` restores it: it must
            // have the run's digest. No snapshot if it does not (should the engine gain
            // state snapshots do not carry), or if the mirror cannot name a string the
            // engine wrote (a history kind, say): `replay --to` then seeks from an
            // earlier one or replays from tick 0.
            let state = LoggedState::from_engine(&sim.engine_state());
            if let Ok(back) = state.to_engine()
                && sim.restores_digest(&back, entry.digest)
            {
                self.write_snapshot(&SnapshotEntry {
                    tick: entry.tick,
                    state,
                })?;
            }
        }
        Ok(())
    }

    /// Append a snapshot of the state after tick `snapshot.tick` (written after that
    /// tick's record).
    pub fn write_snapshot(&mut self, snapshot: &SnapshotEntry) -> Result<(), LogError> {
        self.payload.clear();
        let payload = postcard::to_extend(snapshot, std::mem::take(&mut self.payload))
            .map_err(|e| LogError::Encode(e.to_string()))?;
        frame(KIND_SNAPSHOT, &payload, &mut self.buf);
        self.payload = payload;
        self.emit()
    }

    pub fn flush(&mut self) -> Result<(), LogError> {
        self.last_flush = Instant::now();
        self.out.flush().map_err(|source| LogError::Io {
            path: self.path.clone(),
            source,
        })
    }

    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// What a log holds, read up to its last whole record.
#[derive(Debug, Clone, PartialEq)]
pub struct LogContents {
    pub header: Header,
    pub ticks: Vec<TickEntry>,
    /// Snapshots in tick order, each taken after the tick it names.
    pub snapshots: Vec<SnapshotEntry>,
    /// Why reading stopped before the end of the file, if it did (a cut or damaged
    /// record): the records before it are intact.
    pub stopped: Option<String>,
}

pub fn read_log_file(path: &Path) -> Result<LogContents, LogError> {
    let bytes = std::fs::read(path).map_err(|source| LogError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_log(&bytes)
}

/// Read a log. Fails only when there is no usable header; a damaged or cut record
/// ends the reading there, with the reason in [`LogContents::stopped`].
pub fn read_log(bytes: &[u8]) -> Result<LogContents, LogError> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(LogError::NotALog("it does not start with CHOKELOG".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(LogError::Version {
            found: version,
            expected: FORMAT_VERSION,
            oldest: OLDEST_READABLE_VERSION,
        });
    }
    let mut frames = Frames {
        bytes,
        at: 12,
        last_start: 12,
    };
    let header = match frames.next() {
        Some(Ok((KIND_HEADER, payload))) => serde_json::from_slice::<Header>(payload)
            .map_err(|e| LogError::Header(e.to_string()))?,
        Some(Ok((kind, _))) => {
            return Err(LogError::Header(format!(
                "the first record has kind {kind}, not a header"
            )));
        }
        Some(Err(why)) => return Err(LogError::Header(why)),
        None => return Err(LogError::Header("the file ends before the header".into())),
    };
    let mut ticks: Vec<TickEntry> = Vec::new();
    let mut snapshots: Vec<SnapshotEntry> = Vec::new();
    let mut stopped = None;
    while let Some(next) = frames.next() {
        let at = frames.last_start;
        match next {
            Err(why) => {
                stopped = Some(why);
                break;
            }
            Ok((KIND_TICK, payload)) => match postcard::from_bytes::<TickEntry>(payload) {
                Ok(t) => {
                    let expected = ticks.last().map_or(0, |p| p.tick + 1);
                    if t.tick != expected {
                        stopped = Some(format!(
                            "record at byte {at} is for tick {}, expected tick {expected}",
                            t.tick
                        ));
                        break;
                    }
                    ticks.push(t);
                }
                Err(e) => {
                    stopped = Some(format!("record at byte {at} does not decode: {e}"));
                    break;
                }
            },
            Ok((KIND_SNAPSHOT, payload)) => match postcard::from_bytes::<SnapshotEntry>(payload) {
                Ok(s) => {
                    let last = ticks.last().map(|t| t.tick);
                    if last != Some(s.tick) || s.state.next_tick != s.tick + 1 {
                        stopped = Some(format!(
                            "snapshot at byte {at} is for tick {}, but follows {}",
                            s.tick,
                            last.map_or("no tick".to_string(), |t| format!("tick {t}"))
                        ));
                        break;
                    }
                    snapshots.push(s);
                }
                Err(e) => {
                    stopped = Some(format!("snapshot at byte {at} does not decode: {e}"));
                    break;
                }
            },
            Ok((kind, _)) => {
                stopped = Some(format!("record at byte {at} has unknown kind {kind}"));
                break;
            }
        }
    }
    Ok(LogContents {
        header,
        ticks,
        snapshots,
        stopped,
    })
}

struct Frames<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Where the record last returned (or refused) starts.
    last_start: usize,
}

impl<'a> Frames<'a> {
    fn next(&mut self) -> Option<Result<(u8, &'a [u8]), String>> {
        self.last_start = self.at;
        let rest = &self.bytes[self.at..];
        if rest.is_empty() {
            return None;
        }
        let start = self.at;
        if rest.len() < 13 {
            return Some(Err(format!(
                "the file ends inside the record at byte {start} (cut off mid-write)"
            )));
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        if len > MAX_FRAME {
            return Some(Err(format!(
                "record at byte {start} claims {len} bytes: damaged"
            )));
        }
        if rest.len() < 4 + 1 + len + 8 {
            return Some(Err(format!(
                "the file ends inside the record at byte {start} (cut off mid-write)"
            )));
        }
        let kind = rest[4];
        let payload = &rest[5..5 + len];
        let sum: [u8; 8] = rest[5 + len..13 + len].try_into().expect("8 bytes");
        if sum != checksum(kind, payload) {
            return Some(Err(format!(
                "record at byte {start} is damaged (checksum mismatch)"
            )));
        }
        self.at += 13 + len;
        Some(Ok((kind, payload)))
    }
}
