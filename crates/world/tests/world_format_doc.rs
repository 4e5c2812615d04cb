//! docs/world-format.md stays true: its first ```toml block (the minimal complete
//! world) validates and uses every kind of table, and every other ```toml block is at
//! least valid TOML.

use std::path::Path;

use chokepoint_world::{EventAction, Licence, parse};

const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/world-format.md");

/// The ```toml blocks of the document: (line of the first line of the block, text).
fn toml_blocks() -> Vec<(usize, String)> {
    let doc =
        std::fs::read_to_string(DOC_PATH).unwrap_or_else(|e| panic!("cannot read {DOC_PATH}: {e}"));
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match &mut current {
            None if fence && line.trim() == "```toml" => current = Some((i + 2, String::new())),
            Some(_) if fence => blocks.push(current.take().unwrap()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(
        current.is_none(),
        "unterminated ```toml block in {DOC_PATH}"
    );
    blocks
}

#[test]
fn the_example_world_validates() {
    let blocks = toml_blocks();
    let (first_line, text) = blocks.first().expect("a ```toml block in the document");
    let world = match parse(Path::new("docs/world-format.md"), text) {
        Ok(w) => w,
        Err(errs) => {
            let located: Vec<String> = errs
                .iter()
                .map(|e| {
                    format!(
                        "docs/world-format.md line {}: {} (help: {})",
                        first_line + e.line - 1,
                        e.message,
                        e.help
                    )
                })
                .collect();
            panic!(
                "the example world in the docs must validate:\n{}",
                located.join("\n")
            );
        }
    };
    // "Complete": every kind of table is there.
    assert!(!world.commodities.is_empty());
    assert!(world.markets.iter().any(|m| !m.inputs.is_empty()));
    assert!(world.nations.len() >= 2);
    assert!(world.regions.len() >= 2);
    assert!(world.nations.iter().any(|n| !n.demand.is_empty()));
    assert!(!world.firms.is_empty());
    assert!(world.trade.default_usd_per_t > 0.0);
    assert!(!world.trade.overrides.is_empty());
    assert!(!world.tariffs.is_empty());
    assert!(
        world
            .licences
            .iter()
            .any(|l| matches!(l.licence, Licence::Licensed { .. }))
    );
    assert!(
        world
            .events
            .iter()
            .any(|e| matches!(e.action, EventAction::SetLicence(_)))
    );
}

#[test]
fn every_toml_block_is_toml() {
    let blocks = toml_blocks();
    assert!(blocks.len() >= 2, "the document has its examples");
    for (line, text) in blocks {
        if let Err(e) = text.parse::<toml::Table>() {
            panic!("the ```toml block at docs/world-format.md line {line} is not valid TOML: {e}");
        }
    }
}

#[test]
fn the_snippets_validate_inside_the_example() {
    // The event and trade-cost snippets, appended to the example world (with the
    // nation they mention), must validate too.
    let blocks = toml_blocks();
    let example = &blocks[0].1;
    let extra_nation = "\n[[nation]]\nname = \"Australia\"\nregion = \"oceania\"\n";
    for (line, snippet) in &blocks[1..] {
        if snippet.trim_start().starts_with("extends") {
            continue; // a scenario file: checked against the bundled world below
        }
        // Keep only [[...]] tables: a second [trade] table header would be a duplicate.
        let tables: String = snippet
            .split("\n[")
            .enumerate()
            .map(|(i, part)| match i {
                0 => part.to_string(),
                _ => format!("\n[{part}"),
            })
            .filter(|part| part.trim_start().starts_with("[["))
            .collect();
        let text = format!("{example}{extra_nation}{tables}");
        if let Err(errs) = parse(Path::new("docs/world-format.md"), &text) {
            panic!(
                "the ```toml block at docs/world-format.md line {line}, added to the example world, does not validate:\n{errs}"
            );
        }
    }
}

#[test]
fn the_scenario_example_validates_against_the_bundled_world() {
    let blocks = toml_blocks();
    let (line, scenario) = blocks
        .iter()
        .find(|(_, b)| b.trim_start().starts_with("extends"))
        .expect("the document has a scenario example");
    // Laid out as in the repository: worlds/scenarios/x.toml extends ../<bundled>.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("doc-scenario");
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    let bundled =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml");
    std::fs::copy(&bundled, dir.join("critical-minerals-2026.toml")).unwrap();
    let path = dir.join("scenarios/example.toml");
    std::fs::write(&path, scenario).unwrap();
    if let Err(errs) = chokepoint_world::load(&path) {
        panic!("the scenario block at docs/world-format.md line {line} does not validate:\n{errs}");
    }
}
