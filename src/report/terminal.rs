//! The comparison as a terminal table (comfy-table), coloured only on a terminal.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table};

use super::table::{TableModel, COLUMNS, FLOW_COLUMNS};
use crate::compare::Verdict;

fn colour(v: Verdict) -> Option<Color> {
    match v {
        Verdict::Fail | Verdict::Missing => Some(Color::Red),
        Verdict::Warn | Verdict::Inconclusive => Some(Color::Yellow),
        Verdict::Improved => Some(Color::Green),
        _ => None,
    }
}

pub fn render(model: &TableModel, colour_on: bool) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(COLUMNS.to_vec());
    if colour_on {
        // The caller decided (--color always may go to a pipe): style whatever the output is.
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for r in &model.rows {
        let mut cells: Vec<Cell> = r.cells.iter().map(Cell::new).collect();
        if let (true, Some(c)) = (colour_on, colour(r.verdict)) {
            cells[5] = Cell::new(&r.cells[5]).fg(c);
        }
        table.add_row(cells);
    }
    for i in 2..5 {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!("{}\n", table);
    let reasons: Vec<String> = model
        .rows
        .iter()
        .filter(|r| !r.reason.is_empty() && r.verdict != Verdict::Pass)
        .map(|r| {
            format!(
                "  {} {} {}: {}",
                r.verdict.label(),
                r.cells[0],
                r.cells[1],
                r.reason
            )
        })
        .collect();
    if !reasons.is_empty() {
        out.push_str(&reasons.join("\n"));
        out.push('\n');
    }
    if !model.flows.is_empty() {
        let mut flows = Table::new();
        flows
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(FLOW_COLUMNS.to_vec());
        if colour_on {
            flows.enforce_styling();
        } else {
            flows.force_no_tty();
        }
        for f in &model.flows {
            flows.add_row(f.to_vec());
        }
        out.push_str(&format!("{flows}\n"));
    }
    for n in &model.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    if let Some(d) = &model.detectability {
        out.push_str(&format!("{d}\n"));
    }
    out.push_str(&format!(
        "{}\nperfgate: {} — {}\n",
        model.context,
        model.verdict.label(),
        model.tally
    ));
    out
}
