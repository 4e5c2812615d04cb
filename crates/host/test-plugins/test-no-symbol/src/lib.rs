//! A shared library that is not a chokepoint strategy: no handshake symbol.

#[unsafe(no_mangle)]
pub extern "C" fn something_else() -> u32 {
    7
}
