//! Scenario files: a world file that says `extends = "base.toml"` and changes a few
//! things.
//!
//! Why a merge of TOML tables rather than of checked worlds: a scenario is written as a
//! difference ("China's strategy escalates faster", "one more event"), and most of its
//! entries are incomplete on their own (a nation with only `params`). Merging before
//! validation lets the usual checks run once on the whole, with every value still
//! pointing at the file and line it came from: each file of the chain is placed at its
//! own offset in one address space (see [`SourceText::locate`]).
//!
//! The merged world is recorded (run logs, the world hash) as one flattened TOML
//! document, so a log replays without the files of the chain.
//!
//! Rules, documented in docs/world-format.md ("Scenario files"):
//! - `[world]` and every other table merge key by key, the scenario's value winning;
//! - `[[commodity]]`, `[[commodity.stage]]`, `[[nation]]` and `[[firm]]` entries merge by
//!   `name`: an entry naming an existing one is merged into it key by key (so a nation's
//!   `params` table is merged parameter by parameter), a new name is added;
//! - `[[tariff]]`, `[[licence]]`, `[[trade.cost]]` and `[[event]]` are appended after
//!   the base's (later rules win; the timeline grows);
//! - any other value (`demand`, `inputs`, a number) replaces the base's.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{SourceText, WorldError, WorldErrors};
use crate::schema::RawWorld;
use crate::validate::toml_error;

/// A scenario resolved against its base chain.
pub(crate) struct Resolved {
    /// Every file of the chain, for errors.
    pub errors_source: SourceText,
    /// The flattened world, as recorded.
    pub record_source: SourceText,
    pub raw: RawWorld,
}

/// Arrays of tables whose entries merge by `name`.
const BY_NAME: [&str; 4] = ["commodity", "stage", "nation", "firm"];
/// Arrays that are appended to (rules and the timeline).
const APPENDED: [&str; 4] = ["tariff", "licence", "event", "cost"];

/// `Ok(None)` if the file does not extend another; else the merged world or the errors,
/// each naming the file of the chain it is in.
pub(crate) fn resolve(path: &Path, text: &str) -> Result<Option<Resolved>, WorldErrors> {
    // Pass 1: follow `extends` to collect the chain's texts.
    let mut files: Vec<(PathBuf, String)> = vec![(path.to_path_buf(), text.to_string())];
    let mut seen: Vec<PathBuf> = vec![canonical(path)];
    loop {
        let (cur_path, cur_text) = files.last().expect("chain starts non-empty");
        let local = SourceText::new(cur_path, cur_text.as_str());
        let table =
            DeTable::parse(cur_text).map_err(|e| WorldErrors::single(toml_error(&local, &e)))?;
        let Some(ext) = table.get_ref().get("extends") else {
            if files.len() == 1 {
                return Ok(None);
            }
            break;
        };
        let Some(rel) = ext.get_ref().as_str() else {
            return Err(WorldErrors::single(WorldError::at(
                &local,
                Some(ext.span()),
                "`extends` must be a path in quotes",
                "write `extends = \"../critical-minerals-2026.toml\"` (relative to this file)",
            )));
        };
        let base = cur_path.parent().unwrap_or(Path::new("")).join(rel);
        let key = canonical(&base);
        if let Some(i) = seen.iter().position(|p| *p == key) {
            let cycle: Vec<String> = files[i..]
                .iter()
                .map(|(p, _)| p.display().to_string())
                .chain(std::iter::once(base.display().to_string()))
                .collect();
            return Err(WorldErrors::single(WorldError::at(
                &local,
                Some(ext.span()),
                format!(
                    "world files extend each other in a cycle: {}",
                    cycle.join(" -> ")
                ),
                "remove `extends` from one file of the cycle; a base world must not extend its scenarios",
            )));
        }
        let base_text = match std::fs::read_to_string(&base) {
            Ok(t) => t,
            Err(e) => {
                return Err(WorldErrors::single(WorldError::at(
                    &local,
                    Some(ext.span()),
                    format!("cannot read the base world `{}`: {e}", base.display()),
                    "`extends` is relative to the directory of the file that contains it; check the path",
                )));
            }
        };
        seen.push(key);
        files.push((base, base_text));
    }

    // Pass 2: place the files in one address space, parse with shifted spans, merge
    // from the base outwards.
    let mut parts = Vec::new();
    let mut offset = 0;
    for (p, t) in &files {
        parts.push((offset, SourceText::new(p, t.as_str())));
        offset += t.len() + 1;
    }
    let errors_source = SourceText::with_parts(path, text, parts.clone());
    let mut merged: Option<DeTable<'_>> = None;
    let mut top_span = 0..0;
    for (i, (p, t)) in files.iter().enumerate().rev() {
        let (start, _) = parts[i];
        let local = SourceText::new(p, t.as_str());
        let parsed = DeTable::parse(t).map_err(|e| WorldErrors::single(toml_error(&local, &e)))?;
        let mut table = shift_table(parsed.into_inner(), start);
        table.remove("extends");
        top_span = start..start + t.len();
        merged = Some(match merged {
            None => table,
            Some(mut base) => {
                merge_tables(&mut base, table, true);
                base
            }
        });
    }
    let merged = merged.expect("at least two files");
    let raw = RawWorld::deserialize(toml::de::Deserializer::from(Spanned::new(
        top_span.clone(),
        merged.clone(),
    )))
    .map_err(|e| WorldErrors::single(toml_error(&errors_source, &e)))?;
    let flat =
        toml::Table::deserialize(toml::de::Deserializer::from(Spanned::new(top_span, merged)))
            .map_err(|e| WorldErrors::single(toml_error(&errors_source, &e)))?;
    let chain: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    let flat_text = format!(
        "# Flattened by chokepoint from {} (a scenario over its base worlds).\n{}",
        chain.join(" <- "),
        toml::to_string(&flat).map_err(|e| {
            WorldErrors::single(WorldError::at(
                &errors_source,
                None,
                format!("cannot write the merged world as TOML: {e}"),
                "report this as a bug in chokepoint",
            ))
        })?
    );
    Ok(Some(Resolved {
        errors_source,
        record_source: SourceText::new(path, flat_text),
        raw,
    }))
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn shift<'i>(v: Spanned<DeValue<'i>>, by: usize) -> Spanned<DeValue<'i>> {
    let span = v.span();
    let value = match v.into_inner() {
        DeValue::Table(t) => DeValue::Table(shift_table(t, by)),
        DeValue::Array(mut a) => {
            for item in a.iter_mut() {
                let old = std::mem::replace(item, Spanned::new(0..0, DeValue::Boolean(false)));
                *item = shift(old, by);
            }
            DeValue::Array(a)
        }
        other => other,
    };
    Spanned::new(span.start + by..span.end + by, value)
}

