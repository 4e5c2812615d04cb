//! `index.html`: the run's provenance, every plot (PNG shown, SVG linked) and the
//! run's actions and events. Static HTML, no script, images referenced relatively.

use std::fmt::Write;

use chokepoint_engine::PolicyAction;
use chokepoint_runlog::{LogContents, to_engine};
use chokepoint_world::{Lever, Licence, MarketId, NationId, World};

use crate::draw::Figure;
use crate::series::Series;

/// At most this many rows of actions and events are listed.
const MAX_TIMELINE_ROWS: usize = 300;

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A command line as one could paste it into a POSIX shell.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn nation(world: &World, n: NationId) -> String {
    world
        .nations
        .get(n.index())
        .map_or_else(|| format!("nation #{}", n.0), |x| x.name.clone())
}

fn market(world: &World, m: MarketId) -> String {
    if m.index() < world.markets.len() {
        world.market_name(m)
    } else {
        format!("market #{}", m.0)
    }
}

fn describe(world: &World, actor: NationId, a: &PolicyAction) -> String {
    let who = nation(world, actor);
    match *a {
        PolicyAction::SetTariff {
            market: m,
            exporter,
            rate,
        } => format!(
            "{who} sets a {:.1}% tariff on {} from {}",
            rate * 100.0,
            market(world, m),
            nation(world, exporter)
        ),
        PolicyAction::SetLicence {
            market: m,
            destination,
            licence,
        } => {
            let regime = match licence {
                Licence::Open => "opens".to_string(),
                Licence::Ban => "bans".to_string(),
                Licence::Quota { t_per_tick } => format!("sets a {t_per_tick} t/tick quota on"),
                Licence::Licensed { delay_ticks } => {
                    format!("requires licences ({delay_ticks}-tick delay) on")
                }
            };
            format!(
                "{who} {regime} exports of {} to {}",
                market(world, m),
                nation(world, destination)
            )
        }
        PolicyAction::SetFloor {
            market: m,
            floor_usd_per_t,
        } => format!(
            "{who} sets an import floor of {floor_usd_per_t} USD/t on {}",
            market(world, m)
        ),
        PolicyAction::StockpileBuy {
            market: m,
            t,
            max_price,
        } => format!(
            "{who} stockpiles up to {t} t of {} at up to {max_price} USD/t",
            market(world, m)
        ),
        PolicyAction::StockpileRelease {
            market: m,
            t,
            min_price,
        } => format!(
            "{who} releases up to {t} t of {} at {min_price} USD/t or more",
            market(world, m)
        ),
        PolicyAction::Invest {
            market: m,
            host,
            t_per_year,
            usd_per_tpy,
        } => format!(
            "{who} finances {t_per_year} t/yr of {} capacity in {} at {usd_per_tpy} USD per t/yr",
            market(world, m),
            nation(world, host)
        ),
        PolicyAction::Negotiate { round, ref action } => {
            format!("{who} negotiates ({} in round {round})", action.name())
        }
        PolicyAction::Lever(ref lever) => match *lever {
            Lever::RecyclingSubsidy {
                market: m,
                usd_per_t,
            } => format!(
                "{who} subsidises recycling into {} at {usd_per_t} USD/t",
                market(world, m)
            ),
            Lever::FundRecycling {
                market: m,
                t_per_year,
                usd_per_tpy,
            } => format!(
                "{who} finances {t_per_year} t/yr of recycling into {} at {usd_per_tpy} USD per t/yr",
                market(world, m)
            ),
            Lever::FundSubstitution { market: m, usd } => format!(
                "{who} funds {usd} USD of research to substitute {}",
                market(world, m)
            ),
            Lever::CapacitySubsidy { market: m, share } => format!(
                "{who} pays {:.0}% of the capital cost of new {} capacity",
                share * 100.0,
                market(world, m)
            ),
            Lever::StockMandate {
                market: m,
                cover_ticks,
            } => format!(
                "{who} mandates {cover_ticks} ticks of {} stocks at its firms",
                market(world, m)
            ),
        },
    }
}

