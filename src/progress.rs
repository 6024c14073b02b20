//! The progress line: live on a terminal, one plain line every 10 s at most in CI logs.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub use crate::engine::WindowSummary;

/// What the engine reports once a second.
pub struct Status {
    pub trial: u32,
    pub trials: u32,
    pub elapsed: Duration,
    pub length: Duration,
    pub warmup: bool,
    /// Users (closed) or iterations per second (open) the shape asks for now.
    pub level: f64,
    pub open: bool,
    /// The last complete second.
    pub last: Option<WindowSummary>,
}

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

    pub fn update(&mut self, s: &Status) {
        let line = s.line();
        let mut err = std::io::stderr().lock();
        match self.mode {
            Mode::Quiet => {}
            Mode::Live => {
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
                self.drawn = true;
            }
            Mode::Plain { every } => {
                let due = self.last_plain.is_none_or(|t| t.elapsed() >= every);
                if due {
                    let _ = writeln!(err, "{line}");
                    self.last_plain = Some(Instant::now());
                }
            }
        }
    }

    /// Clears the live line before other output.
    pub fn finish(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.drawn = false;
        }
    }
}

impl Status {
    pub fn line(&self) -> String {
        let level = if self.open {
            format!("rate {:.0}/s", self.level)
        } else {
            format!("users {}", self.level.floor() as u64)
        };
        let phase = if self.warmup { " warmup" } else { "" };
        let (rps, p95, err) = match &self.last {
            Some(WindowSummary {
                requests,
                errors,
                p95_ms,
                ..
            }) => (
                format!("{requests} req/s"),
                p95_ms.map_or("-".to_string(), |p| format!("{p:.1}ms")),
                if *requests > 0 {
                    format!("{:.1}%", *errors as f64 * 100.0 / *requests as f64)
                } else {
                    "0%".into()
                },
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        format!(
            "trial {}/{}{phase}  {:>4.0}s/{:.0}s  {level}  {rps}  p95 {p95}  errors {err}",
            self.trial,
            self.trials,
            self.elapsed.as_secs_f64(),
            self.length.as_secs_f64(),
        )
    }
}
