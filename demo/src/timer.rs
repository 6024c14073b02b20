//! Sub-millisecond sleeps. tokio's timer has a 1 ms resolution and rounds
//! every deadline up, which would add ~1 ms to each simulated query and make
//! a 2 ms endpoint barely react to `slowdown = 1.2`. One dedicated thread
//! keeps a heap of deadlines and wakes waiting tasks to within ~0.1 ms.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::Instant;

use tokio::sync::oneshot;

struct Entry {
    at: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed, so the max-heap pops the earliest deadline first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

type Request = (Instant, oneshot::Sender<()>);

/// The timer thread's inbox, or None if the thread could not be started.
fn inbox() -> Option<&'static mpsc::Sender<Request>> {
    static INBOX: OnceLock<Option<mpsc::Sender<Request>>> = OnceLock::new();
    INBOX
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Request>();
            std::thread::Builder::new()
                .name("perfgate-demo-timer".to_owned())
                .spawn(move || run(rx))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

fn run(rx: mpsc::Receiver<Request>) {
    let mut heap: BinaryHeap<Entry> = BinaryHeap::new();
    let mut seq: u64 = 0;
    let mut push = |heap: &mut BinaryHeap<Entry>, (at, wake): Request| {
        seq += 1;
        heap.push(Entry { at, seq, wake });
    };
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|top| top.at <= now) {
            if let Some(entry) = heap.pop() {
                // The waiter may be gone (request cancelled): nothing to do.
                let _ = entry.wake.send(());
            }
        }
        let received = match heap.peek() {
            Some(top) => rx.recv_timeout(top.at.saturating_duration_since(now)),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(request) => push(&mut heap, request),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                // No new sleeps can arrive; let the pending ones finish.
                while let Some(entry) = heap.pop() {
                    std::thread::sleep(entry.at.saturating_duration_since(Instant::now()));
                    let _ = entry.wake.send(());
                }
                return;
            }
        }
        while let Ok(request) = rx.try_recv() {
            push(&mut heap, request);
        }
    }
}

/// Sleeps until `at`, precisely (falls back to tokio's timer if the timer
/// thread is unavailable).
pub(crate) async fn sleep_until(at: Instant) {
    if at <= Instant::now() {
        return;
    }
    let (wake, woken) = oneshot::channel();
    let queued = inbox().is_some_and(|inbox| inbox.send((at, wake)).is_ok());
    if !queued || woken.await.is_err() {
        tokio::time::sleep_until(at.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sleeps_precisely_and_in_order() {
        let start = Instant::now();
        let (a, b) = tokio::join!(
            async {
                sleep_until(start + Duration::from_micros(2500)).await;
                Instant::now()
            },
            async {
                sleep_until(start + Duration::from_micros(1200)).await;
                Instant::now()
            }
        );
        assert!(b < a);
        assert!(a >= start + Duration::from_micros(2500));
        assert!(b >= start + Duration::from_micros(1200));
        // Generous: CI machines are noisy; tokio alone would give >= 3 ms.
        assert!(a < start + Duration::from_millis(50));
        // A deadline in the past returns at once.
        sleep_until(start).await;
    }
}
