//! The chat webhook: Slack (blocks in a coloured attachment), Discord (an embed), or generic
//! JSON with the whole comparison. Bounded: a per-request timeout and retries with backoff on
//! 429 and 5xx (honouring `Retry-After`), all within one overall time limit.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::compare::{Comparison, Verdict};
use crate::report::table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Slack or Discord when the URL is theirs, generic JSON otherwise.
    #[default]
    Auto,
    Slack,
    Discord,
    Json,
}

impl Format {
    pub fn resolve(self, url: &str) -> Format {
        if self != Format::Auto {
            return self;
        }
        let parsed = reqwest::Url::parse(url).ok();
        let host = parsed.as_ref().and_then(|u| u.host_str()).unwrap_or("");
        let path = parsed.as_ref().map(|u| u.path()).unwrap_or("");
        if host == "hooks.slack.com" {
            Format::Slack
        } else if matches!(
            host,
            "discord.com" | "discordapp.com" | "ptb.discord.com" | "canary.discord.com"
        ) && path.starts_with("/api/webhooks/")
        {
            Format::Discord
        } else {
            Format::Json
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Slack => "Slack",
            Format::Discord => "Discord",
            Format::Json => "JSON",
        }
    }
}

fn colour(v: Verdict) -> u32 {
    match v {
        Verdict::Fail | Verdict::Missing => 0xd73a49,
        Verdict::Warn | Verdict::Inconclusive => 0xdbab09,
        _ => 0x28a745,
    }
}

/// The checks worth a line in chat: failures first, then warnings; at most `n`.
fn notable(c: &Comparison, n: usize) -> (Vec<String>, usize) {
    let mut rows: Vec<_> = c
        .rows
        .iter()
        .filter(|r| r.verdict >= Verdict::Inconclusive)
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.verdict));
    let more = rows.len().saturating_sub(n);
    let lines = rows
        .iter()
        .take(n)
        .map(|r| {
            format!(
                "{} {} {}: {} → {} ({})",
                r.verdict.label(),
                r.subject(),
                r.metric.name(),
                table::value(r.baseline, r.metric),
                table::value(r.current, r.metric),
                table::change(r)
            )
        })
        .collect();
    (lines, more)
}

pub fn payload(c: &Comparison, format: Format, run_url: Option<&str>) -> Value {
    let model = table::TableModel::new(c);
    let title = format!("perfgate · {}: {}", c.profile, c.verdict.label());
    let (lines, more) = notable(c, 10);
    let mut body = lines.join("\n");
    if more > 0 {
        body.push_str(&format!("\n… and {more} more"));
    }
    match format {
        Format::Slack => {
            let mut blocks = vec![
                json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
                json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*\n{}", model.tally, model.context)}}),
            ];
            if !body.is_empty() {
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("```{body}```")}}));
            }
            if let Some(url) = run_url {
                blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{url}|View the run>")}]}));
            }
            json!({
                "text": format!("{title} — {}", model.tally),
                "attachments": [{"color": format!("#{:06x}", colour(c.verdict)), "blocks": blocks}],
            })
        }
        Format::Discord => {
            let mut description = format!("**{}**\n{}", model.tally, model.context);
            if !body.is_empty() {
                description.push_str(&format!("\n```\n{body}\n```"));
            }
            let mut embed = json!({
                "title": title,
                "description": description.chars().take(4000).collect::<String>(),
                "color": colour(c.verdict),
            });
            if let Some(url) = run_url {
                embed["url"] = json!(url);
            }
            json!({"username": "perfgate", "embeds": [embed]})
        }
        Format::Json | Format::Auto => json!({
            "event": "perfgate.comparison",
            "title": title,
            "verdict": c.verdict,
            "summary": model.tally,
            "run_url": run_url,
            "comparison": c,
        }),
    }
}

/// Seconds from a `Retry-After` header (delta-seconds form).
fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    let s = r
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    s.trim()
        .parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
}

/// Posts `payload` to `url`; retries 429/5xx and connection failures with backoff until
/// `budget` runs out. Errors never contain the URL.
pub async fn send(url: &str, payload: &Value, budget: Duration) -> Result<u32, String> {
    let budget = budget.min(Duration::from_secs(3600));
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|_| "cannot build the HTTP client".to_string())?;
    let deadline = Instant::now() + budget;
    let mut backoff = Duration::from_millis(500);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no success within {} ({attempt} attempts)",
                humantime::format_duration(budget)
            ));
        }
        let wait = match client
            .post(url)
            .json(payload)
            .timeout(left.min(Duration::from_secs(10)))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(attempt),
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                let status = r.status();
                let wait = retry_after(&r).unwrap_or(backoff).min(budget);
                if Instant::now() + wait >= deadline {
                    return Err(format!(
                        "answered {status}, and waiting {:.1}s more would exceed the time limit",
                        wait.as_secs_f64()
                    ));
                }
                wait
            }
            Ok(r) => return Err(format!("answered {}", r.status())),
            Err(e) => {
                let what = crate::redact::client_error_text(&e);
                if Instant::now() + backoff >= deadline {
                    return Err(format!("{what}, gave up after {attempt} attempts"));
                }
                backoff
            }
        };
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(Duration::from_secs(8));
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn slack_and_discord_are_recognised_by_their_urls() {
        assert_eq!(
            Format::Auto.resolve("https://hooks.slack.com/services/T0/B0/xyz"),
            Format::Slack
        );
        assert_eq!(
            Format::Auto.resolve("https://discord.com/api/webhooks/1/abc"),
            Format::Discord
        );
        assert_eq!(
            Format::Auto.resolve("https://discordapp.com/api/webhooks/1/abc"),
            Format::Discord
        );
        assert_eq!(
            Format::Auto.resolve("https://discord.com/channels/1"),
            Format::Json
        );
        assert_eq!(
            Format::Auto.resolve("https://example.com/hook"),
            Format::Json
        );
        assert_eq!(
            Format::Slack.resolve("https://example.com/hook"),
            Format::Slack
        );
    }
}
