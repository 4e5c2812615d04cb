//! Where plugin libraries are looked for, in order: an explicit path in the world file,
//! `--agents` directories, `CHOKEPOINT_AGENT_PATH`, then the directory of the running
//! executable (the workspace's `target/<profile>`, where `cargo build` puts the bundled
//! agents; from a test binary in `target/<profile>/deps`, its parent).

use std::path::{Path, PathBuf};

use crate::HostError;

#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    /// Directories from `--agents`, in order.
    pub agent_dirs: Vec<PathBuf>,
    /// The world file's directory, for relative explicit paths.
    pub world_dir: Option<PathBuf>,
}

impl SearchPath {
    /// `--agents` dirs plus the world file's dir.
    pub fn new(agent_dirs: Vec<PathBuf>, world_file: Option<&Path>) -> Self {
        SearchPath {
            agent_dirs,
            world_dir: world_file.and_then(|p| p.parent().map(Path::to_path_buf)),
        }
    }

    /// The file name a strategy's library has on this platform
    /// (`china-controls` -> `libchina_controls.so`).
    pub fn file_name(strategy: &str) -> String {
        libloading::library_filename(strategy.replace('-', "_"))
            .to_string_lossy()
            .into_owned()
    }

    /// Every place looked in, in order.
    pub fn candidates(&self, strategy: &str) -> Vec<PathBuf> {
        if strategy.contains('/')
            || strategy.contains(std::path::MAIN_SEPARATOR)
            || strategy.ends_with(std::env::consts::DLL_SUFFIX)
        {
            let p = PathBuf::from(strategy);
            return vec![match (&self.world_dir, p.is_relative()) {
                (Some(dir), true) => dir.join(p),
                _ => p,
            }];
        }
        let file = Self::file_name(strategy);
        let mut dirs: Vec<PathBuf> = self.agent_dirs.clone();
        if let Some(env) = std::env::var_os("CHOKEPOINT_AGENT_PATH") {
            dirs.extend(std::env::split_paths(&env));
        }
        if let Ok(exe) = std::env::current_exe()
            && let Some(dir) = exe.parent()
        {
            if dir.file_name().is_some_and(|n| n == "deps") {
                dirs.extend(dir.parent().map(Path::to_path_buf));
            }
            dirs.push(dir.to_path_buf());
        }
        dirs.into_iter().map(|d| d.join(&file)).collect()
    }

    pub fn find(&self, strategy: &str, nation: &str) -> Result<PathBuf, HostError> {
        let candidates = self.candidates(strategy);
        if let Some(found) = candidates.iter().find(|p| p.is_file()) {
            return Ok(found.clone());
        }
        Err(HostError::NotFound {
            strategy: strategy.to_string(),
            nation: nation.to_string(),
            file_stem: strategy.replace('-', "_"),
            looked: candidates
                .iter()
                .map(|p| format!("  - {}", p.display()))
                .collect::<Vec<_>>()
                .join("\n"),
        })
    }
}
