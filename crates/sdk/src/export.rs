//! The C entry points behind [`export_strategy!`](crate::export_strategy).
//!
//! Each function catches panics here, inside the plugin: a panic unwinding out of an
//! `extern "C"` function aborts the whole process, and the host cannot catch it because
//! the plugin's std is not the host's. A caught panic becomes [`Status::Panicked`] with
//! its message in the engine's error buffer.

#![expect(
    clippy::not_unsafe_ptr_arg_deref,
    reason = "these functions are the plugin side of the C ABI: the engine is the only caller and the ABI contract makes every pointer valid for the call; their types must be the safe `extern \"C\" fn` of the function table"
)]

use std::any::Any;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chokepoint_abi::{self as abi, ActionSink, ErrorBuf, HostApi, Status, Str};

use crate::{Actions, Context, Logger, Observation, Params, Strategy};

fn write_error(err: *mut ErrorBuf, msg: &str) {
    if err.is_null() {
        return;
    }
    // SAFETY: the engine passes a valid buffer of `cap` bytes for the call.
    unsafe {
        let buf = &mut *err;
        let mut n = msg.len().min(buf.cap);
        while n > 0 && !msg.is_char_boundary(n) {
            n -= 1;
        }
        if !buf.ptr.is_null() {
            std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.ptr, n);
        }
        buf.len = n;
    }
}

fn panic_message(p: Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

pub extern "C" fn create<S: Strategy>(
    params: Str,
    seed: u64,
    host: HostApi,
    instance: *mut *mut c_void,
    err: *mut ErrorBuf,
) -> Status {
    let made = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the engine's params text is valid for the call.
        let bytes = unsafe { params.as_slice() };
        let text = std::str::from_utf8(bytes).map_err(|_| "params are not UTF-8".to_string())?;
        let params = Params::parse(text)?;
        S::create(&params, &Context::new(seed, Logger::new(Some(host))))
    }));
    match made {
        Ok(Ok(s)) => {
            if instance.is_null() {
                write_error(err, "null instance pointer");
                return Status::Error;
            }
            // SAFETY: `instance` is a valid out-pointer from the engine.
            unsafe { *instance = Box::into_raw(Box::new(s)).cast() };
            Status::Ok
        }
        Ok(Err(msg)) => {
            write_error(err, &msg);
            Status::Error
        }
        Err(p) => {
            write_error(err, &panic_message(p));
            Status::Panicked
        }
    }
}

pub extern "C" fn decide<S: Strategy>(
    instance: *mut c_void,
    obs: *const abi::Observation,
    sink: *mut ActionSink,
    err: *mut ErrorBuf,
) -> Status {
    if instance.is_null() || obs.is_null() || sink.is_null() {
        write_error(err, "null pointer passed to decide");
        return Status::Error;
    }
    let done = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `instance` came from `create::<S>`; `obs` and `sink` are valid for the
        // call, as the ABI contract says.
        let (strategy, obs, sink) = unsafe {
            (
                &mut *instance.cast::<S>(),
                Observation::from_raw(&*obs),
                &mut *sink,
            )
        };
        strategy.decide(&obs, &mut Actions::from_sink(sink));
    }));
    match done {
        Ok(()) => Status::Ok,
        Err(p) => {
            write_error(err, &panic_message(p));
            Status::Panicked
        }
    }
}

pub extern "C" fn destroy<S: Strategy>(instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: made by `create::<S>` with Box::into_raw, destroyed once by the host.
        drop(unsafe { Box::from_raw(instance.cast::<S>()) });
    }));
}

/// Export a [`Strategy`](crate::Strategy) as a plugin: writes the handshake symbol and
/// the function table the engine loads. Use once per crate, with the strategy's name
/// (the one world files bind with `strategy = "..."`).
#[macro_export]
macro_rules! export_strategy {
    ($ty:ty, $name:literal) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn chokepoint_abi_version() -> u32 {
            $crate::abi::ABI_VERSION
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn chokepoint_strategy() -> *const $crate::abi::StrategyApi {
            static API: $crate::abi::StrategyApi = $crate::abi::StrategyApi {
                abi_version: $crate::abi::ABI_VERSION,
                size: ::core::mem::size_of::<$crate::abi::StrategyApi>() as u32,
                name: $crate::abi::View {
                    ptr: $name.as_ptr(),
                    len: $name.len(),
                },
                create: $crate::export::create::<$ty>,
                decide: $crate::export::decide::<$ty>,
                destroy: $crate::export::destroy::<$ty>,
            };
            &API
        }
    };
}
