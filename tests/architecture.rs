//! The architecture test: no module cycles inside a crate, and no dependency against the
//! crate order `ir → opt/jit → runtime → facade (root) → cli/python`, with `expr` (on `ir`
//! only) beside the runtime, used by the facade and the CLI.
//!
//! It reads every `.rs` file under the `src/` of each crate of the workspace and collects
//! each module's dependencies on other modules of the same crate:
//!
//! - `use crate::…` and `use super::…` (use trees with braces, `self`, globs and `as`),
//!   and `crate::x::…` / `super::x::…` paths anywhere in code (`crate::print::pp(self)` is a
//!   dependency on `print`); comments and string literals are skipped.
//! - A file's module is its place under `src/` (`a.rs` and `a/mod.rs` are `a`, `a/b.rs` is
//!   `a::b`); an inline `mod m { … }` is a submodule of its file's module.
//! - A path to a name the crate root re-exports (`crate::Var`) is a dependency on the module
//!   the root re-exports it from.
//!
//! The rule for cycles: a module and its own submodules are one unit. A dependency of a
//! module on its ancestor (`super::…` from a submodule, `use super::*` in `mod tests`) or on
//! its descendant is no edge. Any other dependency from `P` to `Q` is an edge between the two
//! siblings where the paths part: with `L` their common prefix, `P[L] → Q[L]` among the
//! children of `L` (so `a::x → b::y` is `a → b` among the top-level modules, and
//! `a::x → a::y` is `x → y` among the children of `a`). Every group of siblings must be
//! acyclic. The crate root (`lib.rs`) declares and re-exports: it is no unit, and a binary's
//! `main.rs` is its own crate.
//!
//! The crate order is read from each crate's `Cargo.toml` (`[dependencies]` and
//! `[target.….dependencies]`) and from the crate names its sources use: `ir` may depend on
//! no other tensorlift crate, `opt` and `jit` on `ir`, `runtime` on `ir`, `opt` and `jit`,
//! the root on those, `cli` and `python` on the root.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A module path inside a crate (`[]` is the crate root).
type ModPath = Vec<String>;

/// One token of Rust source: an identifier (or keyword), `::`, or one punctuation char.
#[derive(Clone, Debug, PartialEq)]
struct Tok {
    text: String,
    line: usize,
}

/// Splits source into tokens, skipping comments, string and char literals, and numbers.
fn tokenize(src: &str) -> Vec<Tok> {
    let b: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let n = b.len();
    let count_lines = |s: &[char]| s.iter().filter(|&&c| c == '\n').count();
    while i < n {
        let c = b[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < n && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            let (start, mut depth) = (i, 0);
            while i < n {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            line += count_lines(&b[start..i.min(n)]);
        } else if c == 'r'
            && (b.get(i + 1) == Some(&'#') || b.get(i + 1) == Some(&'"'))
            && raw_string_at(&b, i)
        {
            i = skip_raw_string(&b, i, &mut line);
        } else if c == 'b' && b.get(i + 1) == Some(&'r') && raw_string_at(&b, i + 1) {
            i = skip_raw_string(&b, i + 1, &mut line);
        } else if c == '"' || (c == 'b' && b.get(i + 1) == Some(&'"')) {
            i += if c == 'b' { 2 } else { 1 };
            while i < n && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if i < n && b[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{..}') or a lifetime ('a).
            if b.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < n && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < n && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok { text: b[start..i].iter().collect(), line });
        } else if c.is_ascii_digit() {
            while i < n && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.') {
                // `1..n`: stop before a range.
                if b[i] == '.' && b.get(i + 1) == Some(&'.') {
                    break;
                }
                i += 1;
            }
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            out.push(Tok { text: "::".into(), line });
            i += 2;
        } else {
            out.push(Tok { text: c.to_string(), line });
            i += 1;
        }
    }
    out
}

/// Whether a raw string (`r"…"`, `r#"…"#`) starts at `i` (which holds the `r`).
fn raw_string_at(b: &[char], i: usize) -> bool {
    if i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_') && b[i - 1] != 'b' {
        return false;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&'#') {
        j += 1;
    }
    b.get(j) == Some(&'"')
}

