//! Charts of an analytics pull, as SVG drawn by plotters: a line per (indicator, org unit) over
//! the periods when a pull has several periods, else horizontal bars, one per org unit (and
//! indicator), for its one period. Titles, axes and legend are in the request's language.
//!
//! plotters writes no ids or classes, so each part is drawn in a pass of its own on the same
//! frame (the same size, margins and ranges, hence the same pixels) and the passes are put
//! together inside `<g>` elements: `class="frame"` (title, axes, grid), `class="legend"`, and
//! one `class="series"` per series with `data-indicator` and `data-org-unit` (bars:
//! `data-indicator` only). A frontend can style them; tests count them.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::domain::indicator::IndicatorUnit;
use crate::domain::period::Period;
use crate::error::{ApiError, ApiResult, Issue, IssueKind};
use crate::i18n::Lang;
use crate::repository::indicators::IndicatorRow;
use crate::routes::analytics::Analytics;

/// The most lines (indicator × org unit) a line chart draws: beyond, no one can tell them apart.
pub const MAX_LINES: usize = 20;
/// The most bars (indicator × org unit) a bar chart draws: Colombia's 33 departamentos fit.
pub const MAX_BARS: usize = 40;

/// The media type of a chart.
pub const SVG: &str = "image/svg+xml";

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;
const LEGEND_WIDTH: u32 = 250;
const TITLE_HEIGHT: u32 = 48;
const FOOTER_HEIGHT: u32 = 24;
const FONT: &str = "sans-serif";
// plotters writes a font size as given divided by 1.24 (points to pixels): 24 is 19.4 px.
const TITLE_SIZE: f64 = 24.0;
const AXIS_SIZE: f64 = 16.0;
const LABEL_SIZE: f64 = 14.0;
const NOTE_SIZE: f64 = 13.0;

/// Twenty colours told apart on screen and paper (Tableau 10, then darker companions).
const PALETTE: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(17, 70, 110),
    RGBColor(166, 82, 9),
    RGBColor(26, 96, 26),
    RGBColor(138, 25, 26),
    RGBColor(92, 62, 120),
    RGBColor(84, 51, 45),
    RGBColor(153, 60, 122),
    RGBColor(64, 64, 64),
    RGBColor(112, 113, 20),
    RGBColor(14, 114, 124),
];

/// Whether `Accept` prefers a chart: `image/svg+xml` with a quality above zero and no lower than
/// that of `application/json` and `text/csv` (earlier wins a tie). Wildcards do not ask for a
/// chart: `*/*` keeps JSON.
pub fn wants_svg(accept: &str) -> bool {
    let mut best: Option<(&str, f32)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let media = parts.next().unwrap_or("").trim();
        if ![SVG, "application/json", "text/csv"]
            .iter()
            .any(|m| m.eq_ignore_ascii_case(media))
        {
            continue;
        }
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((media, quality));
        }
    }
    best.is_some_and(|(media, _)| media.eq_ignore_ascii_case(SVG))
}

/// The definitions a chart names: those of the codes asked and of the rows (ids asked are
/// codes in the rows).
pub fn codes_to_name(asked: &[String], analytics: &Analytics) -> Vec<String> {
    let mut codes: Vec<String> = asked.to_vec();
    for row in &analytics.rows {
        if !codes.contains(&row.indicator) {
            codes.push(row.indicator.clone());
        }
    }
    codes
}

/// One line, or one indicator's bars.
struct Series {
    indicator: String,
    org_unit: Option<String>,
    label: String,
    /// Per category: per period (lines) or per org unit (bars). `None` is a gap.
    values: Vec<Option<f64>>,
}

/// What every pass draws on: size, legend column, ranges and their tick marks.
struct Frame {
    height: u32,
    legend: bool,
    x: Axis,
    y: Axis,
}

#[derive(Clone)]
struct Axis {
    range: (f64, f64),
    ticks: Vec<f64>,
}

/// A linear axis with the tick marks given. plotters' own key-point binding keeps `f64`'s
/// format option, which leaves the mesh unable to take label formatters; this one can.
struct Scale(Axis);

impl Ranged for Scale {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.0.range.0..self.0.range.1).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Bold marks only: no light grid lines between them.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.0.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.0.range.0..self.0.range.1
    }
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Scale, Scale>>;
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

impl Frame {
    fn plot_width(&self) -> u32 {
        if self.legend {
            WIDTH - LEGEND_WIDTH
        } else {
            WIDTH
        }
    }

