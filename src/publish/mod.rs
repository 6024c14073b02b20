//! Telling people: the sticky pull-request comment, the job summary and annotations (`github`),
//! and the chat webhook (`webhook`).
//!
//! Publishing never changes the verdict unless `--require-publish` is given (then a failure
//! exits 4), and it happens whatever the verdict — a failing gate is when people need the
//! message. Tokens and webhook URLs are secrets: every message that leaves this module has been
//! through `redact`.

pub mod github;
pub mod webhook;

use std::time::Duration;

use crate::compare::Comparison;

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

/// Replaces every secret in `text` with `***`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "***");
    }
    out
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

/// Publishes `c` (rendered as `markdown` for GitHub) everywhere `opts` asks. Returns the
/// failures, each already redacted and printed as a warning.
pub async fn publish(c: &Comparison, markdown: &str, opts: &Options) -> Vec<String> {
    let mut failures = Vec::new();
    if opts.github {
        github::annotate(c);
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
                    Ok(Ok(action)) => eprintln!("{action}"),
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
            eprintln!("posted the verdict to the {} webhook", format.name());
        }
    }
    for f in &failures {
        eprintln!("warning: publishing: {f}");
    }
    failures
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_every_occurrence() {
        assert_eq!(
            super::redact("a ghp_x1 b ghp_x1", &["ghp_x1"]),
            "a *** b ***"
        );
        assert_eq!(
            super::redact("short", &["s"]),
            "short",
            "too short to be a secret"
        );
    }
}