/// The index just past the raw string starting at `i` (the `r`).
fn skip_raw_string(b: &[char], i: usize, line: &mut usize) -> usize {
    let mut j = i + 1;
    let mut hashes = 0;
    while b[j] == '#' {
        hashes += 1;
        j += 1;
    }
    j += 1;
    while j < b.len() {
        if b[j] == '\n' {
            *line += 1;
        }
        if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
            return j + 1 + hashes;
        }
        j += 1;
    }
    j
}

/// Parses a path or use tree at `toks[i..]` (after `crate::` or `super::`), pushing every
/// full path it names onto `out` (each prefixed with `prefix`). Returns the index after it.
fn parse_tree(toks: &[Tok], mut i: usize, prefix: &ModPath, out: &mut Vec<ModPath>) -> usize {
    let mut path = prefix.clone();
    loop {
        match toks.get(i).map(|t| t.text.as_str()) {
            Some("{") => {
                i += 1;
                while toks.get(i).is_some_and(|t| t.text != "}") {
                    i = parse_tree(toks, i, &path, out);
                    if toks.get(i).is_some_and(|t| t.text == ",") {
                        i += 1;
                    } else if toks.get(i).is_some_and(|t| t.text != "}") {
                        i += 1; // something unexpected: skip it
                    }
                }
                return i + 1;
            }
            Some("*") => {
                out.push(path);
                return i + 1;
            }
            Some("self") => {
                out.push(path);
                return skip_alias(toks, i + 1);
            }
            Some(t) if is_ident(t) => {
                path.push(t.to_string());
                i += 1;
                if toks.get(i).is_some_and(|t| t.text == "::") {
                    i += 1;
                    continue;
                }
                out.push(path);
                return skip_alias(toks, i);
            }
            _ => {
                out.push(path);
                return i;
            }
        }
    }
}

fn skip_alias(toks: &[Tok], i: usize) -> usize {
    if toks.get(i).is_some_and(|t| t.text == "as") {
        i + 2
    } else {
        i
    }
}

