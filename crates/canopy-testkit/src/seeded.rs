//! A seeded, reproducible byte generator for tests.

use std::sync::Mutex;

use canopy_crypto::CryptoError;
use canopy_crypto_rustcrypto::RandomSource;
use sha2::{Digest, Sha256};

/// Reproducible "random" bytes: block `i` of the stream is `SHA-256(seed || i)`.
///
/// Not a cryptographic generator (anyone who knows the seed knows every output): for tests
/// only, where a failure must replay exactly.
#[derive(Debug)]
pub struct SeededRandom {
    seed: u64,
    state: Mutex<Stream>,
}

#[derive(Debug, Default)]
struct Stream {
    counter: u64,
    buffer: [u8; 32],
    used: usize,
}

impl SeededRandom {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            state: Mutex::new(Stream {
                used: 32,
                ..Stream::default()
            }),
        }
    }

    /// The seed this generator started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        let mut stream = self.state.lock().map_err(|_| CryptoError::Random)?;
        for byte in out.iter_mut() {
            if stream.used >= stream.buffer.len() {
                let block = Sha256::new()
                    .chain_update(self.seed.to_be_bytes())
                    .chain_update(stream.counter.to_be_bytes())
                    .finalize();
                stream.buffer.copy_from_slice(&block);
                stream.counter = stream.counter.wrapping_add(1);
                stream.used = 0;
            }
            *byte = stream.buffer.get(stream.used).copied().unwrap_or(0);
            stream.used = stream.used.saturating_add(1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_seeds_differ() {
        let (a, b, c) = (
            SeededRandom::new(7),
            SeededRandom::new(7),
            SeededRandom::new(8),
        );
        let mut x = [0u8; 45];
        let mut y = [0u8; 45];
        let mut z = [0u8; 45];
        a.fill(&mut x).unwrap();
        // Two calls of 20 and 25 bytes give the same stream as one of 45.
        b.fill(&mut y[..20]).unwrap();
        b.fill(&mut y[20..]).unwrap();
        c.fill(&mut z).unwrap();
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_ne!(x[..32], x[13..45]);
    }
}
