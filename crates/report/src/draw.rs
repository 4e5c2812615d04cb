//! The five figures: what each panel shows (built from the series), and drawing one
//! figure on any plotters backend, rendered to SVG and to PNG.

use std::sync::OnceLock;

use chokepoint_runlog::Header;
use chokepoint_world::{MarketId, World};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::series::Series;

const FONT: &str = "sans-serif";
const PANEL_W: u32 = 560;
const PANEL_H: u32 = 380;
const TITLE_H: u32 = 56;
const LEGEND_ROW_H: u32 = 30;
const MIN_WIDTH: u32 = 960;

/// Tableau 10: distinguishable, and the same nation has the same colour in every plot.
const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];
const OUTSIDE: RGBColor = RGBColor(60, 60, 60);
const GRID: RGBColor = RGBColor(232, 232, 232);

fn nation_colour(n: usize) -> RGBColor {
    PALETTE[n % PALETTE.len()]
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Scale {
    /// From zero up, values in t (k, M suffixes).
    Quantity,
    /// Around the data, values in USD/t.
    Price,
    /// 0 to 100%.
    Share,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Lines,
    Stacked,
}

pub(crate) struct Line {
    pub label: String,
    pub colour: RGBColor,
    pub values: Vec<Option<f64>>,
}

pub(crate) struct Panel {
    pub title: String,
    pub y_desc: String,
    pub kind: Kind,
    pub scale: Scale,
    pub lines: Vec<Line>,
    /// Drawn in the middle of the panel when it has nothing to show.
    pub empty_note: String,
    /// A legend inside the panel (when its series are its own, not the nations').
    pub own_legend: bool,
}

pub(crate) struct Figure {
    pub file_stem: &'static str,
    /// Heading in the HTML page.
    pub heading: &'static str,
    /// What the plot shows, for the HTML page.
    pub description: String,
    pub title: String,
    pub x_desc: String,
    pub panels: Vec<Panel>,
    /// The nations' colours, below the panels.
    pub legend: Vec<(String, RGBColor)>,
    /// Drawn instead of panels when there are none.
    pub placeholder: String,
}

impl Figure {
    fn columns(&self) -> u32 {
        (self.panels.len() as u32).clamp(1, 3)
    }

    fn rows(&self) -> u32 {
        (self.panels.len() as u32).div_ceil(self.columns()).max(1)
    }

    /// Wide enough for the title even with one panel.
    fn width(&self) -> u32 {
        (self.columns() * PANEL_W).max(MIN_WIDTH)
    }

    /// Legend entries laid out in rows that fit the width.
    fn legend_rows(&self) -> Vec<Vec<(String, RGBColor)>> {
        let width = self.width() as usize - 40;
        let mut rows: Vec<Vec<(String, RGBColor)>> = Vec::new();
        let mut used = usize::MAX;
        for (label, colour) in &self.legend {
            let w = legend_entry_width(label);
            if used.saturating_add(w) > width {
                rows.push(Vec::new());
                used = 0;
            }
            used += w;
            rows.last_mut()
                .expect("a row")
                .push((label.clone(), *colour));
        }
        rows
    }

    pub fn size(&self) -> (u32, u32) {
        if self.panels.is_empty() {
            return (MIN_WIDTH, PANEL_H);
        }
        let legend_h = self.legend_rows().len() as u32 * LEGEND_ROW_H + 10;
        (self.width(), TITLE_H + self.rows() * PANEL_H + legend_h)
    }
}

/// Width of a legend entry at 16 px: swatch, gap, text (DejaVu Sans averages about
/// 0.6 em per character) and the space before the next entry.
fn legend_entry_width(label: &str) -> usize {
    22 + label.chars().count() * 10 + 28
}

fn to_values(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().map(|&x| Some(x)).collect()
}

fn any_positive(v: &[f64]) -> bool {
    v.iter().any(|&x| x > 0.0)
}

/// The five figures for one run.
pub(crate) fn figures(world: &World, header: &Header, s: &Series) -> Vec<Figure> {
    let name = |n: usize| world.nations[n].name.clone();
    let market = |m: usize| world.market_name(MarketId(m as u32));
    let run = format!("{}, seed {}", header.world_name, header.seed);
    let x_desc = format!("tick ({} per year)", world.ticks_per_year);
    let markets = 0..s.markets();
    let nations = || 0..s.nations();
    let mut figs = Vec::new();

    // 1. Prices inside vs outside the largest producer.
    let panels = markets
        .clone()
        .map(|m| {
            let lines = match s.largest_producer(m) {
                None => Vec::new(),
                Some(p) => vec![
                    Line {
                        label: format!("inside {}", name(p)),
                        colour: nation_colour(p),
                        values: s.price[m][p].clone(),
                    },
                    Line {
                        label: format!("outside {} (weighted mean)", name(p)),
                        colour: OUTSIDE,
                        values: (0..s.ticks()).map(|t| s.outside_price(m, p, t)).collect(),
                    },
                ],
            };
            let title = match s.largest_producer(m) {
                Some(p) => format!("{} (largest producer: {})", market(m), name(p)),
                None => market(m),
            };
            Panel {
                title,
                y_desc: "USD/t".into(),
                kind: Kind::Lines,
                scale: Scale::Price,
                lines,
                empty_note: "no production".into(),
                own_legend: true,
            }
        })
        .collect();
    figs.push(Figure {
        file_stem: "prices",
        heading: "Prices inside and outside the largest producer",
        description: "Per market, the local price inside the nation with the largest output \
                      at the last tick, and the mean local price of all other nations weighted \
                      by the tonnes each obtained that tick (end users, firms buying inputs and \
                      stockpiles). The gap is what trade costs, tariffs, floors and export \
                      licences hold between the two."
            .into(),
        title: format!("Prices inside vs outside the largest producer ({run})"),
        x_desc: x_desc.clone(),
        panels,
        legend: Vec::new(),
        placeholder: String::new(),
    });

    // Stacked or line panels with one series per nation that has data.
    let per_nation = |data: &Vec<Vec<Vec<f64>>>,
                      y_desc: &str,
                      kind: Kind,
                      scale: Scale,
                      empty_note: &str,
                      transform: &dyn Fn(usize, usize) -> Vec<Option<f64>>|
     -> (Vec<Panel>, Vec<(String, RGBColor)>) {
        let mut shown = vec![false; s.nations()];
        let panels = markets
            .clone()
            .map(|m| {
                let lines = nations()
                    .filter(|&n| any_positive(&data[m][n]))
                    .map(|n| {
                        shown[n] = true;
                        Line {
                            label: name(n),
                            colour: nation_colour(n),
                            values: transform(m, n),
                        }
                    })
                    .collect();
                Panel {
                    title: market(m),
                    y_desc: y_desc.into(),
                    kind,
                    scale,
                    lines,
                    empty_note: empty_note.into(),
                    own_legend: false,
                }
            })
            .collect();
        let legend = nations()
            .filter(|&n| shown[n])
            .map(|n| (name(n), nation_colour(n)))
            .collect();
        (panels, legend)
    };

    // 2. Flows by origin.
    let (panels, legend) = per_nation(
        &s.shipped_from,
        "t/tick shipped",
        Kind::Stacked,
        Scale::Quantity,
        "no flows",
        &|m, n| to_values(&s.shipped_from[m][n]),
    );
    figs.push(Figure {
        file_stem: "flows",
        heading: "Flows by origin",
        description: "Per market, tonnes shipped each tick from each origin nation to any \
                      destination, its own market included, stacked: the total is what the \
                      market delivered."
            .into(),
        title: format!("Flows by origin ({run})"),
        x_desc: x_desc.clone(),
        panels,
        legend,
        placeholder: String::new(),
    });

    // 3. Supply shares.
    let (panels, legend) = per_nation(
        &s.output,
        "share of world output",
        Kind::Lines,
        Scale::Share,
        "no production",
        &|m, n| {
            (0..s.ticks())
                .map(|t| {
                    let total: f64 = nations().map(|k| s.output[m][k][t]).sum();
                    (total > 0.0).then(|| s.output[m][n][t] / total)
                })
                .collect()
        },
    );
    figs.push(Figure {
        file_stem: "supply_shares",
        heading: "Supply shares",
        description: "Per market, each nation's share of world output (tonnes its firms \
                      produced plus sold from stock) each tick."
            .into(),
        title: format!("Supply shares ({run})"),
        x_desc: x_desc.clone(),
        panels,
        legend,
        placeholder: String::new(),
    });

    // 4. Stockpiles.
    let mut panels = Vec::new();
    let mut shown = vec![false; s.nations()];
    for m in markets.clone() {
        let lines: Vec<Line> = s
            .holdings
            .range((m, 0)..(m + 1, 0))
            .map(|(&(_, owner), h)| {
                shown[owner] = true;
                Line {
                    label: name(owner),
                    colour: nation_colour(owner),
                    values: to_values(h),
                }
            })
            .collect();
        if !lines.is_empty() {
            panels.push(Panel {
                title: market(m),
                y_desc: "t held".into(),
                kind: Kind::Lines,
                scale: Scale::Quantity,
                lines,
                empty_note: "no holdings".into(),
                own_legend: false,
            });
        }
    }
    figs.push(Figure {
        file_stem: "stockpiles",
        heading: "Stockpile holdings",
        description: "Tonnes held in each strategic stockpile, per market and owner, at the \
                      end of each tick."
            .into(),
        title: format!("Stockpile holdings ({run})"),
        x_desc: x_desc.clone(),
        panels,
        legend: nations()
            .filter(|&n| shown[n])
            .map(|n| (name(n), nation_colour(n)))
            .collect(),
        placeholder: format!("No stockpiles in this run ({run})"),
    });

    // 5. Shortages.
    let (panels, legend) = per_nation(
        &s.shortage,
        "t/tick short",
        Kind::Stacked,
        Scale::Quantity,
        "no shortage",
        &|m, n| to_values(&s.shortage[m][n]),
    );
    figs.push(Figure {
        file_stem: "shortages",
        heading: "Shortages",
        description: "Per market, tonnes each nation's consumers (end users and firms buying \
                      inputs; stockpiles left out) would have bought at last tick's price but \
                      did not obtain, stacked by nation."
            .into(),
        title: format!("Shortages ({run})"),
        x_desc,
        panels,
        legend,
        placeholder: String::new(),
    });
    figs
}

/// Register the embedded font once; plotters' `ab_glyph` backend looks fonts up by name.
fn ensure_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        // Regular only (0.75 MB in the binary): bold text falls back to it in the PNGs
        // and is bold in the SVGs.
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "the embedded DejaVu Sans font does not load".to_string())
    })
    .clone()
}