fn is_ident(t: &str) -> bool {
    t.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// A path from one module to another found in the source, with where it was written.
#[derive(Clone, Debug)]
struct Reference {
    from: ModPath,
    to: ModPath,
    file: String,
    line: usize,
}

/// Every `crate::`/`super::` path of one file whose module is `module`, as full paths from
/// the crate root (not yet cut down to modules).
fn references(file: &str, module: &ModPath, src: &str) -> Vec<Reference> {
    let toks = tokenize(src);
    let mut out = Vec::new();
    // Inline modules: (name, brace depth inside them).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].text.as_str();
        let here = || {
            let mut m = module.clone();
            m.extend(inline.iter().map(|(n, _)| n.clone()));
            m
        };
        match t {
            "{" => depth += 1,
            "}" => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            "mod" if toks.get(i + 2).is_some_and(|t| t.text == "{") => {
                inline.push((toks[i + 1].text.clone(), depth + 1));
            }
            "crate" | "super" | "self"
                if toks.get(i + 1).is_some_and(|t| t.text == "::")
                    && !(i > 0 && toks[i - 1].text == "::") =>
            {
                let line = toks[i].line;
                let from = here();
                let mut base = if t == "crate" { Vec::new() } else { from.clone() };
                let mut j = i;
                if t == "self" {
                    j += 2;
                }
                while toks.get(j).is_some_and(|t| t.text == "super")
                    && toks.get(j + 1).is_some_and(|t| t.text == "::")
                {
                    base.pop();
                    j += 2;
                }
                if t == "crate" {
                    j += 2;
                }
                let mut paths = Vec::new();
                let next = parse_tree(&toks, j, &base, &mut paths);
                for to in paths {
                    out.push(Reference { from: from.clone(), to, file: file.to_string(), line });
                }
                i = next.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The module path of a file under `src/`, or `None` for a crate root or binary.
fn module_of(rel: &str) -> Option<ModPath> {
    let rel = rel.strip_suffix(".rs")?;
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") || parts[0] == "bin" {
        return None;
    }
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    Some(parts)
}

/// The public items a module file declares (for glob re-exports at the root).
fn declared_items(src: &str) -> Vec<String> {
    let toks = tokenize(src);
    let kinds = ["fn", "struct", "enum", "trait", "type", "const", "static", "mod"];
    let mut out = Vec::new();
    for w in toks.windows(3) {
        if w[0].text == "pub" && kinds.contains(&w[1].text.as_str()) {
            out.push(w[2].text.clone());
        }
    }
    out
}

/// A cycle among the children of one module: the members and, for each edge between
/// them, where the dependency was written.
#[derive(Debug)]
struct Cycle {
    parent: ModPath,
    members: Vec<String>,
    edges: Vec<(String, String, String)>,
}

impl Cycle {
    fn describe(&self, krate: &str) -> String {
        let scope = if self.parent.is_empty() {
            krate.to_string()
        } else {
            format!("{krate}::{}", self.parent.join("::"))
        };
        let mut s = format!("module cycle in `{scope}` among {{{}}}:", self.members.join(", "));
        for (a, b, at) in &self.edges {
            let _ = write!(s, "\n    {a} → {b}  ({at})");
        }
        s
    }
}

/// The module cycles of one crate, from its files (paths relative to `src/`, with source).
fn module_cycles(files: &[(String, String)]) -> Vec<Cycle> {
    let modules: BTreeSet<ModPath> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    // Root re-exports: name → module it comes from.
    let mut reexports: BTreeMap<String, ModPath> = BTreeMap::new();
    if let Some((_, root)) = files.iter().find(|(p, _)| p == "lib.rs") {
        let toks = tokenize(root);
        for i in 0..toks.len() {
            if toks[i].text == "pub" && toks.get(i + 1).is_some_and(|t| t.text == "use") {
                let mut paths = Vec::new();
                parse_tree(&toks, i + 2, &Vec::new(), &mut paths);
                // The alias, if any, is not tracked: re-exports here are by their own name.
                for p in paths {
                    let module = longest_module(&modules, &p);
                    if module.is_empty() {
                        continue;
                    }
                    if p.len() == module.len() {
                        // A glob (`pub use build::leaf::*`): every public item of that module.
                        if let Some((_, src)) =
                            files.iter().find(|(f, _)| module_of(f).as_ref() == Some(&module))
                        {
                            for item in declared_items(src) {
                                reexports.entry(item).or_insert_with(|| module.clone());
                            }
                        }
                    } else if let Some(last) = p.last() {
                        reexports.insert(last.clone(), module);
                    }
                }
            }
        }
    }
    // Edges among siblings, keyed by their parent.
    let mut edges: BTreeMap<ModPath, BTreeMap<(String, String), String>> = BTreeMap::new();
    for (file, src) in files {
        let Some(module) = module_of(file) else { continue };
        for r in references(file, &module, src) {
            let mut target = longest_module(&modules, &r.to);
            if target.is_empty() {
                match r.to.first().and_then(|n| reexports.get(n)) {
                    Some(m) => target = m.clone(),
                    None => continue,
                }
            }
            let common = r.from.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common == r.from.len() || common == target.len() {
                continue; // ancestor or descendant: one unit
            }
            let at = format!("{}:{}: `{}`", r.file, r.line, r.to.join("::"));
            edges
                .entry(r.from[..common].to_vec())
                .or_default()
                .entry((r.from[common].clone(), target[common].clone()))
                .or_insert(at);
        }
    }
    let mut cycles = Vec::new();
    for (parent, group) in &edges {
        for scc in strongly_connected(group.keys()) {
            let members: BTreeSet<&String> = scc.iter().collect();
            let edges = group
                .iter()
                .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                .map(|((a, b), at)| (a.clone(), b.clone(), at.clone()))
                .collect();
            cycles.push(Cycle { parent: parent.clone(), members: scc, edges });
        }
    }
    cycles
}

/// The longest prefix of `path` that is a module of the crate (empty if none).
fn longest_module(modules: &BTreeSet<ModPath>, path: &ModPath) -> ModPath {
    (1..=path.len()).rev().map(|k| path[..k].to_vec()).find(|p| modules.contains(p)).unwrap_or_default()
}

/// The strongly connected components with more than one member (Tarjan's algorithm).
fn strongly_connected<'a>(edges: impl Iterator<Item = &'a (String, String)>) -> Vec<Vec<String>> {
    let mut adj: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        adj.entry(a).or_default().push(b);
        adj.entry(b).or_default();
    }
    struct State<'a> {
        adj: BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let k = s.index.len();
        s.index.insert(v, k);
        s.low.insert(v, k);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.adj[v].clone() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let l = s.low[v].min(s.low[w]);
                s.low.insert(v, l);
            } else if s.on_stack.contains(w) {
                let l = s.low[v].min(s.index[w]);
                s.low.insert(v, l);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let nodes: Vec<&str> = adj.keys().copied().collect();
    let mut s = State {
        adj,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// One crate of the workspace: its short name, directory, Cargo package name, and the
/// tensorlift crates it may depend on (by short name).
struct Krate {
    name: &'static str,
    dir: &'static str,
    package: &'static str,
    allowed: &'static [&'static str],
}

const CRATES: &[Krate] = &[
    Krate { name: "ir", dir: "ir", package: "tensorlift-ir", allowed: &[] },
    Krate { name: "opt", dir: "opt", package: "tensorlift-opt", allowed: &["ir"] },
    Krate { name: "jit", dir: "jit", package: "tensorlift-jit", allowed: &["ir"] },
    Krate { name: "runtime", dir: "runtime", package: "tensorlift-runtime", allowed: &["ir", "opt", "jit"] },
    Krate { name: "expr", dir: "expr", package: "tensorlift-expr", allowed: &["ir"] },
    Krate {
        name: "facade",
        dir: ".",
        package: "tensorlift",
        allowed: &["ir", "opt", "jit", "runtime", "expr"],
    },
    Krate { name: "cli", dir: "cli", package: "tensorlift-cli", allowed: &["facade", "expr"] },
    Krate { name: "python", dir: "python", package: "tensorlift-python", allowed: &["facade"] },
];

/// The short name of a tensorlift crate from its package or library name.
fn short_name(dep: &str) -> Option<&'static str> {
    let dep = dep.replace('_', "-");
    CRATES.iter().find(|k| k.package == dep).map(|k| k.name)
}

/// The tensorlift crates a `Cargo.toml` lists under `[dependencies]` or
/// `[target.….dependencies]` (not dev- or build-dependencies).
fn cargo_dependencies(toml: &str) -> Vec<&'static str> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            let section = line.trim_matches(['[', ']']);
            in_deps = section == "dependencies"
                || (section.starts_with("target.") && section.ends_with(".dependencies"));
            continue;
        }
        if !in_deps || line.starts_with('#') {
            continue;
        }
        let key = line.split(['=', '.', ' ']).next().unwrap_or("");
        if let Some(k) = short_name(key) {
            out.push(k);
        }
    }
    out
}

