//! A precise timer for the open-model pacer. tokio's timers have millisecond granularity: a
//! sleep wakes on the next millisecond tick after its deadline, and the reactor's `epoll_wait`
//! timeout rounds up to a millisecond again, so iterations would start 1–2 ms late — and, since
//! open-model latency runs from the *scheduled* start, every latency would carry that lateness.
//! A Linux `timerfd` (a high-resolution kernel timer) registered with the same reactor wakes
//! the worker within microseconds of the deadline, at the cost of one `timerfd_settime` and one
//! `read` per wake-up. The pacer limits how often it wakes (see `PACER_TICK`).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

pub struct PreciseTimer {
    fd: Option<AsyncFd<OwnedFd>>,
}

impl PreciseTimer {
    /// A timerfd on CLOCK_MONOTONIC (the clock `Instant` reads); without one (out of
    /// descriptors), sleeps fall back to tokio's timer. Must be called inside the runtime.
    pub fn new() -> Self {
        // SAFETY: timerfd_create returns a new descriptor we own, or -1.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        let fd = (raw >= 0)
            .then(|| unsafe { OwnedFd::from_raw_fd(raw) })
            // SAFETY: an OwnedFd stays open, and is the same descriptor, until the AsyncFd
            // that owns it is dropped.
            .and_then(|fd| unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.ok());
        PreciseTimer { fd }
    }

    /// Sleeps until `deadline`.
    pub async fn sleep_until(&self, deadline: Instant) {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return;
        }
        let precise = match &self.fd {
            Some(fd) => wait_on(fd, wait).await,
            None => Err(std::io::ErrorKind::Unsupported.into()),
        };
        if precise.is_err() {
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// Arms the timerfd for `wait` and waits until it fires.
async fn wait_on(fd: &AsyncFd<OwnedFd>, wait: std::time::Duration) -> std::io::Result<()> {
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: wait.as_secs() as libc::time_t,
            tv_nsec: wait.subsec_nanos() as libc::c_long,
        },
    };
    // SAFETY: a valid timerfd and a fully initialised itimerspec.
    if unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    loop {
        let mut guard = fd.readable().await?;
        let fired = guard.try_io(|inner| {
            let mut expirations = [0u8; 8];
            // SAFETY: reads at most 8 bytes into an 8-byte buffer.
            let n = unsafe {
                libc::read(
                    inner.as_raw_fd(),
                    expirations.as_mut_ptr().cast(),
                    expirations.len(),
                )
            };
            if n < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        });
        match fired {
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn it_wakes_after_the_deadline_and_not_before() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let t = PreciseTimer::new();
            assert!(t.fd.is_some(), "timerfd is available on Linux");
            for ms in [1u64, 3, 7] {
                let deadline = Instant::now() + Duration::from_millis(ms);
                t.sleep_until(deadline).await;
                assert!(Instant::now() >= deadline);
            }
            // A deadline in the past returns at once.
            t.sleep_until(Instant::now() - Duration::from_millis(5))
                .await;
        });
    }
}