pub(crate) fn page(
    world: &World,
    log: &LogContents,
    series: &Series,
    figures: &[Figure],
) -> String {
    let h = &log.header;
    let mut o = String::new();
    let title = format!("chokepoint report: {}, seed {}", h.world_name, h.seed);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em auto; max-width: 1700px; padding: 0 1em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}\n\
         th, td {{ text-align: left; vertical-align: top; padding: 0.25em 0.8em 0.25em 0; border-bottom: 1px solid #ddd; }}\n\
         code {{ font-family: monospace; word-break: break-all; }}\n\
         img {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}\n\
         .note {{ color: #a33; }}\n\
         </style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );

    o.push_str("<h2>Provenance</h2>\n<table>\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(o, "<tr><th>{}</th><td>{v}</td></tr>", escape(k));
    };
    row("World", escape(&h.world_name));
    row(
        "World file",
        format!("<code>{}</code>", escape(&h.world_path)),
    );
    row(
        "World hash (BLAKE3)",
        format!("<code>{}</code>", escape(&h.world_hash)),
    );
    row("Seed", h.seed.to_string());
    row("Engine version", escape(&h.engine_version));
    row("Log format version", h.format_version.to_string());
    row(
        "Command line",
        format!("<code>{}</code>", escape(&shell_words(&h.command_line))),
    );
    row(
        "Ticks",
        format!(
            "{} replayed, every state digest verified ({} requested; {} ticks per year)",
            series.ticks(),
            h.ticks_requested,
            world.ticks_per_year
        ),
    );
    row(
        "Nations",
        escape(
            &world
                .nations
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    if let Some(f) = &h.forked_from {
        let changes = if f.changes.is_empty() {
            "no changes".to_string()
        } else {
            f.changes.join("; ")
        };
        row(
            "Forked from",
            format!(
                "<code>{}</code> (BLAKE3 <code>{}</code>) at tick {}: {}",
                escape(&f.parent_log_path),
                escape(&f.parent_log_hash),
                f.at_tick,
                escape(&changes)
            ),
        );
    }
    o.push_str("</table>\n");
    if let Some(why) = &log.stopped {
        let _ = writeln!(
            o,
            "<p class=\"note\">The log ends early: {}. The report covers the ticks before it.</p>",
            escape(why)
        );
    }

    o.push_str("<h3>Plugins</h3>\n");
    if h.plugins.is_empty() {
        o.push_str("<p>None: the run's actions, if any, did not come from plugins.</p>\n");
    } else {
        o.push_str(
            "<table>\n<tr><th>Strategy</th><th>Nations</th><th>Library</th><th>ABI</th><th>Hash (BLAKE3)</th></tr>\n",
        );
        for p in &h.plugins {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&p.name),
                escape(&p.nations.join(", ")),
                escape(&p.path),
                p.abi_version,
                escape(&p.hash)
            );
        }
        o.push_str("</table>\n");
    }

    o.push_str("<h2>Plots</h2>\n<ul>\n");
    for f in figures {
        let _ = writeln!(
            o,
            "<li><a href=\"#{0}\">{1}</a></li>",
            f.file_stem,
            escape(f.heading)
        );
    }
    o.push_str("</ul>\n");
    for f in figures {
        let (w, hgt) = f.size();
        let _ = write!(
            o,
            "<h2 id=\"{stem}\">{heading}</h2>\n<p>{desc}</p>\n\
             <p><a href=\"{stem}.svg\"><img src=\"{stem}.png\" width=\"{w}\" height=\"{hgt}\" alt=\"{heading}\"></a></p>\n\
             <p>Files: <a href=\"{stem}.png\">{stem}.png</a>, <a href=\"{stem}.svg\">{stem}.svg</a></p>\n",
            stem = f.file_stem,
            heading = escape(f.heading),
            desc = escape(&f.description),
        );
    }

    o.push_str("<h2>Actions and events</h2>\n");
    let mut rows = Vec::new();
    for entry in log.ticks.iter().take(series.ticks()) {
        for (n, a) in &entry.actions {
            rows.push((
                entry.tick,
                "action",
                describe(world, NationId(*n), &to_engine(a)),
            ));
        }
        for (kind, detail) in &entry.events {
            rows.push((entry.tick, "event", format!("{kind}: {detail}")));
        }
    }
    if rows.is_empty() {
        o.push_str("<p>No actions and no events.</p>\n");
    } else {
        o.push_str("<table>\n<tr><th>Tick</th><th>Kind</th><th>What</th></tr>\n");
        for (tick, kind, what) in rows.iter().take(MAX_TIMELINE_ROWS) {
            let _ = writeln!(
                o,
                "<tr><td>{tick}</td><td>{kind}</td><td>{}</td></tr>",
                escape(what)
            );
        }
        o.push_str("</table>\n");
        if rows.len() > MAX_TIMELINE_ROWS {
            let _ = writeln!(
                o,
                "<p>… and {} more (the first {MAX_TIMELINE_ROWS} are listed).</p>",
                rows.len() - MAX_TIMELINE_ROWS
            );
        }
    }
    o.push_str("</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_shell_words() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let words = ["chokepoint", "run", "--seed", "5", "my world.toml", "it's"].map(String::from);
        assert_eq!(
            shell_words(&words),
            r"chokepoint run --seed 5 'my world.toml' 'it'\''s'"
        );
    }
}
