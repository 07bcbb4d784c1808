//! #14: the crate's source stays navigable — no kernel file over 800 lines, and the modules'
//! imports (`use crate::…`, `use super::…`, a module's `use child::…`, and `crate::x::…`
//! paths in code) form no cycle; in particular `kernel` knows nothing of `chunked`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file: `lib.rs` is `[]`, `a/mod.rs` and `a.rs` are `[a]`,
/// `a/b.rs` is `[a, b]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The path segments that follow `at` in `line` (`a::b::{c, d::e}` gives `[a, b]` and the
/// first segment of each braced item, as alternatives: `[[a, b, c], [a, b, d, e]]`).
fn paths_after(rest: &str) -> Vec<Vec<String>> {
    let mut segs = Vec::new();
    let mut s = rest;
    loop {
        let ident: String = s.chars().take_while(|&c| is_ident_char(c)).collect();
        if ident.is_empty() {
            break;
        }
        s = &s[ident.len()..];
        segs.push(ident);
        match s.strip_prefix("::") {
            Some(r) => s = r,
            None => return vec![segs],
        }
    }
    if let Some(inner) = s.strip_prefix('{') {
        let inner = inner.split('}').next().unwrap_or("");
        let alts: Vec<Vec<String>> = inner
            .split(',')
            .map(|item| {
                let mut p = segs.clone();
                p.extend(
                    item.trim().split("::").map(|x| x.chars().take_while(|&c| is_ident_char(c)).collect()),
                );
                p.retain(|x: &String| !x.is_empty());
                p
            })
            .collect();
        if !alts.is_empty() {
            return alts;
        }
    }
    vec![segs]
}

/// The longest prefix of `path` that names a module.
fn target(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p))
}

/// The import edges of each module (to another module, not itself).
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let me = module_of(src, file);
        let text = std::fs::read_to_string(file).expect("readable source");
        // Inline test modules import their parent with `use super::*`: not a module edge.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let mut edges = BTreeSet::new();
        for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            let mut found: Vec<Vec<String>> = Vec::new();
            for (at, _) in line.match_indices("crate::") {
                if line[..at].ends_with(|c: char| is_ident_char(c)) {
                    continue;
                }
                found.extend(paths_after(&line[at + "crate::".len()..]));
            }
            for (at, _) in line.match_indices("super::") {
                if line[..at].ends_with(|c: char| is_ident_char(c) || c == ':') {
                    continue;
                }
                let parent = me[..me.len().saturating_sub(1)].to_vec();
                for p in paths_after(&line[at + "super::".len()..]) {
                    found.push(parent.iter().cloned().chain(p).collect());
                }
            }
            if let Some((_, u)) =
                line.split_once("use ").filter(|(pre, _)| pre.is_empty() || pre.starts_with("pub"))
            {
                for p in paths_after(u) {
                    let child: Vec<String> = me.iter().cloned().chain(p.iter().take(1).cloned()).collect();
                    if !p.is_empty() && modules.contains(&child) {
                        found.push(me.iter().cloned().chain(p).collect());
                    }
                }
            }
            for p in found {
                if let Some(t) = target(&modules, &p) {
                    if t != me && !t.is_empty() {
                        edges.insert(t);
                    }
                }
            }
        }
        graph.insert(me, edges);
    }
    graph
}

/// A cycle of the graph, if any, as the modules along it.
fn find_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        node: &Vec<String>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            return Some(stack[at..].iter().chain([node]).map(|m| m.join("::")).collect());
        }
        if !done.insert(node.clone()) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(graph, next, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(graph, n, &mut Vec::new(), &mut done))
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// No file of the JIT over 800 lines (the workspace-wide rule, with its exceptions, is
/// `tests/architecture.rs`'s).
#[test]
fn no_kernel_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    sources(&src_dir(), &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).expect("readable").lines().count()))
        .filter(|&(_, n)| n > MAX_LINES)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

#[test]
fn module_imports_form_no_cycle() {
    let graph = import_graph(&src_dir());
    let kernel = vec!["kernel".to_string()];
    assert!(graph.contains_key(&kernel), "the kernel module is found: {:?}", graph.keys());
    assert_eq!(find_cycle(&graph), None, "imports: {graph:?}");
}

#[test]
fn the_kernel_module_knows_nothing_of_chunks() {
    let graph = import_graph(&src_dir());
    let chunked = vec!["chunked".to_string()];
    for (module, edges) in graph.iter().filter(|(m, _)| m.first().is_some_and(|m| m == "kernel")) {
        assert!(!edges.contains(&chunked), "{} imports chunked", module.join("::"));
    }
}

/// The cycle finder itself: a two-module cycle is found, a chain is not.
#[test]
fn the_cycle_finder_finds_cycles() {
    let m = |s: &str| vec![s.to_string()];
    let mut g = BTreeMap::new();
    g.insert(m("a"), BTreeSet::from([m("b")]));
    g.insert(m("b"), BTreeSet::from([m("c")]));
    g.insert(m("c"), BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
    g.get_mut(&m("c")).expect("c").insert(m("a"));
    assert!(find_cycle(&g).is_some());
}
