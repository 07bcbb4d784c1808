//! `Function::dump`: every stage of the tutorial's gradient of `(x-4)*(x**2+6)` as text.

use tensorlift as tl;
use tl::{Mode, Stage};

fn tutorial_gradient() -> tl::Function {
    let x = tl::dvector("x");
    let y = (&x - 4.0) * (x.pow(2) + 6.0);
    let gy = tl::grad(&y.sum(), &[&x]).unwrap().remove(0);
    tl::Function::builder(&[&x], &[gy]).mode(Mode::Jit).build().unwrap()
}

#[test]
fn every_stage_dumps() {
    let f = tutorial_gradient();
    let graph = f.dump(Stage::Graph).unwrap();
    assert!(graph.starts_with("output 0: "), "{graph}");
    assert!(graph.contains("fill") || graph.contains("second") || graph.contains("pow"), "{graph}");
    let opt = f.dump(Stage::Optimized).unwrap();
    assert!(opt.starts_with("output 0: Composite{"), "{opt}");
    assert!(opt.contains("Inner graphs"), "{opt}");
    let trace = f.dump(Stage::Trace).unwrap();
    assert!(trace.contains("elemwise_fusion"), "{trace}");

    let clif = f.dump(Stage::Clif).unwrap();
    assert!(clif.starts_with("; kernel 0: ") && clif.contains("Composite{"), "{clif}");
    assert!(clif.contains("function ") && clif.contains("fmul"), "{clif}");
    let clif_opt = f.dump(Stage::ClifOpt).unwrap();
    assert!(clif_opt.contains("function ") && clif_opt != clif, "{clif_opt}");
    let asm = f.dump(Stage::Asm).unwrap();
    assert!(asm.starts_with("; kernel 0: ") && asm.contains("Composite{"), "{asm}");
    assert!(asm.contains("mul") && asm.contains("ret"), "{asm}");

    let dot = f.dump(Stage::Dot).unwrap();
    assert!(dot.starts_with("digraph tensorlift {") && dot.trim_end().ends_with('}'), "{dot}");
    assert!(dot.contains("-> out0"), "{dot}");
    assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{dot}");
}

#[test]
fn kernel_stages_are_empty_without_the_jit() {
    let x = tl::dvector("x");
    let f = tl::Function::builder(&[&x], &[(&x * 2.0).exp()]).mode(Mode::Interp).build().unwrap();
    assert_eq!(f.dump(Stage::Clif).unwrap(), "");
    assert_eq!(f.dump(Stage::Asm).unwrap(), "");
    assert!(!f.dump(Stage::Optimized).unwrap().is_empty());
}

#[test]
fn stage_names_round_trip() {
    for s in Stage::ALL {
        assert_eq!(s.name().parse::<Stage>().unwrap(), s);
    }
    let err = "cliff".parse::<Stage>().unwrap_err();
    assert!(err.contains("clif-opt"), "{err}");
}

#[test]
fn the_schedule_shows_how_each_step_runs_and_what_dies() {
    let x = tl::dmatrix("x");
    let w = tl::dvector("w");
    let e = tl::exp(&x);
    let y = tl::dot(&e, &w);
    let f = tl::Function::builder(&[&x, &w], &[y, e.sum_axis(0)]).mode(Mode::Jit).build().unwrap();
    let s = f.dump(Stage::Schedule).unwrap();
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with("%0 = input : float64[?,?]"), "{s}");
    assert!(lines.iter().any(|l| l.contains("= native composite(%0)") && l.contains("frees %0")), "{s}");
    assert!(lines.iter().any(|l| l.contains("= matmul dot(")), "{s}");
    assert!(lines.last().unwrap().starts_with("return "), "{s}");
    let interp = tl::Function::builder(&[&x], &[tl::exp(&x)]).mode(Mode::Interp).build().unwrap();
    assert!(interp.dump(Stage::Schedule).unwrap().contains("= reference composite(%0)"));
}
