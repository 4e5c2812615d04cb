//! A library that answers the handshake with another ABI version: the host must refuse it
//! before calling anything else (it has no entry point to call anyway).

#[unsafe(no_mangle)]
pub extern "C" fn chokepoint_abi_version() -> u32 {
    chokepoint_abi::ABI_VERSION + 998
}
