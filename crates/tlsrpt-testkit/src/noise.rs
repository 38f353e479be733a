//! Bytes that gzip cannot shrink, for tests that need inputs whose kept (compressed) form
//! is as large as they are.

/// `len` pseudo-random bytes from `seed` (xorshift64): the same for the same seed.
pub fn incompressible(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