fn shift_table(t: DeTable<'_>, by: usize) -> DeTable<'_> {
    let mut out = DeTable::new();
    for (k, v) in t {
        let ks = k.span();
        out.insert(
            Spanned::new(ks.start + by..ks.end + by, k.into_inner()),
            shift(v, by),
        );
    }
    out
}

fn name_of<'a>(v: &'a Spanned<DeValue<'_>>) -> Option<&'a str> {
    v.get_ref().as_table()?.get("name")?.get_ref().as_str()
}

/// Merge `over` into `base` by the rules in the module docs. `top` is true for the
/// file's root, where `[[tariff]]`/`[[licence]]`/`[[event]]` live.
fn merge_tables<'i>(base: &mut DeTable<'i>, over: DeTable<'i>, top: bool) {
    for (k, v) in over {
        let key: &str = k.get_ref();
        let Some(existing) = base.get_mut(key) else {
            base.insert(k, v);
            continue;
        };
        let vspan = v.span();
        let by_name = BY_NAME.contains(&key);
        let appended = APPENDED.contains(&key) && (top || key == "cost");
        match (existing.get_mut(), v.into_inner()) {
            (DeValue::Table(b), DeValue::Table(o)) => merge_tables(b, o, false),
            (DeValue::Array(b), DeValue::Array(o)) if appended => {
                for item in o.iter() {
                    b.push(item.clone());
                }
            }
            (DeValue::Array(b), DeValue::Array(o)) if by_name => {
                for item in o.iter() {
                    let hit =
                        name_of(item).and_then(|n| b.iter().position(|e| name_of(e) == Some(n)));
                    match (hit, item.get_ref()) {
                        (Some(i), DeValue::Table(o)) => {
                            let slice: &mut [Spanned<DeValue<'i>>] = b;
                            if let DeValue::Table(t) = slice[i].get_mut() {
                                merge_tables(t, o.clone(), false);
                            }
                        }
                        _ => b.push(item.clone()),
                    }
                }
            }
            (_, other) => *existing = Spanned::new(vspan, other),
        }
    }
}
