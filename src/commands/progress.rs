//! The progress line, an observer of the engine's events: live on a terminal, one plain line
//! every 10 s at most in CI logs, nothing with `--quiet`.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::engine::events::{Event, Observer, Second};
use crate::units;

pub enum Mode {
    /// Rewrite one line in place each second.
    Live,
    /// A plain line every `every`.
    Plain {
        every: Duration,
    },
    Quiet,
}

pub struct Progress {
    mode: Mode,
    last_plain: Option<Instant>,
    drawn: bool,
}

impl Progress {
    pub fn new(mode: Mode) -> Self {
        Progress {
            mode,
            last_plain: None,
            drawn: false,
        }
    }

    /// Live on a terminal, plain every 10 s otherwise (CI).
    pub fn auto(quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Live
        } else {
            Mode::Plain {
                every: Duration::from_secs(10),
            }
        };
        Progress::new(mode)
    }

    fn update(&mut self, s: &Second) {
        let line = line(s);
        let mut err = std::io::stderr().lock();
        match self.mode {
            Mode::Quiet => {}
            Mode::Live => {
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
                self.drawn = true;
            }
            Mode::Plain { every } => {
                if self.last_plain.is_none_or(|t| t.elapsed() >= every) {
                    let _ = writeln!(err, "{line}");
                    self.last_plain = Some(Instant::now());
                }
            }
        }
    }

    /// Clears the live line before other output.
    fn finish(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.drawn = false;
        }
    }
}

impl Observer for Progress {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::Second(s) => self.update(s),
            Event::RunEnded { .. } | Event::Stopping(_) => self.finish(),
            _ => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `trial 2/5 warmup    3s/10s  users 100  1203 req/s  p95 4.1ms  errors 0.0%`.
pub fn line(s: &Second) -> String {
    let level = if s.open {
        format!("rate {:.0}/s", s.level)
    } else {
        format!("users {}", s.level.floor() as u64)
    };
    let phase = if s.warmup() { " warmup" } else { "" };
    let t = &s.total;
    let p95 = t.p95_ms.map_or("-".to_string(), |p| format!("{p:.1}ms"));
    let errors = if t.requests > 0 {
        units::percent(t.errors as f64 / t.requests as f64)
    } else {
        "0%".into()
    };
    format!(
        "trial {}/{}{phase}  {:>4.0}s/{:.0}s  {level}  {} req/s  p95 {p95}  errors {errors}",
        s.trial + 1,
        s.trials,
        s.elapsed.as_secs_f64(),
        s.length.as_secs_f64(),
        t.requests,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::SecondSummary;

    #[test]
    fn the_line_shows_the_newest_second() {
        let s = Second {
            trial: 1,
            trials: 5,
            window: -1,
            elapsed: Duration::from_secs(3),
            length: Duration::from_secs(10),
            level: 100.0,
            open: false,
            stage: None,
            endpoints: vec![],
            total: SecondSummary {
                requests: 1203,
                errors: 12,
                p50_ms: Some(1.0),
                p95_ms: Some(4.12),
                p99_ms: None,
            },
        };
        assert_eq!(
            line(&s),
            "trial 2/5 warmup     3s/10s  users 100  1203 req/s  p95 4.1ms  errors 1.0%"
        );
    }
}
