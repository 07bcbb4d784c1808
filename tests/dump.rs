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