    /// Draws one pass and returns the elements it wrote, without the `<svg>` around them.
    fn pass<F>(&self, y_label_width: u32, draw: F) -> ApiResult<String>
    where
        F: for<'a, 'b> FnOnce(&DrawingArea<SVGBackend<'b>, Shift>, &mut Chart<'a, 'b>) -> Drawn,
    {
        let mut buffer = String::new();
        {
            let root =
                SVGBackend::with_string(&mut buffer, (WIDTH, self.height)).into_drawing_area();
            let drawn = (|| -> Drawn {
                let (plot, _) = root.split_horizontally(self.plot_width());
                let mut chart = ChartBuilder::on(&plot)
                    .margin_top(TITLE_HEIGHT)
                    .margin_bottom(FOOTER_HEIGHT)
                    .margin_left(16)
                    .margin_right(24)
                    .x_label_area_size(48)
                    .y_label_area_size(y_label_width)
                    .build_cartesian_2d(Scale(self.x.clone()), Scale(self.y.clone()))?;
                draw(&root, &mut chart)?;
                root.present()
            })();
            drawn.map_err(drawing_error)?;
        }
        inner(&buffer)
    }
}

fn drawing_error(error: DrawingAreaErrorKind<std::io::Error>) -> ApiError {
    ApiError::internal(anyhow::anyhow!("drawing a chart: {error}"))
}

/// The elements of a document plotters wrote: between its `<svg …>` line and `</svg>`.
fn inner(document: &str) -> ApiResult<String> {
    document
        .split_once('\n')
        .and_then(|(open, rest)| open.starts_with("<svg").then_some(rest))
        .and_then(|rest| rest.trim_end().strip_suffix("</svg>"))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("plotters wrote an unexpected SVG")))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A figure as people write it: a decimal comma in Spanish.
fn number(value: f64, decimals: usize, lang: Lang) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text == "-0" { "0".to_owned() } else { text };
    match lang {
        Lang::Es => text.replace('.', ","),
        Lang::En => text,
    }
}

/// Decimals enough for a figure: none for a whole one, one above 10, else two.
fn decimals_of(value: f64) -> usize {
    if (value - value.round()).abs() < 1e-9 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    }
}

/// A value axis from `low` to `high`: zero included, about five round ticks (1, 2, 2.5 or 5
/// times a power of ten), the ends on ticks.
fn value_axis(low: f64, high: f64) -> (Axis, usize) {
    let (low, high) = (low.min(0.0), high.max(0.0));
    let high = if high - low < 1e-12 { low + 1.0 } else { high };
    let raw = (high - low) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let start = (low / step + 1e-9).floor() * step;
    let end = (high / step - 1e-9).ceil() * step;
    let count = ((end - start) / step).round() as usize;
    let ticks = (0..=count).map(|i| start + i as f64 * step).collect();
    let mut decimals = 0;
    while decimals < 6 {
        let scaled = step * 10f64.powi(decimals as i32);
        if (scaled - scaled.round()).abs() < 1e-6 {
            break;
        }
        decimals += 1;
    }
    (
        Axis {
            range: (start, end),
            ticks,
        },
        decimals,
    )
}

/// A category axis of `count` slots: slot `i` is centred on `i + 0.5`; at most `labels` marks.
fn category_axis(count: usize, labels: usize) -> Axis {
    let every = count.div_ceil(labels.max(1)).max(1);
    Axis {
        range: (0.0, count.max(1) as f64),
        ticks: (0..count).step_by(every).map(|i| i as f64 + 0.5).collect(),
    }
}

/// The slot of a category mark.
fn slot(mark: f64) -> usize {
    (mark - 0.5).round().max(0.0) as usize
}

fn unit_name(unit: &str, lang: Lang) -> String {
    let known = [
        (IndicatorUnit::Percent, "Porcentaje", "Percent"),
        (IndicatorUnit::Count, "Cantidad", "Count"),
        (IndicatorUnit::Rate, "Tasa", "Rate"),
        (IndicatorUnit::Score, "Puntaje", "Score"),
        (IndicatorUnit::Currency, "Monto", "Amount"),
    ];
    known.iter().find(|(u, ..)| u.as_str() == unit).map_or_else(
        || unit.to_owned(),
        |(_, es, en)| lang.pick(es, en).to_string(),
    )
}

/// What a chart is drawn from: the pull, and what was asked.
pub struct ChartQuery<'a> {
    pub analytics: &'a Analytics,
    /// The definitions of the indicators, for their names and units.
    pub definitions: &'a [IndicatorRow],
    /// The indicators as asked (codes or ids): the legend and title follow this order.
    pub indicators: &'a [String],
    /// The periods asked: the x axis puts them in order.
    pub periods: &'a [Period],
    pub lang: Lang,
}

