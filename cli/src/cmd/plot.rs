//! `tensorlift plot`: an elementwise function of one vector variable over a range, and its
//! derivative with `--grad` (tensorlift's `grad` of the sum, which for an elementwise
//! function is the vector of derivatives), drawn with `plotters` to SVG or PNG by the file's
//! extension: both curves, axes with labels, a legend. The values come from the JIT.
//!
//! Text is drawn with the embedded DejaVu Sans (no system font needed), or with the
//! TrueType font `TENSORLIFT_FONT` names.

use crate::app::PlotArgs;
use crate::cmd::{compile, prepare};
use crate::error::{CliError, CliResult};
use plotters::coord::Shift;
use plotters::prelude::*;
use tensorlift as tl;

/// Registers plotters' "sans-serif" (once per process): the TrueType font named by
/// `TENSORLIFT_FONT`, else the embedded DejaVu Sans.
fn register_font() -> CliResult<()> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let bytes: &'static [u8] = match std::env::var_os("TENSORLIFT_FONT") {
            Some(path) => {
                let bytes = std::fs::read(&path).map_err(|e| {
                    format!("plot: cannot read TENSORLIFT_FONT={}: {e}", path.to_string_lossy())
                })?;
                Box::leak(bytes.into_boxed_slice())
            }
            None => dejavu::sans::regular(),
        };
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| "plot: TENSORLIFT_FONT is not a TrueType font".to_string())
    })
    .clone()
    .map_err(CliError::user)
}

/// The sampled curves.
struct Curves {
    var: String,
    expr: String,
    xs: Vec<f64>,
    ys: Vec<f64>,
    dys: Option<Vec<f64>>,
}

fn parse_range(s: &str) -> CliResult<(f64, f64)> {
    let bad = || {
        CliError::user(format!(
            "plot: --range {s:?}: expected A,B with finite numbers A < B, e.g. --range -5,5"
        ))
    };
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let num = |t: &str| {
        crate::values::parse_value(t.trim()).ok().filter(|l| l.shape.is_empty()).map(|l| l.to_f64()[0])
    };
    let (a, b) = (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?);
    if !(a.is_finite() && b.is_finite() && a < b) {
        return Err(bad());
    }
    Ok((a, b))
}

