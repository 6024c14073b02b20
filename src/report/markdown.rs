//! The comparison as Markdown: what the pull-request comment and the job summary show. The
//! verdict comes first, then the checks that need a look; the full table is folded.

use super::table::{TableModel, TableRow, COLUMNS, FLOW_COLUMNS};
use crate::compare::Verdict;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Improved => "🟢",
        Verdict::New => "🆕",
        Verdict::Inconclusive => "❔",
        Verdict::Warn => "⚠️",
        Verdict::Missing => "➖",
        Verdict::Fail => "❌",
    }
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The extra column of a table: why (the checks that need a look), or what each check could
/// detect (the folded table of all checks).
#[derive(Clone, Copy, PartialEq)]
enum Extra {
    Why,
    Detectable,
}

fn table(rows: &[&TableRow], extra: Extra) -> String {
    let mut out = format!("| {} |", COLUMNS.join(" | "));
    out.push_str(match extra {
        Extra::Why => " why |",
        Extra::Detectable => " detectable |",
    });
    out.push('\n');
    out.push_str(&"|---".repeat(COLUMNS.len() + 1));
    out.push_str("|\n");
    for r in rows {
        let cells: Vec<String> = r
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 5 {
                    format!("{} {}", icon(r.verdict), c)
                } else {
                    escape(c)
                }
            })
            .collect();
        out.push_str(&format!("| {} |", cells.join(" | ")));
        let extra = match extra {
            Extra::Why => &r.reason,
            Extra::Detectable => &r.detectable,
        };
        out.push_str(&format!(" {} |\n", escape(extra)));
    }
    out
}

/// `title` names the profile; the hidden marker lets a later run find and edit its comment.
/// `chart` (Mermaid blocks) goes under the verdict, above the table.
pub fn render(model: &TableModel, title: &str, chart: Option<&str>) -> String {
    let mut out = format!(
        "<!-- perfgate:{} -->\n## {} perfgate · {}: {}\n\n**{}** · {}\n\n",
        escape(title),
        icon(model.verdict),
        escape(title),
        model.verdict.label(),
        model.tally,
        escape(&model.context)
    );
    if let Some(d) = &model.detectability {
        out.push_str(&format!("_{}._\n\n", escape(d)));
    }
    if let Some(chart) = chart {
        out.push_str(chart);
    }
    let notable: Vec<&TableRow> = model
        .rows
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .collect();
    if notable.is_empty() {
        out.push_str("No endpoint got worse beyond the allowed margins.\n\n");
    } else {
        out.push_str(&table(&notable, Extra::Why));
        out.push('\n');
    }
    if !model.flows.is_empty() {
        out.push_str(&format!("| {} |\n", FLOW_COLUMNS.join(" | ")));
        out.push_str(&"|---".repeat(FLOW_COLUMNS.len()));
        out.push_str("|\n");
        for f in &model.flows {
            let cells: Vec<String> = f.iter().map(|c| escape(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out.push('\n');
    }
    for n in &model.notes {
        out.push_str(&format!("> **Note:** {}\n\n", escape(n)));
    }
    let all: Vec<&TableRow> = model.rows.iter().collect();
    out.push_str(&format!(
        "<details><summary>All {} checks</summary>\n\n{}\n</details>\n",
        all.len(),
        table(&all, Extra::Detectable)
    ));
    out
}