/// Draws a pull as an SVG document. Too many series for a readable chart is a 400 on
/// `org_unit`.
pub fn render(query: &ChartQuery) -> ApiResult<String> {
    let ChartQuery {
        analytics,
        definitions,
        indicators: asked,
        periods,
        lang,
    } = *query;
    let mut periods: Vec<&Period> = periods.iter().collect();
    periods.sort_by_key(|p| (p.start, p.end));
    periods.dedup_by(|a, b| a.code == b.code);
    // Indicators and org units in the pull's order.
    let mut indicators: Vec<&str> = Vec::new();
    let mut units: Vec<(&str, &str)> = Vec::new();
    let mut values: HashMap<(&str, &str, &str), Option<f64>> = HashMap::new();
    for row in &analytics.rows {
        if !indicators.contains(&row.indicator.as_str()) {
            indicators.push(&row.indicator);
        }
        if !units.iter().any(|(u, _)| *u == row.org_unit) {
            units.push((&row.org_unit, &row.org_unit_name));
        }
        values.insert(
            (&row.indicator, &row.org_unit, &row.period),
            row.value.filter(|v| v.is_finite()),
        );
    }
    let definition = |code: &str| definitions.iter().find(|d| d.code == code);
    let rank = |code: &str| {
        asked.iter().position(|a| {
            a == code || definition(code).is_some_and(|d| d.id.0.to_string() == a.to_lowercase())
        })
    };
    indicators.sort_by_key(|code| rank(code).unwrap_or(usize::MAX));
    let name = |code: &str| {
        definition(code).map_or_else(
            || code.to_owned(),
            |d| lang.pick(&d.name_es, &d.name_en).clone(),
        )
    };
    let lines = periods.len() > 1;
    let count = indicators.len() * units.len();
    let max = if lines { MAX_LINES } else { MAX_BARS };
    if count > max {
        return Err(ApiError::InvalidParameters(vec![Issue::query(
            "org_unit",
            IssueKind::TooManySeries { max },
        )]));
    }
    // With no rows, the definitions asked still name the chart.
    let names: Vec<String> = if indicators.is_empty() {
        definitions
            .iter()
            .map(|d| lang.pick(&d.name_es, &d.name_en).clone())
            .collect()
    } else {
        indicators.iter().map(|c| name(c)).collect()
    };
    let when = match (periods.first(), periods.last()) {
        (Some(first), Some(last)) if lines => format!("{}–{}", first.code, last.code),
        (Some(only), _) => only.code.clone(),
        _ => String::new(),
    };
    let title = match (names.is_empty(), when.is_empty()) {
        (true, _) => lang.pick("Sin datos", "No data").to_owned(),
        (false, true) => names.join("; "),
        (false, false) => format!("{} — {when}", names.join("; ")),
    };
    let footer = lang.pick(
        format!(
            "Redes · datos al {}",
            analytics.as_of.format("%Y-%m-%d %H:%M UTC")
        ),
        format!(
            "Redes · data as of {}",
            analytics.as_of.format("%Y-%m-%d %H:%M UTC")
        ),
    );
    let mut unit_names: Vec<String> = Vec::new();
    for code in &indicators {
        let unit = definition(code).map_or_else(String::new, |d| unit_name(&d.unit, lang));
        if !unit.is_empty() && !unit_names.contains(&unit) {
            unit_names.push(unit);
        }
    }
    let value_desc = unit_names.join(" / ");

    let series: Vec<Series> = if lines {
        let mut series = Vec::new();
        for indicator in &indicators {
            for (org_unit, unit_label) in &units {
                let label = if indicators.len() > 1 {
                    format!("{unit_label} · {}", name(indicator))
                } else {
                    (*unit_label).to_owned()
                };
                series.push(Series {
                    indicator: (*indicator).to_owned(),
                    org_unit: Some((*org_unit).to_owned()),
                    label,
                    values: periods
                        .iter()
                        .map(|p| {
                            values
                                .get(&(*indicator, *org_unit, p.code.as_str()))
                                .copied()
                                .flatten()
                        })
                        .collect(),
                });
            }
        }
        series
    } else {
        let period = periods.first().map_or("", |p| p.code.as_str());
        indicators
            .iter()
            .map(|indicator| Series {
                indicator: (*indicator).to_owned(),
                org_unit: None,
                label: name(indicator),
                values: units
                    .iter()
                    .map(|(org_unit, _)| {
                        values
                            .get(&(*indicator, *org_unit, period))
                            .copied()
                            .flatten()
                    })
                    .collect(),
            })
            .collect()
    };
    let figures: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .collect();
    let header = |height: u32| {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" xml:lang=\"{}\" role=\"img\" \
             aria-labelledby=\"chart-title\">\n<title id=\"chart-title\">{}</title>\n\
             <desc>{}</desc>\n",
            lang.tag(),
            escape(&title),
            escape(&footer),
        )
    };
    if figures.is_empty() {
        return no_data(&header(HEIGHT), &title, &footer, lang);
    }
    let (low, high) = figures
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    // A little room above the highest figure, so a line or bar never touches the frame.
    let (value_axis, tick_decimals) = value_axis(low, high + (high - low.min(0.0)).abs() * 0.05);
    let legend = lines || series.len() > 1;
    let categories = if lines { periods.len() } else { units.len() };
    let height = if lines {
        HEIGHT
    } else {
        HEIGHT.max(TITLE_HEIGHT + FOOTER_HEIGHT + 80 + 20 * u32::try_from(count).unwrap_or(0))
    };
    let frame = if lines {
        Frame {
            height,
            legend,
            x: category_axis(categories, 12),
            y: value_axis,
        }
    } else {
        // Horizontal bars: values along x, org units down y (the first on top).
        Frame {
            height,
            legend,
            x: value_axis,
            y: category_axis(categories, categories),
        }
    };
    let category_labels: Vec<String> = if lines {
        periods.iter().map(|p| p.code.clone()).collect()
    } else {
        units.iter().rev().map(|(_, n)| shorten(n, 26)).collect()
    };
    let y_label_width = if lines { 72 } else { 200 };
    let title_chars = usize::try_from(WIDTH / 11).unwrap_or(80);

    let mut document = header(height);
    document.push_str("<g class=\"frame\">\n");
    document.push_str(&frame.pass(y_label_width, |root, chart| {
        root.fill(&WHITE)?;
        root.draw(&Text::new(
            shorten(&title, title_chars),
            (i32::try_from(WIDTH / 2).unwrap_or(0), 14),
            (FONT, TITLE_SIZE)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        root.draw(&Text::new(
            footer.clone(),
            (
                i32::try_from(WIDTH).unwrap_or(0) - 12,
                i32::try_from(height).unwrap_or(0) - 8,
            ),
            (FONT, NOTE_SIZE)
                .into_font()
                .color(&RGBColor(110, 110, 110))
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        ))?;
        let category = |mark: &f64| {
            category_labels
                .get(slot(*mark))
                .cloned()
                .unwrap_or_default()
        };
        let figure = |mark: &f64| number(*mark, tick_decimals, lang);
        let mut mesh = chart.configure_mesh();
        mesh.bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(TRANSPARENT)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, AXIS_SIZE));
        if lines {
            mesh.disable_x_mesh()
                .x_desc(lang.pick("Período", "Period"))
                .y_desc(value_desc.clone())
                .x_label_formatter(&category)
                .y_label_formatter(&figure);
        } else {
            mesh.disable_y_mesh()
                .x_desc(value_desc.clone())
                .y_desc(lang.pick("Unidad", "Org unit"))
                .x_label_formatter(&figure)
                .y_label_formatter(&category);
        }
        mesh.draw()
    })?);
    document.push_str("</g>\n");

    if legend {
        document.push_str("<g class=\"legend\">\n");
        document.push_str(&frame.pass(y_label_width, |root, _| {
            let left = i32::try_from(WIDTH - LEGEND_WIDTH).unwrap_or(0) + 8;
            for (i, s) in series.iter().enumerate() {
                let y = i32::try_from(TITLE_HEIGHT).unwrap_or(0)
                    + 16
                    + 22 * i32::try_from(i).unwrap_or(0);
                let color = PALETTE[i % PALETTE.len()];
                root.draw(&Rectangle::new(
                    [(left, y - 5), (left + 18, y + 5)],
                    color.filled(),
                ))?;
                root.draw(&Text::new(
                    shorten(&s.label, 32),
                    (left + 26, y),
                    (FONT, LABEL_SIZE)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
            }
            Ok(())
        })?);
        document.push_str("</g>\n");
    }

    let bars = series.len();
    let show_figures = !lines && count <= 12;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        document.push_str(&format!(
            "<g class=\"series\" data-indicator=\"{}\"{}>\n",
            escape(&s.indicator),
            s.org_unit
                .as_ref()
                .map(|u| format!(" data-org-unit=\"{}\"", escape(u)))
                .unwrap_or_default()
        ));
        document.push_str(&frame.pass(y_label_width, |_, chart| {
            if lines {
                // Consecutive figures make a segment; a period without one is a gap.
                let mut segment: Vec<(f64, f64)> = Vec::new();
                let mut segments = Vec::new();
                for (slot, value) in s.values.iter().enumerate() {
                    match value {
                        Some(v) => segment.push((slot as f64 + 0.5, *v)),
                        None if !segment.is_empty() => segments.push(std::mem::take(&mut segment)),
                        None => {}
                    }
                }
                if !segment.is_empty() {
                    segments.push(segment);
                }
                for segment in segments {
                    if segment.len() > 1 {
                        chart.draw_series(LineSeries::new(
                            segment.iter().copied(),
                            color.stroke_width(2),
                        ))?;
                    }
                    chart
                        .draw_series(segment.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
                }
            } else {
                let band = 0.8 / bars as f64;
                let slots = s.values.len();
                for (unit, value) in s.values.iter().enumerate() {
                    // The first org unit on top.
                    let top = (slots - unit) as f64 - 0.1 - band * i as f64;
                    let middle = top - band / 2.0;
                    let style = (FONT, NOTE_SIZE)
                        .into_font()
                        .color(&RGBColor(60, 60, 60))
                        .pos(Pos::new(HPos::Left, VPos::Center));
                    match value {
                        Some(v) => {
                            chart.draw_series(std::iter::once(Rectangle::new(
                                [(0.0, top - band * 0.9), (*v, top)],
                                color.filled(),
                            )))?;
                            if show_figures {
                                chart.draw_series(std::iter::once(
                                    EmptyElement::at((v.max(0.0), middle))
                                        + Text::new(
                                            number(*v, decimals_of(*v), lang),
                                            (4, 0),
                                            style,
                                        ),
                                ))?;
                            }
                        }
                        None => {
                            chart.draw_series(std::iter::once(
                                EmptyElement::at((0.0, middle))
                                    + Text::new(lang.pick("s/d", "n/a"), (4, 0), style),
                            ))?;
                        }
                    }
                }
            }
            Ok(())
        })?);
        document.push_str("</g>\n");
    }
    document.push_str("</svg>\n");
    Ok(document)
}

/// A chart with nothing to draw: its title and "no data".
fn no_data(header: &str, title: &str, footer: &str, lang: Lang) -> ApiResult<String> {
    let mut buffer = String::new();
    {
        let root = SVGBackend::with_string(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn = (|| -> Drawn {
            root.fill(&WHITE)?;
            let centre = i32::try_from(WIDTH / 2).unwrap_or(0);
            for (text, y, size) in [
                (title, 14, TITLE_SIZE),
                (lang.pick("Sin datos", "No data"), 250, 34.0),
                (footer, i32::try_from(HEIGHT).unwrap_or(0) - 28, NOTE_SIZE),
            ] {
                root.draw(&Text::new(
                    shorten(text, 86),
                    (centre, y),
                    (FONT, size)
                        .into_font()
                        .color(&RGBColor(90, 90, 90))
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
            root.present()
        })();
        drawn.map_err(drawing_error)?;
    }
    Ok(format!(
        "{header}<g class=\"frame\">\n{}</g>\n</svg>\n",
        inner(&buffer)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_chosen_only_when_preferred() {
        assert!(wants_svg("image/svg+xml"));
        assert!(wants_svg("image/svg+xml, application/json;q=0.9"));
        assert!(wants_svg("text/csv;q=0.5, image/svg+xml"));
        assert!(!wants_svg("application/json, image/svg+xml"));
        assert!(!wants_svg("image/svg+xml;q=0"));
        assert!(!wants_svg("*/*"));
        assert!(!wants_svg("text/csv"));
        assert!(!wants_svg("image/*"));
    }

    #[test]
    fn value_axes_start_at_zero_and_end_on_round_ticks() {
        let (axis, decimals) = value_axis(60.0, 84.0);
        assert_eq!(axis.range, (0.0, 100.0));
        assert_eq!(axis.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(decimals, 0);
        let (axis, decimals) = value_axis(-3.0, 0.4);
        assert!(axis.range.0 <= -3.0 && axis.range.1 >= 0.4);
        assert!(axis.ticks.contains(&0.0) || axis.ticks.iter().any(|t| t.abs() < 1e-9));
        assert!(decimals <= 1);
        let (axis, _) = value_axis(0.0, 0.0);
        assert_eq!(axis.range, (0.0, 1.0));
    }

    #[test]
    fn figures_are_written_as_people_write_them() {
        assert_eq!(number(73.333, 1, Lang::Es), "73,3");
        assert_eq!(number(73.333, 1, Lang::En), "73.3");
        assert_eq!(decimals_of(80.0), 0);
        assert_eq!(shorten("Región de la Araucanía", 10), "Región de…");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
