//! Unit tests for the SMTP codec. Every stream-level test runs its input
//! whole, byte-at-a-time and in random chunks ([`chunkings`]) and demands
//! the same result from each.

mod address_tests;
mod bdat_tests;
mod command_tests;
mod data_tests;
mod line_tests;
mod reply_tests;
mod roundtrip;
mod state_tests;

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The ways a stream test splits its input: whole, one byte per feed,
/// and several random chunkings (chunks of 1 to 17 bytes).
pub(super) fn chunkings(input: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = vec![vec![input], input.chunks(1).collect()];
    for seed in 1..=8 {
        let mut rng = Rng::new(seed);
        let mut chunks = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let n = (1 + rng.below(17)).min(rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        out.push(chunks);
    }
    out
}
