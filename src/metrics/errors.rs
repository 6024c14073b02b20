//! What a request's failure is (`ErrorKind`), and the counts of failures by kind.

/// Why a request did not count as a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A response with a status the step does not expect.
    Status(u16),
    /// No complete response within `request_timeout`.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The connection broke (reset or closed before the response was complete).
    Reset,
    /// The response was not valid HTTP (malformed status line or headers).
    Protocol,
    /// The response failed an `expect` check other than the status (e.g. `body_contains`).
    Check,
    /// A `capture` found nothing, or a template needed a variable not captured yet.
    Capture,
}

impl ErrorKind {
    /// How the kind is named in results and reports: `status 503`, `timeout`, `reset`, ….
    pub fn label(&self) -> String {
        match self {
            ErrorKind::Status(code) => format!("status {code}"),
            ErrorKind::Timeout => "timeout".into(),
            ErrorKind::Connect => "connect".into(),
            ErrorKind::Reset => "reset".into(),
            ErrorKind::Protocol => "protocol".into(),
            ErrorKind::Check => "check".into(),
            ErrorKind::Capture => "capture".into(),
        }
    }
}

/// The first failure of one kind on one endpoint, described for people (secrets redacted).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSample {
    pub endpoint: usize,
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorCounts {
    /// Unexpected statuses and how often each was seen (a handful of codes at most).
    pub status: Vec<(u16, u64)>,
    pub timeout: u64,
    pub connect: u64,
    pub reset: u64,
    pub protocol: u64,
    pub check: u64,
    pub capture: u64,
}

impl ErrorCounts {
    pub fn add(&mut self, kind: ErrorKind, n: u64) {
        match kind {
            ErrorKind::Status(code) => match self.status.iter_mut().find(|(c, _)| *c == code) {
                Some((_, count)) => *count += n,
                None => self.status.push((code, n)),
            },
            ErrorKind::Timeout => self.timeout += n,
            ErrorKind::Connect => self.connect += n,
            ErrorKind::Reset => self.reset += n,
            ErrorKind::Protocol => self.protocol += n,
            ErrorKind::Check => self.check += n,
            ErrorKind::Capture => self.capture += n,
        }
    }

    pub fn merge(&mut self, other: &ErrorCounts) {
        for &(code, n) in &other.status {
            self.add(ErrorKind::Status(code), n);
        }
        self.timeout += other.timeout;
        self.connect += other.connect;
        self.reset += other.reset;
        self.protocol += other.protocol;
        self.check += other.check;
        self.capture += other.capture;
    }

    pub fn total(&self) -> u64 {
        self.status.iter().map(|(_, n)| n).sum::<u64>()
            + self.timeout
            + self.connect
            + self.reset
            + self.protocol
            + self.check
            + self.capture
    }
}