/// Violations of the crate order by crate `k`, given its `Cargo.toml` and its sources.
fn order_violations(k: &Krate, toml: &str, files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for dep in cargo_dependencies(toml) {
        if !k.allowed.contains(&dep) {
            out.push(format!(
                "crate order: `{}` depends on `{dep}` in its Cargo.toml; it may depend only on {:?}",
                k.name, k.allowed
            ));
        }
    }
    for (file, src) in files {
        for t in tokenize(src) {
            if let Some(dep) = short_name(&t.text) {
                if dep != k.name && !k.allowed.contains(&dep) {
                    out.push(format!(
                        "crate order: `{}` uses `{}` at src/{file}:{}; it may depend only on {:?}",
                        k.name, t.text, t.line, k.allowed
                    ));
                }
            }
        }
    }
    out
}

/// Every `.rs` file under `dir`, as (path relative to `dir` with `/`, source).
fn read_sources(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).expect("reads src/").map(|e| e.expect("entry").path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p.strip_prefix(root).expect("under src/").to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).expect("reads a source file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn workspace_report() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    for k in CRATES {
        let dir = root.join(k.dir);
        let files = read_sources(&dir.join("src"));
        assert!(!files.is_empty(), "no sources under {}", dir.display());
        let toml = std::fs::read_to_string(dir.join("Cargo.toml")).expect("reads Cargo.toml");
        failures.extend(order_violations(k, &toml, &files));
        failures.extend(module_cycles(&files).iter().map(|c| c.describe(k.name)));
    }
    failures
}

