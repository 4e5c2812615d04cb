//! The cost of the plugin boundary: one `decide` of a trivial strategy (one action)
//! called through the C ABI of its real shared library, against the same strategy type
//! called directly in-process on the same observation.
//!
//! cargo bench -p chokepoint-benches --bench plugin_call -- --warm-up-time 1 --measurement-time 3

use std::ffi::c_void;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

use chokepoint_abi as abi;
use chokepoint_host::Plugin;
use chokepoint_sdk::testing::{self, ObservationBuilder};
use chokepoint_sdk::{Actions, Observation, Strategy};
use criterion::{Criterion, criterion_group, criterion_main};
use test_strategy::TestStrategy;

/// Build the test strategy's shared library and return its path.
fn build_library() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "--release",
            "--quiet",
            "--message-format=json",
            "-p",
            "test-strategy",
        ])
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = libloading::library_filename("test_strategy")
        .to_string_lossy()
        .into_owned();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("compiler-artifact") && l.contains("cdylib"))
        .flat_map(|l| {
            l.split('"')
                .filter(|s| s.ends_with(&file))
                .map(PathBuf::from)
                .collect::<Vec<_>>()
        })
        .next()
        .expect("cdylib path in cargo's output")
}

extern "C" fn push(ctx: *mut c_void, a: *const abi::Action) {
    // SAFETY: ctx is the Vec below, a is valid for the call.
    unsafe { (*(ctx as *mut Vec<abi::Action>)).push(*a) };
}

/// The trivial strategy makes no negotiation moves.
extern "C" fn push_neg(_: *mut c_void, _: *const abi::NegAction) {}

extern "C" fn log(_: *mut c_void, _: u32, _: abi::Str) {}

fn observation() -> ObservationBuilder {
    let nations = [
        "Australia",
        "China",
        "EU",
        "Japan",
        "Rest of world",
        "South Korea",
        "United States",
    ];
    let markets = [
        ("gallium", "primary", 2.2e5),
        ("gallium", "refined", 5e5),
        ("rare-earths", "mined", 5e3),
        ("rare-earths", "oxide", 6.9e4),
        ("rare-earths", "magnet", 6e4),
    ];
    let mut b = ObservationBuilder::new(&nations, &markets)
        .me("United States")
        .tick(5);
    for (c, s, p) in markets {
        for n in nations {
            b = b.price(c, s, n, p);
        }
    }
    b
}

fn bench(c: &mut Criterion) {
    let plugin = Plugin::load(&build_library()).expect("load the test strategy");
    let api = plugin.api();
    let params = "mode = \"trivial\"\n";
    let mut instance: *mut c_void = std::ptr::null_mut();
    let mut buf = vec![0u8; 256];
    let mut err = abi::ErrorBuf {
        ptr: buf.as_mut_ptr(),
        cap: buf.len(),
        len: 0,
    };
    let host = abi::HostApi {
        ctx: std::ptr::null_mut(),
        log,
    };
    assert_eq!(
        (api.create)(
            abi::View::of(params.as_bytes()),
            1,
            host,
            &mut instance,
            &mut err
        ),
        abi::Status::Ok
    );
    let mut direct: TestStrategy = testing::create(params, 1).unwrap();
    let obs = observation();
    let mut actions: Vec<abi::Action> = Vec::with_capacity(16);

    let mut g = c.benchmark_group("plugin_call");
    obs.with_raw(|raw| {
        g.bench_function("ffi", |b| {
            b.iter(|| {
                actions.clear();
                let mut sink = abi::ActionSink {
                    ctx: &mut actions as *mut _ as *mut c_void,
                    push,
                    push_neg,
                };
                let status = (api.decide)(instance, black_box(raw), &mut sink, &mut err);
                black_box((status, actions.len()))
            })
        });
        g.bench_function("direct", |b| {
            b.iter(|| {
                actions.clear();
                // SAFETY: the raw observation is valid for this closure.
                let o = unsafe { Observation::from_raw(black_box(raw)) };
                direct.decide(&o, &mut Actions::collect_into(&mut actions));
                black_box(actions.len())
            })
        });
    });
    g.finish();
    (api.destroy)(instance);
}

criterion_group!(benches, bench);
criterion_main!(benches);
