//! A loaded plugin library: handshake first, then the function table.
//!
//! A process loads each library once. [`Plugin::shared`] keeps every library it loaded
//! (by the path it was found at) for the process's life, so the thousands of runs of a
//! batch read, hash and `dlopen` each strategy once instead of once per run: the per-run
//! cost was a file read and two hashes of every library, and the handles and boxes it
//! leaked made a batch's memory grow with its number of runs. Sharing is safe because a
//! `Plugin` is only the library's static function table and provenance; every run still
//! creates its own instances with `create` and frees them with `destroy`. The cached
//! hashes are those of the bytes that were loaded, which is also what `dlopen` keeps
//! running if the file is rebuilt while the process lives (it returns the library
//! already loaded under that name).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chokepoint_abi as abi;
use libloading::Library;

use crate::HostError;

/// A strategy library, loaded once and never unloaded.
pub struct Plugin {
    pub name: String,
    pub path: PathBuf,
    pub abi_version: u32,
    /// BLAKE3 of the library file, for provenance.
    pub hash: String,
    /// SHA-256 of the library file (hex), the digest provenance records usually quote
    /// (`sha256sum` checks it without chokepoint).
    pub sha256: String,
    api: &'static abi::StrategyApi,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("abi_version", &self.abi_version)
            .finish_non_exhaustive()
    }
}

/// What [`Plugin::shared`] found at a path: filled once, by the first caller.
type Slot = Arc<OnceLock<Result<Arc<Plugin>, HostError>>>;

/// Libraries this process loaded through [`Plugin::shared`], and refusals that are final
/// for the process (the library is resident and would answer the same again).
static LOADED: Mutex<BTreeMap<PathBuf, Slot>> = Mutex::new(BTreeMap::new());

/// Library files read and hashed by this process (every [`Plugin::load`]).
static FILES_READ: AtomicU64 = AtomicU64::new(0);

impl Plugin {
    /// The library at `path`, loaded by the first call for that path in this process and
    /// shared by every later one (see the module docs). A library that cannot be read or
    /// opened is tried again next time; one that opened but was refused (missing symbol,
    /// other ABI version) stays refused, with the same error.
    pub fn shared(path: &Path) -> Result<Arc<Plugin>, HostError> {
        // The map's lock only finds the path's slot; the slot makes other callers for the
        // same path wait for its one load, while different libraries load in parallel.
        let slot: Slot = LOADED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(path.to_path_buf())
            .or_default()
            .clone();
        let result = slot
            .get_or_init(|| Plugin::load(path).map(Arc::new))
            .clone();
        if matches!(result, Err(HostError::NotLoadable { .. })) {
            let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
            if loaded.get(path).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                loaded.remove(path);
            }
        }
        result
    }

    /// How many library files this process has read and hashed (each [`Plugin::load`]):
    /// with [`Plugin::shared`], one per distinct library however many runs use it.
    pub fn files_read() -> u64 {
        FILES_READ.load(Ordering::Relaxed)
    }

    /// Load `path` afresh: read and hash the file, `dlopen` it, check the ABI version
    /// before calling anything else, then fetch the function table. Runs use
    /// [`Plugin::shared`]; this is for tools and tests that want the checks themselves.
    pub fn load(path: &Path) -> Result<Self, HostError> {
        FILES_READ.fetch_add(1, Ordering::Relaxed);
        let bytes = std::fs::read(path).map_err(|e| HostError::NotLoadable {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let hash = blake3::hash(&bytes).to_hex().to_string();
        let sha256 = sha256_hex(&bytes);
        // SAFETY: loading runs the library's initialisers; a chokepoint plugin is Rust code
        // built with the SDK. We cannot protect against a malicious library, only refuse
        // wrong ones before calling into them.
        let lib = unsafe { Library::new(path) }.map_err(|e| HostError::NotLoadable {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // Never unload (see the crate docs).
        let lib: &'static Library = Box::leak(Box::new(lib));
        let missing = |symbol: &std::ffi::CStr| HostError::MissingSymbol {
            path: path.to_path_buf(),
            symbol: symbol.to_string_lossy().into_owned(),
        };
        // SAFETY: the symbol's type is fixed by the ABI crate; we only call it.
        let version_fn = unsafe { lib.get::<abi::AbiVersionFn>(abi::ABI_VERSION_SYMBOL) }
            .map_err(|_| missing(abi::ABI_VERSION_SYMBOL))?;
        // SAFETY: as above; the function takes nothing and returns a u32.
        let found = unsafe { version_fn() };
        if found != abi::ABI_VERSION {
            return Err(HostError::AbiMismatch {
                plugin: plugin_stem(path),
                path: path.to_path_buf(),
                found,
                expected: abi::ABI_VERSION,
            });
        }
        // SAFETY: same ABI version, so the entry symbol has the declared type.
        let entry = unsafe { lib.get::<abi::EntryFn>(abi::ENTRY_SYMBOL) }
            .map_err(|_| missing(abi::ENTRY_SYMBOL))?;
        // SAFETY: the entry returns a pointer to a static table in the (never unloaded) library.
        let api = unsafe { entry() };
        if api.is_null() {
            return Err(HostError::NotLoadable {
                path: path.to_path_buf(),
                message: "the entry point returned no function table".into(),
            });
        }
        // SAFETY: non-null, static for the life of the library, which is the process.
        let api: &'static abi::StrategyApi = unsafe { &*api };
        if api.abi_version != abi::ABI_VERSION
            || api.size as usize != std::mem::size_of::<abi::StrategyApi>()
        {
            return Err(HostError::AbiMismatch {
                plugin: plugin_stem(path),
                path: path.to_path_buf(),
                found: api.abi_version,
                expected: abi::ABI_VERSION,
            });
        }
        // SAFETY: the name is static text in the library.
        let name = String::from_utf8_lossy(unsafe { api.name.as_slice() }).into_owned();
        Ok(Plugin {
            name,
            path: path.to_path_buf(),
            abi_version: found,
            hash,
            sha256,
            api,
        })
    }

    /// The plugin's function table (for benchmarks and tools that drive it directly).
    pub fn api(&self) -> &'static abi::StrategyApi {
        self.api
    }
}

/// A library's name without platform prefix and suffix: `libfoo_bar.so` -> `foo_bar`.
fn plugin_stem(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    stem.strip_prefix("lib").map(str::to_string).unwrap_or(stem)
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
