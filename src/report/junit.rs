//! The comparison as JUnit XML: one test case per endpoint × metric, so CI systems list
//! regressions natively. Only FAIL is a failure; other verdicts are passing cases with a note.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::table;
use crate::compare::{Comparison, Verdict};

pub fn render(c: &Comparison) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("perfgate");
    let mut suite = TestSuite::new(c.profile.clone());
    for r in &c.rows {
        let name = format!("{} {}", r.subject(), r.metric.name());
        let summary = format!(
            "{}: baseline {}, current {}, change {}{}",
            r.verdict.label(),
            table::value(r.baseline, r.metric),
            table::value(r.current, r.metric),
            table::change(r),
            if r.reason.is_empty() {
                String::new()
            } else {
                format!(" — {}", r.reason)
            }
        );
        let mut case = if r.verdict == Verdict::Fail {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(summary.clone())
                .set_type("performance regression");
            TestCase::new(name, status)
        } else {
            TestCase::new(name, TestCaseStatus::success())
        };
        case.set_classname(r.subject());
        case.set_system_out(summary);
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string()
}
