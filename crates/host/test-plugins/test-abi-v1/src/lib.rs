//! A plugin built before negotiation: it answers the handshake with ABI version 1. The
//! host must refuse it, naming the plugin, its version and the host's.

#[unsafe(no_mangle)]
pub extern "C" fn chokepoint_abi_version() -> u32 {
    1
}
