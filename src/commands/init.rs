//! `perfgate init`: a starting point in a repository — a commented `perfgate.toml`, the default
//! rules in `thresholds.toml`, a workflow that gates every pull request and refreshes the
//! baseline weekly, and an empty `baselines/` — then the next three commands. Nothing is
//! overwritten without `--force`, and what it writes passes `perfgate validate`.

use std::path::{Path, PathBuf};

use crate::commands::failure::{Failure, Outcome};

const PROFILE: &str = include_str!("init/perfgate.toml");
const RULES: &str = include_str!("init/thresholds.toml");
const WORKFLOW: &str = include_str!("init/workflow.yml");

#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The repository to write into.
    pub dir: PathBuf,
    pub name: String,
    pub base_url: String,
    /// The command that starts the service, if perfgate should.
    pub start: Option<String>,
    /// The readiness path (also the starter scenario's one step).
    pub ready: String,
    /// The action the workflow uses (`OWNER/perfgate@REF`).
    pub action: String,
    pub force: bool,
}

/// A TOML basic string of `s`.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The files `init` writes, by path relative to the repository.
fn files(o: &InitOptions) -> Vec<(&'static str, String)> {
    let start = match &o.start {
        Some(cmd) => format!("start = {}", toml_string(cmd)),
        None => "# start = \"./my-service --port 8080\"".to_string(),
    };
    // The values go into TOML strings: quoted by TOML's rules, then their quotes dropped
    // where the template already has them.
    let unquoted = |s: &str| {
        let q = toml_string(s);
        q[1..q.len() - 1].to_string()
    };
    let profile = PROFILE
        .replace("@NAME@", &unquoted(&o.name))
        .replace("@BASE_URL@", &unquoted(&o.base_url))
        .replace("@START@", &start)
        .replace("@READY@", &unquoted(&o.ready));
    vec![
        ("perfgate.toml", profile),
        ("thresholds.toml", RULES.to_string()),
        (
            ".github/workflows/perfgate.yml",
            WORKFLOW.replace("@ACTION@", &o.action),
        ),
        ("baselines/.gitkeep", String::new()),
    ]
}

pub fn init(o: InitOptions) -> Result<Outcome, Failure> {
    let files = files(&o);
    let existing: Vec<String> = files
        .iter()
        .map(|(p, _)| o.dir.join(p))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !o.force {
        return Err(Failure::Exists(existing));
    }
    for (path, text) in &files {
        let p = o.dir.join(path);
        crate::fsutil::write_atomic(&p, text.as_bytes()).map_err(|source| {
            Failure::WriteReport {
                path: p.clone(),
                source,
            }
        })?;
        println!("wrote {}", shown(&o.dir, path));
    }
    println!(
        "\nnext:\n  perfgate validate                 # the profile and the rules\n  \
         perfgate run                      # a first run: results/current.json\n  \
         perfgate baseline save main       # the baseline every pull request is compared with"
    );
    Ok(Outcome::Done)
}

fn shown(dir: &Path, path: &str) -> String {
    if dir == Path::new(".") {
        path.to_string()
    } else {
        dir.join(path).display().to_string()
    }
}
