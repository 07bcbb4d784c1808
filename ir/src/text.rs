//! The text form of a `FunctionGraph` (placeholder while the printer and parser land).

use crate::op::{Idx, IndexEntry};

/// Formats an index as in the text form: `1, 0:3:2, ::-1, ?` (`?` is a symbolic index).
pub fn fmt_index(index: &[IndexEntry]) -> String {
    let parts: Vec<String> = index
        .iter()
        .map(|e| match e {
            IndexEntry::At(Idx::Const(i)) => i.to_string(),
            IndexEntry::At(Idx::Input) => "?".into(),
            IndexEntry::Slice { start, stop, step } => {
                let b = |v: &Option<isize>| v.map_or(String::new(), |v| v.to_string());
                format!("{}:{}:{}", b(start), b(stop), step)
            }
        })
        .collect();
    parts.join(", ")
}
