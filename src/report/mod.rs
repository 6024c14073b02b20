//! Rendering results and comparisons for people and for CI systems. A comparison goes through
//! one table model (`table`) for the human formats; JSON is the `Comparison` itself. The charts
//! (`html`, `mermaid`) draw the results' seconds through `series`; `csv` writes Locust's files.

pub mod capacity;
pub mod csv;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod mermaid;
pub mod series;
pub mod summary;
mod svg;
pub mod table;
pub mod terminal;

use crate::compare::Comparison;
use crate::result::RunResult;

/// What a report shows: the comparison, and the results it was made from (for the charts and
/// the CSV; a report without them has no charts).
#[derive(Clone, Copy)]
pub struct Report<'a> {
    pub comparison: &'a Comparison,
    pub current: Option<&'a RunResult>,
    pub baseline: Option<&'a RunResult>,
}

impl<'a> Report<'a> {
    /// The comparison alone: no charts.
    pub fn of(comparison: &'a Comparison) -> Report<'a> {
        Report {
            comparison,
            current: None,
            baseline: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A terminal table.
    Table,
    /// Markdown, as the pull-request comment shows it.
    Md,
    /// perfgate/compare/v1 JSON.
    Json,
    /// JUnit XML, one test case per endpoint × metric.
    Junit,
    /// One self-contained HTML page with charts.
    Html,
    /// Locust's `_stats.csv` (`csv::render` gives all three files).
    Csv,
}

/// A report that could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot write the comparison as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the JUnit report: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    #[error("cannot draw the report: {0}")]
    Data(String),
}

pub fn render(r: &Report, format: Format, colour: bool) -> Result<String, RenderError> {
    let c = r.comparison;
    Ok(match format {
        Format::Table => terminal::render(&table::TableModel::new(c), colour),
        Format::Md => {
            let chart = mermaid::render(r).map_err(RenderError::Data)?;
            markdown::render(&table::TableModel::new(c), &c.profile, chart.as_deref())
        }
        Format::Json => {
            let mut s = serde_json::to_string_pretty(c)?;
            s.push('\n');
            s
        }
        Format::Junit => junit::render(c)?,
        Format::Html => html::render(r).map_err(RenderError::Data)?,
        Format::Csv => match r.current {
            Some(cur) => csv::render(cur)
                .map_err(RenderError::Data)?
                .into_iter()
                .next()
                .map(|f| f.1)
                .unwrap_or_default(),
            None => return Err(RenderError::Data("CSV needs the result itself".into())),
        },
    })
}
