//! Rendering results and comparisons for people and for CI systems. A comparison goes through
//! one table model (`table`) for the human formats; JSON is the `Comparison` itself.

pub mod capacity;
pub mod junit;
pub mod markdown;
pub mod summary;
pub mod table;
pub mod terminal;

use crate::compare::Comparison;

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
}

/// A report that could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot write the comparison as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the JUnit report: {0}")]
    Junit(#[from] quick_junit::SerializeError),
}

pub fn render(c: &Comparison, format: Format, colour: bool) -> Result<String, RenderError> {
    Ok(match format {
        Format::Table => terminal::render(&table::TableModel::new(c), colour),
        Format::Md => markdown::render(&table::TableModel::new(c), &c.profile),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(c)?;
            s.push('\n');
            s
        }
        Format::Junit => junit::render(c)?,
    })
}
