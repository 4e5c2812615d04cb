//! The stylised facts of docs/scenarios.md, each checked on the bundled scenarios as
//! `chokepoint scenarios` reports them (with the seed strategies loaded), and the
//! scenarios running under `chokepoint run`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The binary, with the bundled strategies built beside it.
fn bin() -> Command {
    chokepoint_test_support::build_bundled_agents();
    Command::new(env!("CARGO_BIN_EXE_chokepoint"))
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/scenarios")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chokepoint-scenarios-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Rows of `chokepoint scenarios DIR --format csv`, by scenario, then by column.
type Table = BTreeMap<String, BTreeMap<String, String>>;

fn run_table(dir: &Path, ticks: u64) -> Table {
    let o = bin()
        .args(["-q", "scenarios"])
        .arg(dir)
        .args(["--ticks", &ticks.to_string(), "--format", "csv"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "scenarios failed:\n{}\n{}",
        out,
        String::from_utf8_lossy(&o.stderr)
    );
    parse_csv(&out)
}

fn parse_csv(text: &str) -> Table {
    let split = |line: &str| -> Vec<String> {
        let (mut cells, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        for ch in line.chars() {
            match ch {
                '"' => quoted = !quoted,
                ',' if !quoted => cells.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        cells.push(cur);
        cells
    };
    let mut lines = text.lines();
    let head = split(lines.next().expect("a header"));
    lines
        .map(|l| {
            let cells = split(l);
            (
                cells[0].clone(),
                head.iter().cloned().zip(cells).collect::<BTreeMap<_, _>>(),
            )
        })
        .collect()
}

/// The bundled scenarios over two years, computed once for all the tests.
fn two_years() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| run_table(&scenarios_dir(), 24))
}

fn num(t: &Table, scenario: &str, column: &str) -> f64 {
    let row = t
        .get(scenario)
        .unwrap_or_else(|| panic!("no scenario {scenario}: {:?}", t.keys()));
    row.get(column)
        .unwrap_or_else(|| panic!("no column {column}: {:?}", row.keys()))
        .parse()
        .unwrap_or_else(|_| panic!("{scenario}/{column} is not a number: {}", row[column]))
}

const MAGNET_IN: &str = "REE magnet price in China (x ref)";
const MAGNET_OUT: &str = "REE magnet price outside (x ref)";
const LI_IN: &str = "Li chemical price in China (x ref)";
const LI_OUT: &str = "Li chemical price outside (x ref)";
const FIRST_SHORT: &str = "first short (tick, nation, market)";

#[test]
fn every_scenario_runs_under_chokepoint_run() {
    for f in std::fs::read_dir(scenarios_dir()).unwrap() {
        let f = f.unwrap().path();
        let out = tmp(&format!("run-{}", f.file_stem().unwrap().to_string_lossy()));
        let o = bin()
            .args(["-q", "run"])
            .arg(&f)
            .args(["--ticks", "3", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.join("prices.csv").exists());
    }
}

#[test]
fn baseline_holds_prices_near_reference_with_a_wedge_outside_china() {
    let t = two_years();
    for col in [MAGNET_IN, MAGNET_OUT, LI_IN, LI_OUT] {
        let x = num(t, "baseline", col);
        assert!((x - 1.0).abs() < 0.1, "baseline {col} = {x}");
    }
    assert!(num(t, "baseline", MAGNET_OUT) >= num(t, "baseline", MAGNET_IN));
}

#[test]
fn controls_escalation_raises_prices_outside_china_not_inside_and_forge_runs_short_first() {
    let t = two_years();
    let (base_out, esc_out) = (
        num(t, "baseline", MAGNET_OUT),
        num(t, "controls-escalation", MAGNET_OUT),
    );
    let (base_in, esc_in) = (
        num(t, "baseline", MAGNET_IN),
        num(t, "controls-escalation", MAGNET_IN),
    );
    assert!(
        esc_out > base_out * 1.1,
        "outside: {esc_out} vs baseline {base_out}"
    );
    assert!(
        esc_in <= base_in,
        "inside China: {esc_in} vs baseline {base_in}"
    );
    let first = &t["controls-escalation"][FIRST_SHORT];
    let mut parts = first.split('|');
    let tick: u64 = parts.next().unwrap().parse().unwrap();
    let nation = parts.next().unwrap();
    let market = parts.next().unwrap();
    assert!(
        tick >= 3,
        "nothing bites before the licences of tick 3: {first}"
    );
    assert!(
        ["United States", "Japan", "South Korea", "Thailand"].contains(&nation),
        "a licensed FORGE member runs short first: {first}"
    );
    assert!(market.starts_with("rare-earths/"), "{first}");
    let us = "shortage United States (%)";
    assert!(num(t, "controls-escalation", us) > num(t, "baseline", us));
}

#[test]
fn hedging_spares_south_korea_what_japan_suffers() {
    let t = two_years();
    let (kr, jp) = ("shortage South Korea (%)", "shortage Japan (%)");
    assert!(num(t, "hedging", kr) < num(t, "controls-escalation", kr));
    assert!(num(t, "hedging", kr) < num(t, "hedging", jp));
}

#[test]
fn forge_floors_raise_club_prices_lower_chinas_and_pay_the_treasury() {
    let t = two_years();
    assert!(num(t, "forge-floors", LI_OUT) > num(t, "baseline", LI_OUT));
    assert!(num(t, "forge-floors", LI_IN) <= num(t, "baseline", LI_IN));
    let budget = "US budget change (USD bn)";
    assert!(
        num(t, "forge-floors", budget) > num(t, "baseline", budget),
        "levy revenue accrues to the US treasury"
    );
}

#[test]
fn a_glut_lowers_lithium_prices_inside_and_outside_china() {
    let t = two_years();
    for col in [LI_IN, LI_OUT] {
        assert!(
            num(t, "glut", col) < 0.97 * num(t, "baseline", col),
            "{col}"
        );
    }
    assert!(num(t, "glut", LI_IN) <= num(t, "glut", LI_OUT));
}

#[test]
fn the_vault_builds_a_stockpile_and_a_us_only_ban_is_circumvented() {
    let t = two_years();
    let stock = "US stockpile at end (USD m at ref)";
    assert!(num(t, "vault", stock) > 0.0);
    assert_eq!(num(t, "baseline", stock), 0.0);
    // The same scenario with the stockpile switched off (a scenario extending it).
    let dir = tmp("no-vault");
    let vault = scenarios_dir().join("vault.toml").canonicalize().unwrap();
    std::fs::write(
        dir.join("no-vault.toml"),
        format!(
            "extends = {:?}\n[world]\nname = \"no-vault\"\n[[nation]]\nname = \"United States\"\nparams = {{ stockpile_markets = [] }}\n",
            vault.display().to_string()
        ),
    )
    .unwrap();
    let off = run_table(&dir, 24);
    // A ban on the US alone is bought around: other importers re-export, US end users
    // stay supplied with or without the stockpile, so the vault has nothing to release.
    let us = "shortage United States (%)";
    for (what, v) in [
        ("vault", num(t, "vault", us)),
        ("no vault", num(&off, "no-vault", us)),
    ] {
        assert!(v < 1.0, "{what}: US shortage {v}% in a US-only ban");
    }
}

#[test]
fn decoupling_cuts_chinas_separation_share_by_2035() {
    let dir = tmp("decoupling");
    let d = scenarios_dir()
        .join("decoupling-2035.toml")
        .canonicalize()
        .unwrap();
    std::fs::write(
        dir.join("d.toml"),
        format!("extends = {:?}\n", d.display().to_string()),
    )
    .unwrap();
    let t = run_table(&dir, 120);
    let first = num(
        &t,
        "decoupling-2035",
        "China share of rare-earths/oxide, first year",
    );
    let last = num(&t, "decoupling-2035", "last year");
    assert!(first > 0.86, "starts near the IEA's 91%: {first}");
    assert!(
        (0.70..=0.82).contains(&last),
        "falls to within 6 points of the IEA's 76-77% for 2030-35: {first} -> {last}"
    );
}
