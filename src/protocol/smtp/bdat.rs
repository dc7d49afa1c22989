//! The BDAT receiver: exactly `size` octets per chunk, no terminator, no
//! dot-stuffing (RFC 3030 §2–§4, CHUNKING and BINARYMIME), with the
//! message size limit of RFC 1870 applied across chunks.
//!
//! Owns: [`BdatReceiver`], one per transaction, fed the bytes after each
//! `BDAT` line until the chunk is complete; and [`ChunkSkipper`], which
//! drains the chunk of a BDAT the session refused (bad sequence, no
//! CHUNKING, failed transaction) — the octets follow the command whatever
//! the answer, so they must be read to find the next command (RFC 3030
//! §2: "the receiver-SMTP MUST consume the chunk").
//!
//! A chunk that would take the message over the limit is known to be too
//! big from its declared size: nothing of it is written, it is drained,
//! and every later chunk of the transaction is drained too.
//!
//! Must not: decide replies for sequencing (the session asks
//! [`super::Sequencer`]) or keep more than `max_size` octets in the sink.

use super::data::{DataSink, Progress};
use super::reply::Reply;

/// How one BDAT chunk ended; the chunk's octets are consumed in every
/// case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// A non-LAST chunk was stored: answer [`Reply::bdat_chunk`].
    Accepted {
        /// Octets in this chunk.
        size: u64,
    },
    /// The LAST chunk was stored: the message is complete in the sink.
    Complete {
        /// Octets in the whole message.
        size: u64,
    },
    /// The message is over the size limit: answer `552 5.3.4` and end
    /// the transaction.
    TooBig,
}

impl ChunkOutcome {
    /// The refusal to send, `None` if the chunk was stored.
    pub fn reply(&self) -> Option<Reply> {
        match self {
            ChunkOutcome::TooBig => Some(Reply::message_too_big()),
            ChunkOutcome::Accepted { .. } | ChunkOutcome::Complete { .. } => None,
        }
    }
}

/// Receives the chunks of one BDAT transaction.
#[derive(Debug, Clone)]
pub struct BdatReceiver {
    max_size: u64,
    total: u64,
    chunk: Option<Chunk>,
    too_big: bool,
}

#[derive(Debug, Clone, Copy)]
struct Chunk {
    size: u64,
    remaining: u64,
    last: bool,
}

impl BdatReceiver {
    /// A receiver for one transaction with a message limit in octets.
    pub fn new(max_size: u64) -> Self {
        BdatReceiver {
            max_size,
            total: 0,
            chunk: None,
            too_big: false,
        }
    }

    /// Starts receiving the chunk announced by `BDAT size [LAST]`.
    pub fn begin_chunk(&mut self, size: u64, last: bool) {
        self.total = self.total.saturating_add(size);
        if self.total > self.max_size {
            self.too_big = true;
        }
        self.chunk = Some(Chunk {
            size,
            remaining: size,
            last,
        });
    }

    /// Consumes chunk octets from `input` (the rest is the next pipelined
    /// command) and writes them to `sink` unless the message is too big.
    /// Without a chunk in progress it consumes nothing.
    pub fn feed<S: DataSink + ?Sized>(
        &mut self,
        input: &[u8],
        sink: &mut S,
    ) -> Progress<ChunkOutcome> {
        let Some(chunk) = &mut self.chunk else {
            return Progress {
                consumed: 0,
                outcome: None,
            };
        };
        let take = usize::try_from(chunk.remaining).map_or(input.len(), |r| r.min(input.len()));
        if !self.too_big {
            sink.write(&input[..take]);
        }
        chunk.remaining -= take as u64;
        let chunk = *chunk;
        let outcome = (chunk.remaining == 0).then(|| {
            self.chunk = None;
            if self.too_big {
                ChunkOutcome::TooBig
            } else if chunk.last {
                ChunkOutcome::Complete { size: self.total }
            } else {
                ChunkOutcome::Accepted { size: chunk.size }
            }
        });
        Progress {
            consumed: take,
            outcome,
        }
    }

    /// Whether a chunk is still being received.
    pub fn in_chunk(&self) -> bool {
        self.chunk.is_some()
    }

    /// Octets announced so far in this transaction.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// Drains the chunk of a refused BDAT command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSkipper {
    remaining: u64,
}

impl ChunkSkipper {
    /// Skips `size` octets.
    pub fn new(size: u64) -> Self {
        ChunkSkipper { remaining: size }
    }

    /// Consumes chunk octets from `input`; `outcome` is `Some(())` once
    /// the whole chunk is gone (immediately for a zero-size chunk).
    pub fn feed(&mut self, input: &[u8]) -> Progress<()> {
        let take = usize::try_from(self.remaining).map_or(input.len(), |r| r.min(input.len()));
        self.remaining -= take as u64;
        Progress {
            consumed: take,
            outcome: (self.remaining == 0).then_some(()),
        }
    }
}