fn parse_size(s: &str) -> CliResult<(u32, u32)> {
    let bad = || {
        CliError::user(format!(
            "plot: --size {s:?}: expected WIDTHxHEIGHT between 200 and 8000, e.g. 800x500"
        ))
    };
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if !(200..=8000).contains(&w) || !(200..=8000).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// Runs `plot`; writes the file and returns nothing for stdout (a note goes to stderr).
pub fn run(a: &PlotArgs) -> CliResult<String> {
    let p = prepare(&a.expr)?;
    let (lo, hi) = parse_range(&a.range)?;
    let size = parse_size(&a.size)?;
    if !(2..=10_000_000).contains(&a.points) {
        return Err(CliError::user("plot: --points must be between 2 and 10000000"));
    }
    let ext = a.output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let png = match ext.as_deref() {
        Some("svg") => false,
        Some("png") => true,
        _ => {
            return Err(CliError::user(format!(
                "plot: -o {}: the file name must end in .svg or .png",
                a.output.display()
            )))
        }
    };
    let used = p.used();
    let free: Vec<_> = used.iter().filter(|d| d.value.is_none()).collect();
    let xd = match free.as_slice() {
        [one] => **one,
        [] => {
            return Err(CliError::user(
                "plot: the expression needs one variable without a value for the x axis, e.g. --var x:dvector",
            ))
        }
        many => {
            return Err(CliError::user(format!(
                "plot: one variable is plotted, but {} have no value; give the others values with --var NAME=VALUE",
                many.iter().map(|d| format!("`{}`", d.name)).collect::<Vec<_>>().join(", ")
            )))
        }
    };
    if xd.var.ndim() != 1 || !xd.var.dtype().is_float() {
        return Err(CliError::user(format!(
            "plot: `{}` has type {}; the plotted variable is a float vector: --var {}:dvector",
            xd.name,
            xd.var.ty(),
            xd.name
        )));
    }
    let y = p.built.var.clone();
    let mut outputs = vec![y.clone()];
    if a.grad {
        outputs.push(tl::grad(&y.sum(), &xd.var)?);
    }
    let inputs: Vec<tl::Var> = used.iter().map(|d| d.var.clone()).collect();
    let n = a.points;
    let xs: Vec<f64> = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect();
    let args: Vec<tl::Arg> = used
        .iter()
        .map(|d| match &d.value {
            Some(v) => tl::Arg::from(v.clone()),
            None => tl::Arg::from(tl::Tensor::from(xs.clone()).cast(d.var.dtype())),
        })
        .collect();
    let f = compile(&inputs, &outputs, tl::Mode::Jit)?;
    let outs = f.call(&args)?;
    let flat = |t: &tl::Tensor, what: &str| -> CliResult<Vec<f64>> {
        if t.shape() != [n] {
            return Err(CliError::user(format!(
                "plot: {what} has shape {:?} for {n} points of `{}`; plot needs an elementwise function of it",
                t.shape(),
                xd.name
            )));
        }
        Ok(t.to_f64_vec())
    };
    let ys = flat(&outs[0], "the expression")?;
    let dys = if a.grad { Some(flat(&outs[1], "the derivative")?) } else { None };
    let curves = Curves { var: xd.name.clone(), expr: a.expr.expr.clone(), xs, ys, dys };
    register_font()?;
    write_plot(&a.output, png, size, &curves)
        .map_err(|e| CliError::user(format!("plot: cannot write {}: {e}", a.output.display())))?;
    eprintln!(
        "wrote {} ({} points of {} on [{lo}, {hi}]{})",
        a.output.display(),
        n,
        curves.var,
        if a.grad { ", with the derivative" } else { "" }
    );
    Ok(String::new())
}

/// Draws the curves into a file next to `output` and renames it to `output` once it is
/// complete: a plot that fails leaves no file behind (and an existing `output` untouched).
fn write_plot(output: &std::path::Path, png: bool, size: (u32, u32), curves: &Curves) -> Result<(), String> {
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = if png { "png" } else { "svg" };
    let tmp = output.with_file_name(format!(".{name}.{}.partial.{ext}", std::process::id()));
    // Each backend writes its file when it is dropped, also after an error: the block ends
    // before the partial file is removed.
    let drawn = if png {
        draw(BitMapBackend::new(&tmp, size).into_drawing_area(), curves)
    } else {
        draw(SVGBackend::new(&tmp, size).into_drawing_area(), curves)
    };
    let done = drawn.and_then(|()| std::fs::rename(&tmp, output).map_err(|e| e.to_string()));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Runs of consecutive finite points (a NaN or infinity breaks the line).
fn segments(xs: &[f64], ys: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (&x, &y) in xs.iter().zip(ys) {
        if y.is_finite() {
            out.last_mut().expect("non-empty").push((x, y));
        } else if !out.last().expect("non-empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &Curves) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let finite = c.ys.iter().chain(c.dys.iter().flatten()).copied().filter(|v| v.is_finite());
    let (mut ymin, mut ymax) =
        finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !ymin.is_finite() {
        return Err("the function has no finite value on this range".into());
    }
    if ymax - ymin < 1e-12 {
        ymin -= 1.0;
        ymax += 1.0;
    }
    let pad = (ymax - ymin) * 0.06;
    let (xmin, xmax) = (c.xs[0], c.xs[c.xs.len() - 1]);
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{}   over {} in [{xmin}, {xmax}]", c.expr, c.var), ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(xmin..xmax, (ymin - pad)..(ymax + pad))
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(c.var.as_str())
        .y_desc("value")
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 13))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let mut series = vec![(c.expr.clone(), &c.ys, blue)];
    if let Some(d) = &c.dys {
        series.push((format!("d/d{} (tensorlift grad)", c.var), d, orange));
    }
    for (label, ys, color) in series {
        for (k, seg) in segments(&c.xs, ys).into_iter().enumerate() {
            let s = chart.draw_series(LineSeries::new(seg, color.stroke_width(2))).map_err(e)?;
            if k == 0 {
                s.label(label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2)));
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// An axis label: the value to 6 decimals without trailing zeros, and never `-0`.
fn tick(v: f64) -> String {
    let r = (v * 1e6).round() / 1e6;
    // -0.0 == 0.0: a label that rounds to zero is `0`, whatever its sign.
    let r = if r == 0.0 { 0.0 } else { r };
    format!("{r}")
}

#[cfg(test)]
mod tick_tests {
    use super::tick;

    #[test]
    fn labels_never_show_negative_zero() {
        assert_eq!(tick(-0.0), "0");
        assert_eq!(tick(-1e-12), "0");
        assert_eq!(tick(-2.5), "-2.5");
        assert_eq!(tick(0.1 + 0.2), "0.3");
        assert_eq!(tick(5.0), "5");
    }
}
