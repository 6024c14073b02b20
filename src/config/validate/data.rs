//! `[[data]]`: CSV files of per-user rows (test accounts), read whole at load time, every bad
//! row reported with its line.

use std::collections::BTreeSet;
use std::path::Path;

use super::{idx, is_ident, key, Ctx};
use crate::config::model::Dataset;
use crate::config::raw::RawData;

/// The data sets that could be read, and the names of those that could not.
pub(super) fn validate_data(
    cx: &mut Ctx<'_>,
    data: &[RawData],
    base_dir: &Path,
) -> (Vec<Dataset>, Vec<String>) {
    let mut out: Vec<Dataset> = Vec::new();
    let mut unreadable = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let p = idx(&[], "data", i);
        let Some(name) = d.name.clone() else {
            cx.problem(&p, "a data set needs name = \"accounts\"");
            continue;
        };
        if !is_ident(&name) {
            cx.problem(
                &key(&p, "name"),
                format!("\"{name}\" is not a name (letters, digits, `_`)"),
            );
            continue;
        }
        if out.iter().any(|o| o.name == name) {
            cx.problem(
                &key(&p, "name"),
                format!("two data sets are named \"{name}\""),
            );
            continue;
        }
        let Some(file) = &d.file else {
            cx.problem(&p, "a data set needs file = \"data/accounts.csv\"");
            unreadable.push(name);
            continue;
        };
        let path = base_dir.join(file);
        match read_csv(&path) {
            Ok((columns, rows)) => out.push(Dataset {
                name,
                columns,
                rows,
            }),
            Err(msgs) => {
                for msg in msgs {
                    cx.problem(&key(&p, "file"), msg);
                }
                unreadable.push(name);
            }
        }
    }
    (out, unreadable)
}

/// At most this many bad rows of one data file are listed; the rest are counted.
const MAX_ROW_PROBLEMS: usize = 10;

/// A data file's column names and rows.
type Csv = (Vec<String>, Vec<Vec<String>>);

/// Reads a data file: a header naming every column, then at least one row of as many fields.
/// Every problem found is returned, each naming the file and its line.
fn read_csv(path: &Path) -> Result<Csv, Vec<String>> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| vec![format!("cannot read {shown}: {e}")])?;
    let empty = || {
        vec![format!(
            "{shown} is empty; its first line names the columns (e.g. username,password) and each further line is one user's row"
        )]
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut records = reader.byte_records();
    let line_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.line());
    let not_utf8 =
        |line: u64| format!("{shown}:{line}: this line is not UTF-8 text; save the file as UTF-8");
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(vec![format!("{shown}: {e}")]),
        None => return Err(empty()),
    };
    let header_line = line_of(&header);
    let Ok(header) = csv::StringRecord::from_byte_record(header) else {
        return Err(vec![not_utf8(header_line)]);
    };
    let columns: Vec<String> = header
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let mut problems = Vec::new();
    if columns.iter().any(|c| c.is_empty()) {
        problems.push(format!(
            "{shown}:{header_line}: the first line must name every column, e.g. username,password (column {} has no name)",
            columns.iter().position(|c| c.is_empty()).unwrap_or(0) + 1
        ));
    }
    let mut seen = BTreeSet::new();
    for c in &columns {
        if !c.is_empty() && !seen.insert(c) {
            problems.push(format!(
                "{shown}:{header_line}: two columns are named \"{c}\"; each column needs its own name"
            ));
        }
    }
    let mut rows = Vec::new();
    let mut bad_rows = 0usize;
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad_rows += 1;
                if bad_rows <= MAX_ROW_PROBLEMS {
                    problems.push(format!("{shown}:{line}: {e}"));
                }
                continue;
            }
        };
        let line = line_of(&rec);
        if rec.len() != columns.len() {
            bad_rows += 1;
            if bad_rows <= MAX_ROW_PROBLEMS {
                problems.push(format!(
                    "{shown}:{line}: this row has {} field{}, the header has {} ({}); quote a field that holds a comma",
                    rec.len(),
                    if rec.len() == 1 { "" } else { "s" },
                    columns.len(),
                    columns.join(", ")
                ));
            }
            continue;
        }
        match csv::StringRecord::from_byte_record(rec) {
            Ok(r) => rows.push(r.iter().map(str::to_string).collect()),
            Err(_) => {
                bad_rows += 1;
                if bad_rows <= MAX_ROW_PROBLEMS {
                    problems.push(not_utf8(line));
                }
            }
        }
    }
    if bad_rows > MAX_ROW_PROBLEMS {
        problems.push(format!(
            "{shown}: … and {} more bad rows",
            bad_rows - MAX_ROW_PROBLEMS
        ));
    }
    if problems.is_empty() && rows.is_empty() {
        problems.push(format!(
            "{shown} has a header but no rows; each user takes one row"
        ));
    }
    if problems.is_empty() {
        Ok((columns, rows))
    } else {
        Err(problems)
    }
}