#[test]
fn no_module_cycles_and_the_crate_order_holds() {
    let failures = workspace_report();
    assert!(failures.is_empty(), "architecture violations:\n{}", failures.join("\n"));
}

fn synthetic(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect()
}

/// A deliberately introduced cycle `a → b → a` (one side a `use`, the other a path in an
/// expression) is found and named, with where each edge is written.
#[test]
fn a_deliberate_cycle_is_reported_by_name() {
    let files = synthetic(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub use b::Thing;"),
        ("a.rs", "use crate::b::{self, Thing as T};\npub fn f() {}"),
        ("b.rs", "// crate::c::nothing in a comment\npub struct Thing;\nfn g() { crate::a::f(); let _ = \"crate::c\"; }"),
        ("c.rs", "use super::Thing;"),
    ]);
    let cycles = module_cycles(&files);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    let text = cycles[0].describe("demo");
    assert!(text.starts_with("module cycle in `demo` among {a, b}:"), "{text}");
    assert!(text.contains("a → b  (a.rs:1: `b`)"), "{text}");
    assert!(text.contains("b → a  (b.rs:3: `a::f`)"), "{text}");
    // c depends on b through the root's re-export, and nothing depends on c: no cycle.
    assert!(!cycles[0].members.contains(&"c".to_string()));
}

/// A submodule using its parent (`super::`) and a parent using its child is no cycle; two
/// children of one module depending on each other are, named with their parent.
#[test]
fn submodules_and_parents_are_one_unit() {
    let files = synthetic(&[
        ("lib.rs", "pub mod m;"),
        ("m/mod.rs", "mod x;\nmod y;\npub use x::X;\nfn f() -> self::y::Y { todo!() }\n#[cfg(test)] mod tests { use super::*; }"),
        ("m/x.rs", "pub struct X;\nfn f() { super::f(); }"),
        ("m/y.rs", "pub struct Y;\nuse crate::m::x::X;"),
    ]);
    assert!(module_cycles(&files).is_empty());
    let mut cyclic = files.clone();
    cyclic[2].1.push_str("\nuse super::y::Y;");
    let cycles = module_cycles(&cyclic);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].describe("demo").starts_with("module cycle in `demo::m` among {x, y}:"));
}

/// A crate depending on one later in the order fails, from its Cargo.toml or its code.
#[test]
fn a_dependency_against_the_crate_order_is_reported() {
    let ir = &CRATES[0];
    let toml = "[dependencies]\nndarray.workspace = true\ntensorlift-opt.workspace = true\n\n[dev-dependencies]\ntensorlift-runtime.workspace = true\n";
    let files = synthetic(&[("lib.rs", "// tensorlift_jit in a comment\nuse tensorlift_runtime::Function;")]);
    let v = order_violations(ir, toml, &files);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].contains("`ir` depends on `opt` in its Cargo.toml"), "{}", v[0]);
    assert!(v[1].contains("`ir` uses `tensorlift_runtime` at src/lib.rs:2"), "{}", v[1]);
    let cli = &CRATES[6];
    assert!(order_violations(cli, "[dependencies]\ntensorlift = { path = \"..\" }\n", &[]).is_empty());
}

/// Lines a source file may have without saying why at its top.
const MAX_LINES: usize = 800;

/// The line a longer file starts with, followed by its reason.
const LONG_FILE_REASON: &str = "// Over 800 lines: ";

#[test]
fn no_source_file_over_800_lines_without_a_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for k in CRATES {
        let dir = root.join(k.dir).join("src");
        for (path, text) in read_sources(&dir) {
            let n = text.lines().count();
            let reason = text
                .lines()
                .next()
                .is_some_and(|l| l.len() > LONG_FILE_REASON.len() + 10 && l.starts_with(LONG_FILE_REASON));
            if n > MAX_LINES && !reason {
                long.push(format!("{}/src/{path} ({n} lines)", k.dir));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines without a `{LONG_FILE_REASON}…` first line: {long:?}"
    );
}
