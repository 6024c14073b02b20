//! The open-files limit: every connection is a file descriptor. perfgate raises its soft limit to
//! the hard limit at start (children, such as a target it starts, inherit it), and refuses a
//! profile that needs more concurrent connections than the limit allows before the run starts,
//! instead of failing with EMFILE in the middle of it.

use crate::config::{Model, Profile};

/// Descriptors kept for everything but connections: standard streams, the runtime, result and
/// data files, the target's pipes, DNS.
const RESERVED: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit. Returns the soft limit now in force.
pub fn raise_open_files() -> Option<u64> {
    // SAFETY: getrlimit/setrlimit only read and write the struct they are given.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    if lim.rlim_cur < lim.rlim_max {
        let wanted = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    Some(lim.rlim_cur as u64)
}

/// The most connections the profile can hold open at once: one per closed-model user (at the
/// highest stage), one per open-model iteration in flight.
pub fn max_connections(profile: &Profile) -> u64 {
    let peak_stage = profile
        .load
        .stages
        .iter()
        .map(|s| s.target.ceil() as u64)
        .max()
        .unwrap_or(0);
    match profile.load.model {
        Model::Closed { users } => users.max(peak_stage),
        Model::Open { max_in_flight, .. } => max_in_flight,
    }
}

/// Checks that the profile's connections fit under the open-files limit (raising it first).
pub fn check_open_files(profile: &Profile) -> Result<(), String> {
    let Some(limit) = raise_open_files() else {
        return Ok(());
    };
    let connections = max_connections(profile);
    let needed = connections + RESERVED;
    if needed <= limit {
        return Ok(());
    }
    let (what, key) = match profile.load.model {
        Model::Closed { .. } => ("users", "load.users (or the stages' targets)"),
        Model::Open { .. } => ("iterations in flight", "load.max_in_flight"),
    };
    Err(format!(
        "{}: the profile can hold {} connections open at once ({} {what}), but this process may \
         open only {limit} files (its hard limit; perfgate already raised the soft limit to it). \
         Lower {key} to at most {}, or raise the hard limit (`ulimit -Hn`, LimitNOFILE= in a \
         systemd unit, --ulimit nofile= for docker) to at least {needed}.",
        profile.path.display(),
        connections,
        connections,
        limit.saturating_sub(RESERVED),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_keeps_the_limit_at_or_under_the_hard_limit() {
        let soft = raise_open_files().expect("getrlimit works");
        let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(soft, lim.rlim_cur as u64);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
    }
}
