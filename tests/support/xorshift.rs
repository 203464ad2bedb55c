//! A seeded xorshift64 generator, for deterministic file mutations in the loader tests
//! (`#[path = "support/xorshift.rs"] mod xorshift;`).

pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
