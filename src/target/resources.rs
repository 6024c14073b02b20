//! The target's own CPU and memory: read from `/proc` for a process and all its descendants (the
//! `start` command's shell, the service it runs and any workers it forks), or from a cgroup v2
//! directory for a service in a container. One `Sample` is cumulative CPU time plus what is
//! resident now; the run takes one a second and the differences are the per-second figures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the target's resources are read.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A process and its descendants.
    Tree(i32),
    /// A cgroup v2 directory (`/sys/fs/cgroup/…`).
    Cgroup(PathBuf),
}

/// The target at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// CPU time used so far, user + system, in seconds: cumulative, including children that
    /// have exited and been waited for.
    pub cpu_s: f64,
    /// Resident memory now, bytes: the sum over the tree's processes (shared pages count once
    /// per process), or the cgroup's `memory.current` (which includes its page cache).
    pub rss_bytes: u64,
    /// Threads (tasks) now.
    pub threads: u64,
    /// Open file descriptors now (0 where they cannot be read).
    pub fds: u64,
    /// Processes now.
    pub processes: u64,
}

impl Source {
    /// "process 1234 and its children", "cgroup /sys/fs/cgroup/app".
    pub fn describe(&self) -> String {
        match self {
            Source::Tree(pid) => format!("process {pid} and its children"),
            Source::Cgroup(p) => format!("cgroup {}", p.display()),
        }
    }

    /// The target now; None when it is gone (or cannot be read at all).
    pub fn sample(&self) -> Option<Sample> {
        match self {
            Source::Tree(pid) => tree_sample(Path::new("/proc"), *pid),
            Source::Cgroup(dir) => cgroup_sample(Path::new("/proc"), dir),
        }
    }
}

/// What `/proc/PID/stat` says about one process.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    ppid: i32,
    /// utime + stime + cutime + cstime, clock ticks.
    ticks: u64,
    threads: u64,
    rss_pages: u64,
    zombie: bool,
}

/// Parses `/proc/PID/stat`: the fields after the parenthesised command name (which may itself
/// hold spaces and parentheses, hence the last `)`).
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Field numbers of proc(5), less 3: `state` is field 3.
    let num = |field: usize| -> Option<u64> { f.get(field - 3)?.parse().ok() };
    Some(Stat {
        ppid: f.get(1)?.parse().ok()?,
        ticks: num(14)? + num(15)? + num(16)? + num(17)?,
        threads: num(20)?,
        rss_pages: num(24)?,
        zombie: matches!(f.first(), Some(&"Z") | Some(&"X")),
    })
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf(3) has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

fn page_size() -> u64 {
    // SAFETY: sysconf(3) has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

fn count_fds(proc_root: &Path, pid: i32) -> u64 {
    std::fs::read_dir(proc_root.join(pid.to_string()).join("fd"))
        .map(|d| d.count() as u64)
        .unwrap_or(0)
}

/// Every process under `proc_root` with its stat.
fn all_stats(proc_root: &Path) -> HashMap<i32, Stat> {
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return HashMap::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let text = std::fs::read_to_string(e.path().join("stat")).ok()?;
        Some((pid, parse_stat(&text)?))
    })
    .collect()
}

/// `root` and its descendants, from one scan of `proc_root`.
fn tree_sample(proc_root: &Path, root: i32) -> Option<Sample> {
    let stats = all_stats(proc_root);
    let root_stat = stats.get(&root)?;
    if root_stat.zombie {
        return None;
    }
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (&pid, s) in &stats {
        children.entry(s.ppid).or_default().push(pid);
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        if let Some(c) = children.get(&tree[i]) {
            tree.extend(c.iter().filter(|p| **p != root));
        }
        i += 1;
    }
    let (ticks, page) = (clock_ticks(), page_size());
    let mut s = Sample::default();
    for pid in tree {
        let Some(st) = stats.get(&pid) else { continue };
        s.cpu_s += st.ticks as f64 / ticks;
        if st.zombie {
            continue;
        }
        s.rss_bytes += st.rss_pages * page;
        s.threads += st.threads;
        s.fds += count_fds(proc_root, pid);
        s.processes += 1;
    }
    Some(s)
}

