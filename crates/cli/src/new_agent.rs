//! `chokepoint new-agent NAME [--path DIR]`: scaffold a strategy crate that builds and
//! loads unchanged, inside this workspace (under `agents/`, where the workspace's
//! `agents/*` member glob picks it up) or anywhere outside it (then it is its own
//! workspace and depends on this checkout's SDK by path).

use std::path::{Path, PathBuf};

use crate::Failure;

const CARGO_TOML: &str = include_str!("../../../docs/templates/strategy/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("../../../docs/templates/strategy/lib.rs.tmpl");
const README: &str = include_str!("../../../docs/templates/strategy/README.md.tmpl");

/// The checkout this binary was built from.
fn workspace_root() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .ok()
}

/// `my-strategy` -> `MyStrategy`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect()
}

fn check_name(name: &str) -> Result<(), Failure> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Failure::BadInput(format!(
            "error: `{name}` is not a valid strategy name\n  help: use lowercase letters, digits and dashes, starting with a letter (e.g. `tariff-hawk`)"
        )))
    }
}

/// Where the crate goes and how it depends on the SDK.
pub struct Plan {
    pub dir: PathBuf,
    pub sdk_dependency: String,
    pub own_workspace: bool,
}

pub fn plan(name: &str, parent: Option<&Path>, sdk: Option<&Path>) -> Result<Plan, Failure> {
    check_name(name)?;
    let root = workspace_root();
    let parent = match parent {
        Some(p) => p.to_path_buf(),
        None => match &root {
            Some(r) => r.join("agents"),
            None => PathBuf::from("."),
        },
    };
    std::fs::create_dir_all(&parent).map_err(|e| {
        Failure::BadInput(format!("error: cannot create {}: {e}", parent.display()))
    })?;
    let parent = parent
        .canonicalize()
        .map_err(|e| Failure::BadInput(format!("error: {}: {e}", parent.display())))?;
    let dir = parent.join(name);
    if dir.exists() {
        return Err(Failure::BadInput(format!(
            "error: {} already exists\n  help: pick another name or remove it",
            dir.display()
        )));
    }
    if let Some(root) = &root
        && parent.starts_with(root)
    {
        if parent == root.join("agents") {
            return Ok(Plan {
                dir,
                sdk_dependency: "chokepoint-sdk = { workspace = true }".into(),
                own_workspace: false,
            });
        }
        return Err(Failure::BadInput(format!(
            "error: {} is inside the chokepoint workspace but not under agents/\n  help: put strategies in {} (the workspace builds them) or outside the workspace",
            dir.display(),
            root.join("agents").display()
        )));
    }
    let sdk = match sdk {
        Some(p) => p.to_path_buf(),
        None => root.map(|r| r.join("crates/sdk")).ok_or_else(|| {
            Failure::BadInput("error: cannot find the chokepoint SDK\n  help: pass --sdk PATH/TO/chokepoint/crates/sdk".into())
        })?,
    };
    let sdk = sdk
        .canonicalize()
        .map_err(|e| Failure::BadInput(format!("error: the SDK at {} is not there ({e})\n  help: pass --sdk PATH/TO/chokepoint/crates/sdk", sdk.display())))?;
    let sdk_dependency = format!(
        "chokepoint-sdk = {{ path = {:?} }}",
        sdk.display().to_string()
    );
    Ok(Plan {
        dir,
        sdk_dependency,
        own_workspace: true,
    })
}

pub fn new_agent(name: &str, parent: Option<&Path>, sdk: Option<&Path>) -> Result<(), Failure> {
    let plan = plan(name, parent, sdk)?;
    let fill = |t: &str| {
        t.replace("{{name}}", name)
            .replace("{{type}}", &type_name(name))
            .replace("{{lib_name}}", &name.replace('-', "_"))
            .replace("{{sdk_dependency}}", &plan.sdk_dependency)
    };
    let mut cargo_toml = fill(CARGO_TOML);
    if plan.own_workspace {
        cargo_toml.push_str(
            "\n# Its own workspace: builds outside the chokepoint checkout.\n[workspace]\n",
        );
    }
    let write = |path: PathBuf, text: String| {
        std::fs::write(&path, text)
            .map_err(|e| Failure::BadInput(format!("error: cannot write {}: {e}", path.display())))
    };
    std::fs::create_dir_all(plan.dir.join("src")).map_err(|e| {
        Failure::BadInput(format!("error: cannot create {}: {e}", plan.dir.display()))
    })?;
    write(plan.dir.join("Cargo.toml"), cargo_toml)?;
    write(plan.dir.join("src/lib.rs"), fill(LIB_RS))?;
    write(plan.dir.join("README.md"), fill(README))?;
    let lib = libloading_name(name);
    println!("created strategy `{name}` in {}", plan.dir.display());
    if plan.own_workspace {
        println!(
            "build it:  cd {} && cargo build --release",
            plan.dir.display()
        );
        println!(
            "run it:    chokepoint run WORLD --agents {}/target/release   (it is {lib})",
            plan.dir.display()
        );
    } else {
        println!("build it:  cargo build --release   (the workspace builds agents/*)");
        println!(
            "run it:    cargo run --release -- run WORLD   (with strategy = \"{name}\" on a nation)"
        );
    }
    println!("then see docs/writing-a-strategy.md");
    Ok(())
}

fn libloading_name(name: &str) -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("tariff-hawk"), "TariffHawk");
        assert_eq!(type_name("x2"), "X2");
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "Caps",
            "9lives",
            "with space",
            "trailing-",
            "under_score",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
