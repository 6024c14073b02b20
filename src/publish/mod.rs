//! Telling people: the sticky pull-request comment, the job summary and annotations (`github`),
//! and the chat webhook (`webhook`).
//!
//! Publishing never changes the verdict unless `--require-publish` is given (then a failure
//! exits 4), and it happens whatever the verdict — a failing gate is when people need the
//! message. Tokens and webhook URLs are secrets: every message that leaves this module has been
//! through `redact`. Nothing here prints: what was done and what failed is returned for the
//! command to show.

pub mod github;
pub mod webhook;

use std::time::Duration;

use crate::compare::Comparison;
use crate::redact::redact;

/// What to publish where, from the command line and the environment.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub github: bool,
    pub pr: Option<u64>,
    pub webhook: Option<String>,
    pub webhook_format: webhook::Format,
    /// Upper bound for each destination, retries included.
    pub timeout: Duration,
}

/// A link to the CI run, when running in GitHub Actions.
pub fn run_url() -> Option<String> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(format!(
        "{}/{}/actions/runs/{}",
        get("GITHUB_SERVER_URL")?.trim_end_matches('/'),
        get("GITHUB_REPOSITORY")?,
        get("GITHUB_RUN_ID")?
    ))
}

/// What publishing did: lines to tell the user, workflow-command lines for the log, and the
/// failures (each already redacted).
#[derive(Debug, Default)]
pub struct Published {
    pub notes: Vec<String>,
    /// `::error`/`::warning` lines, when running in GitHub Actions.
    pub annotations: Vec<String>,
    pub failures: Vec<String>,
}

/// Publishes `c` (rendered as `markdown` for GitHub) everywhere `opts` asks.
pub async fn publish(c: &Comparison, markdown: &str, opts: &Options) -> Published {
    let mut done = Published::default();
    let failures = &mut done.failures;
    if opts.github {
        if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
            done.annotations = github::annotations(c);
        }
        if let Err(e) = github::append_step_summary(markdown) {
            failures.push(e);
        }
        match github::Target::from_env(opts.pr) {
            Ok(target) => {
                let secrets = [target.token.as_str()];
                match tokio::time::timeout(
                    opts.timeout,
                    github::upsert_comment(&target, &c.profile, markdown),
                )
                .await
                {
                    Ok(Ok(action)) => done.notes.push(action.to_string()),
                    Ok(Err(e)) => failures.push(redact(&e, &secrets)),
                    Err(_) => failures.push(format!(
                        "GitHub did not answer within {}; the comment was not posted",
                        humantime::format_duration(opts.timeout)
                    )),
                }
            }
            Err(skip) => failures.push(skip),
        }
    }
    if let Some(url) = &opts.webhook {
        let format = opts.webhook_format.resolve(url);
        let payload = webhook::payload(c, format, run_url().as_deref());
        if let Err(e) = webhook::send(url, &payload, opts.timeout).await {
            failures.push(redact(
                &format!("webhook ({}): {e}", format.name()),
                &[url.as_str()],
            ));
        } else {
            done.notes.push(format!(
                "posted the verdict to the {} webhook",
                format.name()
            ));
        }
    }
    done
}
