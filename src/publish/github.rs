//! GitHub: one sticky comment per profile on the pull request (found again by a hidden marker
//! and edited, never duplicated), the job summary, and `::error`/`::warning` annotations.
//!
//! Everything comes from the Actions environment: `GITHUB_TOKEN`, `GITHUB_REPOSITORY`,
//! `GITHUB_EVENT_PATH` (the pull request number), `GITHUB_API_URL` (GitHub Enterprise, and the
//! tests' local server).

use std::fmt;
use std::io::Write as _;

use octocrab::Octocrab;

use crate::compare::{Comparison, Verdict};

pub struct Target {
    pub api: String,
    pub token: String,
    pub owner: String,
    pub repo: String,
    pub pr: u64,
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

impl Target {
    /// Where to comment, or why not (a reason to skip, said as a warning).
    pub fn from_env(pr: Option<u64>) -> Result<Target, String> {
        let token = env("GITHUB_TOKEN").ok_or(
            "no GITHUB_TOKEN: the pull-request comment is skipped (a pull request from a fork gets no token)",
        )?;
        let repository = env("GITHUB_REPOSITORY")
            .ok_or("no GITHUB_REPOSITORY (owner/name): the pull-request comment is skipped")?;
        let (owner, repo) = repository.split_once('/').ok_or_else(|| {
            format!("GITHUB_REPOSITORY is \"{repository}\", not owner/name: the comment is skipped")
        })?;
        let pr = match pr {
            Some(n) => n,
            None => pr_from_event().ok_or(
                "no pull request number (not a pull_request event, and no --pr N): the pull-request comment is skipped",
            )?,
        };
        Ok(Target {
            api: env("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".to_string()),
            token,
            owner: owner.to_string(),
            repo: repo.to_string(),
            pr,
        })
    }
}

/// The pull request number from the event payload at `GITHUB_EVENT_PATH`.
fn pr_from_event() -> Option<u64> {
    let text = std::fs::read_to_string(env("GITHUB_EVENT_PATH")?).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    event
        .pointer("/pull_request/number")
        .or_else(|| event.pointer("/issue/number"))
        .or_else(|| event.get("number"))
        .and_then(|n| n.as_u64())
}

pub enum Action {
    Created(u64),
    Updated(u64),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Created(id) => write!(f, "posted the pull-request comment (id {id})"),
            Action::Updated(id) => write!(f, "updated the pull-request comment (id {id})"),
        }
    }
}

pub fn marker(profile: &str) -> String {
    format!("<!-- perfgate:{profile} -->")
}

fn error_text(e: &octocrab::Error) -> String {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code;
            let hint = match status.as_u16() {
                401 => " (the token is invalid or expired)",
                403 => " (the token may not write pull-request comments: a pull request from a fork gets a read-only token; give the workflow `pull-requests: write`)",
                404 => " (no such repository or pull request, or the token cannot see it)",
                _ => "",
            };
            format!("GitHub answered {status}{hint}: {}", source.message)
        }
        // The token travels in a header, never in the error's text; the caller redacts the
        // message with the token all the same.
        other => format!("cannot reach GitHub: {other}"),
    }
}

/// Edits the comment carrying this profile's marker, or creates it. Pages through all
/// comments, since the marker may be on any page.
pub async fn upsert_comment(t: &Target, profile: &str, markdown: &str) -> Result<Action, String> {
    let crab = Octocrab::builder()
        .base_uri(t.api.as_str())
        .map_err(|e| format!("GITHUB_API_URL is not a URL: {e}"))?
        .personal_token(t.token.clone())
        .build()
        .map_err(|e| format!("cannot build the GitHub client: {e}"))?;
    let issues = crab.issues(&t.owner, &t.repo);
    let mark = marker(profile);
    let mut page = issues
        .list_comments(t.pr)
        .per_page(100)
        .send()
        .await
        .map_err(|e| error_text(&e))?;
    let mut found = None;
    loop {
        if let Some(c) = page
            .items
            .iter()
            .find(|c| c.body.as_deref().is_some_and(|b| b.contains(&mark)))
        {
            found = Some(c.id);
            break;
        }
        match crab
            .get_page(&page.next)
            .await
            .map_err(|e| error_text(&e))?
        {
            Some(next) => page = next,
            None => break,
        }
    }
    match found {
        Some(id) => {
            issues
                .update_comment(id, markdown)
                .await
                .map_err(|e| error_text(&e))?;
            Ok(Action::Updated(id.into_inner()))
        }
        None => {
            let c = issues
                .create_comment(t.pr, markdown)
                .await
                .map_err(|e| error_text(&e))?;
            Ok(Action::Created(c.id.into_inner()))
        }
    }
}

/// Appends the report to the job summary when running in GitHub Actions.
pub fn append_step_summary(markdown: &str) -> Result<(), String> {
    let Some(path) = env("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| format!("cannot write the job summary {path}: {e}"))?;
    writeln!(f, "{markdown}").map_err(|e| format!("cannot write the job summary {path}: {e}"))
}

/// Escapes a workflow-command value (`%`, CR, LF; and `:` `,` in properties).
fn escape(s: &str, property: bool) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        s.replace(':', "%3A").replace(',', "%2C")
    } else {
        s
    }
}

/// The workflow-command lines for failing and warning checks.
pub fn annotations(c: &Comparison) -> Vec<String> {
    c.rows
        .iter()
        .filter_map(|r| {
            let level = match r.verdict {
                Verdict::Fail => "error",
                Verdict::Warn | Verdict::Missing => "warning",
                _ => return None,
            };
            let title = escape(
                &format!(
                    "perfgate {}: {} {}",
                    c.profile,
                    r.subject(),
                    r.metric.name()
                ),
                true,
            );
            Some(format!(
                "::{level} title={title}::{}",
                escape(&format!("{}: {}", r.verdict.label(), r.reason), false)
            ))
        })
        .collect()
}
