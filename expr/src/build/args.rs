//! Calls' arguments: binding positional and keyword arguments to a function's parameters,
//! and the "did you mean" suggestions for misspelled names.

use super::{ExprError, Val, R};
use crate::parse::Span;

/// Edit distance with transpositions (optimal string alignment): `epx` is one edit from
/// `exp`. Case-insensitive.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// Up to three candidates closest to `name`, best first.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = name.chars().count() / 3;
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| (*d <= limit && limit > 0) || c.starts_with(name) && name.len() >= 2)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

pub(super) fn did_you_mean(list: &[&str]) -> String {
    match list {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Bound arguments of a call.
pub(super) struct Args {
    pub(super) fname: String,
    pub(super) call: Span,
    pub(super) pos: Vec<(Val, Span)>,
    pub(super) kw: Vec<(String, Span, Val, Span)>,
}

impl Args {
    /// Binds to `params` (positional or by keyword); the first `required` are required.
    pub(super) fn bind(mut self, params: &[&str], required: usize) -> R<Vec<Option<(Val, Span)>>> {
        let f = &self.fname;
        if self.pos.len() > params.len() {
            let extra = &self.pos[params.len()];
            return Err(ExprError::new(
                extra.1,
                format!(
                    "{f}() takes at most {} argument(s) ({}), got {}",
                    params.len(),
                    params.join(", "),
                    self.pos.len()
                ),
            ));
        }
        let mut out: Vec<Option<(Val, Span)>> = vec![None; params.len()];
        for (k, a) in self.pos.drain(..).enumerate() {
            out[k] = Some(a);
        }
        for (name, nspan, v, vspan) in self.kw.drain(..) {
            match params.iter().position(|p| *p == name) {
                Some(k) if out[k].is_some() => {
                    return Err(ExprError::new(nspan, format!("{f}() got argument `{name}` twice")))
                }
                Some(k) => out[k] = Some((v, vspan)),
                None => {
                    let accepted = params.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
                    return Err(ExprError::new(
                        nspan,
                        format!(
                            "{f}() has no argument `{name}`; it takes {accepted}{}",
                            did_you_mean(&closest(&name, params.iter().copied()))
                        ),
                    ));
                }
            }
        }
        for (k, p) in params.iter().enumerate().take(required) {
            if out[k].is_none() {
                return Err(ExprError::new(
                    self.call,
                    format!("{f}() is missing argument `{p}`: it takes ({})", params.join(", ")),
                ));
            }
        }
        Ok(out)
    }

    /// No keywords allowed: the positional arguments.
    pub(super) fn positional(self, min: usize) -> R<Vec<(Val, Span)>> {
        if let Some((name, span, ..)) = self.kw.first() {
            return Err(ExprError::new(
                *span,
                format!("{}() takes no keyword argument `{name}`", self.fname),
            ));
        }
        if self.pos.len() < min {
            return Err(ExprError::new(
                self.call,
                format!("{}() needs at least {min} argument(s), got {}", self.fname, self.pos.len()),
            ));
        }
        Ok(self.pos)
    }
}
