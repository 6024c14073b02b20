//! The service under test: started by perfgate when the profile says how, probed until ready,
//! watched during the run, and stopped (SIGTERM to its process group, SIGKILL after a grace
//! period). A `TargetProcess` that is dropped without `stop` kills its group, so no child
//! outlives perfgate even on an early return. `resources` reads its CPU and memory, `usage`
//! turns those samples into the result's figures.

pub mod resources;
pub mod usage;

use std::collections::VecDeque;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Url;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

const TAIL_LINES: usize = 20;

/// The process group of the target being run, for the one path that cannot run destructors
/// (a second interrupt exits at once). 0 when there is none.
static ACTIVE_GROUP: AtomicI32 = AtomicI32::new(0);

/// SIGKILL to the running target's process group, if any.
pub fn kill_active_group() {
    let pgid = ACTIVE_GROUP.swap(0, Ordering::SeqCst);
    if pgid > 0 {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("something is already listening on {addr}, before perfgate started the target; stop it or change target.base_url")]
    PortInUse { addr: String },
    #[error("cannot start the target `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("the target `{command}` exited ({status}) before it was ready{}", tail_text(.tail))]
    Exited {
        command: String,
        status: String,
        tail: Vec<String>,
    },
    #[error("the target was not ready within {}: {last}{}", humantime::format_duration(*.timeout), tail_text(.tail))]
    NotReady {
        timeout: Duration,
        last: String,
        tail: Vec<String>,
    },
}

fn tail_text(tail: &[String]) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("\nlast output of the target:\n  {}", tail.join("\n  "))
    }
}

pub struct TargetProcess {
    command: String,
    child: Child,
    pgid: Option<i32>,
    tail: Arc<Mutex<VecDeque<String>>>,
    exited: Option<ExitStatus>,
}

/// Whether something accepts TCP connections at the URL's host and port.
pub async fn port_in_use(url: &Url) -> bool {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    matches!(
        tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect((host.as_str(), port))
        )
        .await,
        Ok(Ok(_))
    )
}

/// Waits until nothing accepts connections at `url`'s port any more, or `timeout` has passed.
pub async fn wait_port_free(url: &Url, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline && port_in_use(url).await {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl TargetProcess {
    /// Starts `command` through `sh -c` in `dir`, in a process group of its own.
    pub fn start(command: &str, dir: &Path) -> Result<TargetProcess, TargetError> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        // If perfgate itself is killed (a CI timeout's SIGKILL), the kernel kills the target's
        // shell too, instead of leaving it holding the port.
        // SAFETY: the closure only calls prctl(2), which is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| TargetError::Spawn {
            command: command.to_string(),
            source,
        })?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(out) = child.stdout.take() {
            collect_tail(out, tail.clone());
        }
        if let Some(err) = child.stderr.take() {
            collect_tail(err, tail.clone());
        }
        let pgid = child.id().map(|id| id as i32);
        ACTIVE_GROUP.store(pgid.unwrap_or(0), Ordering::SeqCst);
        Ok(TargetProcess {
            command: command.to_string(),
            child,
            pgid,
            tail,
            exited: None,
        })
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    /// The process perfgate started (the shell running `start`), root of the target's tree.
    pub fn pid(&self) -> Option<i32> {
        self.pgid
    }

    /// The last lines the target printed (stdout and stderr).
    pub fn tail(&self) -> Vec<String> {
        self.tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Waits until the target exits; returns at once if it already has.
    pub async fn wait(&mut self) -> ExitStatus {
        if let Some(s) = self.exited {
            return s;
        }
        let status = match self.child.wait().await {
            Ok(s) => s,
            Err(_) => std::os::unix::process::ExitStatusExt::from_raw(0),
        };
        self.exited = Some(status);
        status
    }

    pub fn has_exited(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            if let Ok(Some(s)) = self.child.try_wait() {
                self.exited = Some(s);
            }
        }
        self.exited
    }

    fn signal_group(&self, sig: i32) {
        if let Some(pgid) = self.pgid {
            // SAFETY: kill(2) with a negative pid signals the process group we created; it has
            // no memory-safety preconditions.
            unsafe {
                libc::kill(-pgid, sig);
            }
        }
    }

    /// SIGTERM to the target's process group, SIGKILL if it is still there after `grace`.
    pub async fn stop(mut self, grace: Duration) -> Option<ExitStatus> {
        if self.has_exited().is_none() {
            self.signal_group(libc::SIGTERM);
            if tokio::time::timeout(grace, self.wait()).await.is_err() {
                self.signal_group(libc::SIGKILL);
                let _ = tokio::time::timeout(Duration::from_secs(5), self.wait()).await;
            }
        }
        // Children the target left behind in its group go too.
        self.signal_group(libc::SIGKILL);
        if let Some(pgid) = self.pgid.take() {
            let _ = ACTIVE_GROUP.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
        }
        self.exited
    }
}

impl Drop for TargetProcess {
    fn drop(&mut self) {
        self.signal_group(libc::SIGKILL);
    }
}

fn collect_tail(
    stream: impl AsyncRead + Unpin + Send + 'static,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut t) = tail.lock() {
                if t.len() == TAIL_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        }
    });
}

pub fn exit_status_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "unknown status".to_string(),
    }
}

/// Polls `url` until it answers 2xx (or, without a path, until the port accepts connections).
/// Fails early when the started target exits.
pub async fn wait_ready(
    client: &reqwest::Client,
    base: &Url,
    ready_path: Option<&str>,
    timeout: Duration,
    mut target: Option<&mut TargetProcess>,
) -> Result<(), TargetError> {
    let deadline = Instant::now() + timeout;
    let prefix = base.as_str().trim_end_matches('/');
    let url = ready_path.map(|p| format!("{prefix}{p}"));
    let mut last: String;
    loop {
        if let Some(t) = target.as_deref_mut() {
            if let Some(status) = t.has_exited() {
                // Give the output readers a moment to catch the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(TargetError::Exited {
                    command: t.command().to_string(),
                    status: exit_status_text(status),
                    tail: t.tail(),
                });
            }
        }
        match &url {
            Some(url) => match client.get(url).timeout(Duration::from_secs(2)).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => last = format!("GET {} answered {}", ready_path.unwrap_or(""), r.status()),
                Err(e) => {
                    last = format!(
                        "GET {}: {}",
                        ready_path.unwrap_or(""),
                        crate::redact::client_error_text(&e)
                    )
                }
            },
            None => {
                if port_in_use(base).await {
                    return Ok(());
                }
                last = format!(
                    "nothing accepts connections at {}",
                    base.host_str().unwrap_or("")
                );
            }
        }
        if Instant::now() >= deadline {
            return Err(TargetError::NotReady {
                timeout,
                last,
                tail: target.map(|t| t.tail()).unwrap_or_default(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