/// A cgroup v2 directory: `cpu.stat`'s `usage_usec`, `memory.current`, `pids.current` (or the
/// threads of `cgroup.threads`), the processes of `cgroup.procs` and their descriptors.
fn cgroup_sample(proc_root: &Path, dir: &Path) -> Option<Sample> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let usage_usec: u64 = read("cpu.stat")?.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == "usage_usec").then(|| v.trim().parse().ok()).flatten()
    })?;
    let number = |name: &str| read(name).and_then(|t| t.trim().parse::<u64>().ok());
    let procs: Vec<i32> = read("cgroup.procs")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let threads = number("pids.current")
        .unwrap_or_else(|| read("cgroup.threads").map_or(0, |t| t.lines().count() as u64));
    Some(Sample {
        cpu_s: usage_usec as f64 / 1e6,
        rss_bytes: number("memory.current").unwrap_or(0),
        threads,
        fds: procs.iter().map(|&p| count_fds(proc_root, p)).sum(),
        processes: procs.len() as u64,
    })
}

/// The pid a pid file holds (its first word), if it names a live process.
pub fn read_pid_file(path: &Path) -> Result<i32, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the pid file {}: {e}", path.display()))?;
    let pid: i32 = text
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            format!(
                "the pid file {} holds no process id (it should hold a number, e.g. 1234)",
                path.display()
            )
        })?;
    if !Path::new("/proc").join(pid.to_string()).exists() {
        return Err(format!(
            "the pid file {} names process {pid}, which is not running",
            path.display()
        ));
    }
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_parses_even_with_parentheses_in_the_name() {
        let line = "4242 (my (odd) srv) S 4200 4242 4242 0 -1 4194560 500 0 0 0 150 50 7 3 20 0 9 0 100 123456 300 18446744073709551615";
        let s = parse_stat(line).expect("parses");
        assert_eq!(s.ppid, 4200);
        assert_eq!(s.ticks, 150 + 50 + 7 + 3);
        assert_eq!(s.threads, 9);
        assert_eq!(s.rss_pages, 300);
        assert!(!s.zombie);
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 (x) S 0").is_none());
    }

    #[test]
    fn this_process_is_its_own_tree() {
        let me = std::process::id() as i32;
        let s = Source::Tree(me).sample().expect("this process can be read");
        assert!(s.cpu_s > 0.0 && s.rss_bytes > 1 << 20, "{s:?}");
        assert!(s.threads >= 1 && s.fds >= 3 && s.processes >= 1, "{s:?}");
    }

    #[test]
    fn a_child_counts_in_its_parents_tree() {
        let me = std::process::id() as i32;
        let before = Source::Tree(me).sample().unwrap().processes;
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let during = Source::Tree(me).sample().unwrap().processes;
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(during > before, "{before} → {during}");
    }

    #[test]
    fn a_cgroup_directory_is_read_from_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        for (name, text) in [
            (
                "cpu.stat",
                "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n",
            ),
            ("memory.current", "104857600\n"),
            ("pids.current", "12\n"),
            ("cgroup.procs", &format!("{me}\n")),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let s = Source::Cgroup(dir.path().to_path_buf()).sample().unwrap();
        assert_eq!(s.cpu_s, 2.5);
        assert_eq!(s.rss_bytes, 104_857_600);
        assert_eq!(s.threads, 12);
        assert_eq!(s.processes, 1);
        assert!(s.fds >= 3);
        assert!(Source::Cgroup(dir.path().join("none")).sample().is_none());
    }

    #[test]
    fn a_gone_process_has_no_sample() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert_eq!(Source::Tree(pid).sample(), None);
    }
}
