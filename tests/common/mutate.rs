//! Structured random mutations of text, for the stable-Rust parser fuzz tests
//! (`ir/tests/fuzz_text.rs`, `cli/tests/fuzz_parsers.rs`), which include this file by path.
//!
//! No coverage feedback: a mutation is one edit of a seed text (half the time; else two to
//! four), each one of
//! deleting, duplicating or swapping lines, deleting a character range, inserting a token of
//! the language's dictionary or an awkward string (huge and negative numbers, NaN payloads,
//! escapes, non-ASCII and invalid code points written as escapes, unbalanced brackets),
//! replacing a character, a number or a word, splicing in a line of another seed, or
//! truncating. Inputs stay valid UTF-8 (the parsers take `&str`).

#![allow(dead_code)]

use super::rng::Rng;

/// A number in `0..n` (`n > 0`).
pub fn below(rng: &mut Rng, n: usize) -> usize {
    ((rng.uniform() * n as f64) as usize).min(n - 1)
}

/// Strings that break parsers: limits of integer types, float spellings, escapes, Unicode.
pub const AWKWARD: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "2",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "99999999999999999999999999999",
    "1e308",
    "1e309",
    "-1e-320",
    "1e-400",
    "0.5",
    "-0.0",
    "inf",
    "-inf",
    "NaN",
    "nan",
    "NaN(0x7ff8000000000001)",
    "NaN(0xffffffffffffffffff)",
    "NaN(0x)",
    "0x10",
    "1_000",
    "1.",
    ".5",
    "1e",
    "--1",
    "+1",
    "\"",
    "\\",
    "\"\\u{110000}\"",
    "\"\\u{d800}\"",
    "\"\\u{}\"",
    "\"\\q\"",
    "'",
    "é",
    "𝑥",
    "\u{200b}",
    "\u{301}",
    "\t",
    "\r\n",
    "\n",
    ";",
    "%",
    "%99999999999999999999",
    "@",
    "^",
    "?",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "::",
    "=",
    "|",
    ".",
    "x",
];

/// Edits seeds: `dictionary` holds the tokens of the language, `corpus` the seeds.
pub struct Mutator<'a> {
    /// Tokens of the language (op names, keywords, types).
    pub dictionary: &'a [&'a str],
    /// Seed texts, for splicing.
    pub corpus: &'a [String],
}

fn char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The byte ranges of maximal runs of characters for which `f` holds.
fn runs(s: &str, f: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (f(c), start) {
            (true, None) => start = Some(i),
            (false, Some(b)) => {
                out.push((b, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(b) = start {
        out.push((b, s.len()));
    }
    out
}

impl Mutator<'_> {
    fn token(&self, rng: &mut Rng) -> String {
        if self.dictionary.is_empty() || below(rng, 2) == 0 {
            AWKWARD[below(rng, AWKWARD.len())].to_string()
        } else {
            self.dictionary[below(rng, self.dictionary.len())].to_string()
        }
    }

    fn replace_run(&self, rng: &mut Rng, s: &mut String, f: impl Fn(char) -> bool) {
        let r = runs(s, f);
        if !r.is_empty() {
            let (a, b) = r[below(rng, r.len())];
            let t = self.token(rng);
            s.replace_range(a..b, &t);
        }
    }

    /// One edit of `s`.
    fn edit(&self, rng: &mut Rng, s: &mut String) {
        let pos = char_boundary(s, below(rng, s.len() + 1));
        match below(rng, 11) {
            0 => {
                let end = char_boundary(s, pos + 1 + below(rng, 8));
                s.replace_range(pos..end.max(pos), "");
            }
            1 | 2 => {
                let t = self.token(rng);
                s.insert_str(pos, &t);
            }
            3 => {
                if let Some(c) = s[pos..].chars().next() {
                    let t = self.token(rng);
                    s.replace_range(pos..pos + c.len_utf8(), &t);
                }
            }
            4 => self.replace_run(rng, s, |c| c.is_ascii_digit()),
            5 => self.replace_run(rng, s, |c| c.is_alphanumeric() || c == '_'),
            6..=8 => {
                let mut lines: Vec<String> = s.split('\n').map(str::to_string).collect();
                let n = lines.len();
                let (i, j) = (below(rng, n), below(rng, n));
                match below(rng, 4) {
                    0 => lines.swap(i, j),
                    1 => {
                        let l = lines[i].clone();
                        lines.insert(j, l);
                    }
                    2 if n > 1 => {
                        lines.remove(i);
                    }
                    _ if !self.corpus.is_empty() => {
                        let other = &self.corpus[below(rng, self.corpus.len())];
                        let ls: Vec<&str> = other.split('\n').collect();
                        lines.insert(j, ls[below(rng, ls.len())].to_string());
                    }
                    _ => {}
                }
                *s = lines.join("\n");
            }
            9 => s.truncate(pos),
            _ => {
                // Repeat a range: deep nesting and long lines.
                let end = char_boundary(s, pos + 1 + below(rng, 6));
                let piece = s[pos..end.max(pos)].to_string();
                let times = 1 + below(rng, 64);
                s.insert_str(pos, &piece.repeat(times));
            }
        }
    }

    /// `text` after one to four edits.
    pub fn mutate(&self, rng: &mut Rng, text: &str) -> String {
        let mut s = text.to_string();
        let edits = if below(rng, 2) == 0 { 1 } else { 2 + below(rng, 3) };
        for _ in 0..edits {
            self.edit(rng, &mut s);
        }
        s
    }
}

/// How many inputs a parser fuzz test runs: `TENSORLIFT_FUZZ_INPUTS`, else `default`.
pub fn inputs(default: u64) -> u64 {
    std::env::var("TENSORLIFT_FUZZ_INPUTS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// The seed of a parser fuzz test: `TENSORLIFT_FUZZ_SEED`, else `default`.
pub fn seed(default: u64) -> u64 {
    std::env::var("TENSORLIFT_FUZZ_SEED").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// The text of a panic payload.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Prints the run's summary line and fails with the first failures, if any.
pub fn finish(summary: &str, failures: &[String]) {
    println!("{summary}, {} failures", failures.len());
    assert!(
        failures.is_empty(),
        "{} failures; the first:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n\n")
    );
}