/// Draw a figure as (PNG bytes, SVG text).
pub(crate) fn render(fig: &Figure) -> Result<(Vec<u8>, String), String> {
    ensure_font()?;
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw_figure(&root, fig)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_figure(&root, fig)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png_bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut png_bytes, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Balanced);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok((png_bytes, svg))
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    if fig.panels.is_empty() {
        let style = TextStyle::from((FONT, 26).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        root.draw_text(&fig.placeholder, &style, (w as i32 / 2, h as i32 / 2))
            .map_err(err)?;
        return Ok(());
    }
    let title_style = TextStyle::from((FONT, 24).into_font().style(FontStyle::Bold))
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    root.draw_text(&fig.title, &title_style, (w as i32 / 2, TITLE_H as i32 / 2))
        .map_err(err)?;
    let body_h = fig.rows() * PANEL_H;
    let (_, rest) = root.split_vertically(TITLE_H);
    let (body, legend) = rest.split_vertically(body_h);
    let areas = body.split_evenly((fig.rows() as usize, fig.columns() as usize));
    for (panel, area) in fig.panels.iter().zip(&areas) {
        draw_panel(area, panel, &fig.x_desc)?;
    }
    draw_legend(&legend, &fig.legend_rows())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Vec<(String, RGBColor)>],
) -> Result<(), String> {
    let (w, _) = area.dim_in_pixel();
    let style = TextStyle::from((FONT, 16).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (r, row) in rows.iter().enumerate() {
        let widths: Vec<i32> = row
            .iter()
            .map(|(label, _)| {
                let (tw, _) = area.estimate_text_size(label, &style).unwrap_or((0, 0));
                22 + tw as i32 + 28
            })
            .collect();
        let mut x = (w as i32 - widths.iter().sum::<i32>()).max(0) / 2;
        let y = r as i32 * LEGEND_ROW_H as i32 + LEGEND_ROW_H as i32 / 2;
        for ((label, colour), width) in row.iter().zip(widths) {
            area.draw(&Rectangle::new(
                [(x, y - 7), (x + 14, y + 7)],
                colour.filled(),
            ))
            .map_err(err)?;
            area.draw_text(label, &style, (x + 22, y)).map_err(err)?;
            x += width;
        }
    }
    Ok(())
}

/// "69k", "1.2M", "0.35": short numbers for axis labels.
fn short_number(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let mut s = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" {
        s = "0".into();
    }
    format!("{s}{suffix}")
}

fn y_range(panel: &Panel, stacked_top: &[f64]) -> (f64, f64) {
    if panel.scale == Scale::Share {
        // A little headroom so a 100% line is not drawn on the frame.
        return (0.0, 1.04);
    }
    let values: Vec<f64> = if panel.kind == Kind::Stacked {
        stacked_top.to_vec()
    } else {
        panel
            .lines
            .iter()
            .flat_map(|l| l.values.iter().flatten().copied())
            .collect()
    };
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    if !hi.is_finite() || hi <= 0.0 {
        return (0.0, 1.0);
    }
    match panel.scale {
        Scale::Price => {
            let pad = ((hi - lo) * 0.08).max(hi * 0.02);
            ((lo - pad).max(0.0), hi + pad)
        }
        _ => (0.0, hi * 1.05),
    }
}

/// Maximal runs of consecutive indices in `0..len` where `keep` holds, with at least two
/// indices or one isolated index.
fn runs(len: usize, keep: impl Fn(usize) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut t = 0;
    while t < len {
        if !keep(t) {
            t += 1;
            continue;
        }
        let start = t;
        while t < len && keep(t) {
            t += 1;
        }
        out.push(start..t);
    }
    out
}

/// The corner of the plotting area where the legend covers the fewest data points
/// (upper right on a tie, then lower right, upper left, lower left).
fn legend_corner(lines: &[Line], x1: f64, y0: f64, y1: f64) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let covered = |right: bool, upper: bool| {
        lines
            .iter()
            .flat_map(|l| l.values.iter().enumerate())
            .filter(|(t, v)| {
                let Some(v) = v else { return false };
                let x = *t as f64 / x1;
                let y = (v - y0) / (y1 - y0);
                (if right { x >= 0.45 } else { x <= 0.55 })
                    && (if upper { y >= 0.7 } else { y <= 0.3 })
            })
            .count()
    };
    corners
        .into_iter()
        .min_by_key(|&(_, right, upper)| covered(right, upper))
        .map_or(SeriesLabelPosition::UpperRight, |(p, _, _)| p)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x_desc: &str,
) -> Result<(), String> {
    let ticks = panel.lines.first().map_or(1, |l| l.values.len()).max(1);
    // Cumulative sums for stacked panels: layer k spans [cum[k], cum[k + 1]].
    let mut cum: Vec<Vec<f64>> = vec![vec![0.0; ticks]];
    if panel.kind == Kind::Stacked {
        for l in &panel.lines {
            let below = cum.last().expect("base").clone();
            cum.push(
                below
                    .iter()
                    .zip(&l.values)
                    .map(|(b, v)| b + v.unwrap_or(0.0))
                    .collect(),
            );
        }
    }
    let (y0, y1) = y_range(panel, cum.last().expect("base"));
    let x1 = (ticks - 1).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 18))
        .margin(8)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x1, y0..y1)
        .map_err(err)?;
    let percent = |y: &f64| format!("{:.0}%", y * 100.0);
    let number = |y: &f64| short_number(*y);
    let whole = |x: &f64| format!("{x:.0}");
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_desc(x_desc)
        .y_desc(&panel.y_desc)
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&whole)
        .y_label_formatter(if panel.scale == Scale::Share {
            &percent
        } else {
            &number
        })
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()
        .map_err(err)?;

    let has_data = panel
        .lines
        .iter()
        .any(|l| l.values.iter().flatten().any(|&v| v != 0.0));
    if !has_data {
        let style = TextStyle::from((FONT, 18).into_font())
            .color(&RGBColor(120, 120, 120))
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart
            .plotting_area()
            .draw(&Text::new(
                panel.empty_note.clone(),
                (x1 / 2.0, (y0 + y1) / 2.0),
                style,
            ))
            .map_err(err)?;
        return Ok(());
    }

    match panel.kind {
        Kind::Stacked => {
            for (k, l) in panel.lines.iter().enumerate() {
                let (lower, upper) = (&cum[k], &cum[k + 1]);
                let mut points: Vec<(f64, f64)> = upper
                    .iter()
                    .enumerate()
                    .map(|(t, &y)| (t as f64, y))
                    .collect();
                points.extend(lower.iter().enumerate().rev().map(|(t, &y)| (t as f64, y)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        points,
                        l.colour.mix(0.85).filled(),
                    )))
                    .map_err(err)?;
                // The layer's upper edge where it has thickness (and one tick either
                // side), so empty layers draw no lines along the ones below.
                let thick: Vec<bool> = l
                    .values
                    .iter()
                    .map(|v| v.is_some_and(|v| v > 0.0))
                    .collect();
                let show = |t: usize| {
                    thick[t]
                        || (t > 0 && thick[t - 1])
                        || thick.get(t + 1).copied().unwrap_or(false)
                };
                for run in runs(ticks, show) {
                    chart
                        .draw_series(LineSeries::new(
                            run.map(|t| (t as f64, upper[t])),
                            l.colour.stroke_width(1),
                        ))
                        .map_err(err)?;
                }
            }
        }
        Kind::Lines => {
            for l in &panel.lines {
                let style = l.colour.stroke_width(2);
                // A gap where the value is missing: one polyline per run of values.
                let mut labelled = false;
                for run in runs(l.values.len(), |t| l.values[t].is_some()) {
                    let points: Vec<(f64, f64)> = run
                        .map(|t| (t as f64, l.values[t].expect("in a run")))
                        .collect();
                    let drawn = if points.len() == 1 {
                        chart.draw_series(std::iter::once(Circle::new(
                            points[0],
                            2,
                            l.colour.filled(),
                        )))
                    } else {
                        chart.draw_series(LineSeries::new(points, style))
                    }
                    .map_err(err)?;
                    if !labelled && panel.own_legend {
                        let colour = l.colour;
                        drawn.label(l.label.clone()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                        });
                        labelled = true;
                    }
                }
            }
            if panel.own_legend {
                chart
                    .configure_series_labels()
                    .position(legend_corner(&panel.lines, x1, y0, y1))
                    .background_style(WHITE.mix(0.85))
                    .border_style(RGBColor(180, 180, 180))
                    .label_font((FONT, 13))
                    .draw()
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(12.5), "12.5");
        assert_eq!(short_number(69_000.0), "69k");
        assert_eq!(short_number(1_250_000.0), "1.25M");
        assert_eq!(short_number(250_000.0), "250k");
    }
}
