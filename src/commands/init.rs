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
    /// Where the service listens [default: the HAR's or OpenAPI document's, else
    /// http://127.0.0.1:8080].
    pub base_url: Option<String>,
    /// The command that starts the service, if perfgate should.
    pub start: Option<String>,
    /// The readiness path (also the starter scenario's one step).
    pub ready: String,
    /// The action the workflow uses (`OWNER/perfgate@REF`).
    pub action: String,
    pub force: bool,
    /// Start the scenarios from a recorded session or an API description.
    pub from: Option<Source>,
}

/// What `init --from-har` or `--from-openapi` starts from.
#[derive(Debug, Clone)]
pub enum Source {
    Har(PathBuf, crate::scaffold::har::HarOptions),
    OpenApi(PathBuf),
}

/// The starter scenario's part of the profile template, replaced by the scenarios a HAR or an
/// OpenAPI document gives.
const STARTER: &str = "\n# One scenario to start from";

/// The draft of `source`, read.
fn draft(source: &Source) -> Result<(crate::scaffold::Draft, String), Failure> {
    use crate::scaffold::{har, openapi, ScaffoldError};
    let (path, what) = match source {
        Source::Har(p, _) => (p, "a HAR recording"),
        Source::OpenApi(p) => (p, "an OpenAPI document"),
    };
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScaffoldError::Invalid {
        file: file.clone(),
        why: format!("cannot read {what}: {e}"),
    })?;
    let d = match source {
        Source::Har(_, o) => har::from_har(&text, &file, *o)?,
        Source::OpenApi(_) => openapi::from_openapi(&text, &file)?,
    };
    Ok((d, format!("# The scenarios below were made from {what}, {file}, by `perfgate init`: check\n# them, and the notes, before the first run.\n")))
}

/// A TOML basic string of `s`.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Where editors find the JSON Schema of a file `init` writes (`#:schema`, read by taplo and
/// Even Better TOML): in the repository of the action the workflow uses, at its ref.
fn schema_url(action: &str, file: &str) -> String {
    let (repo, git_ref) = action.split_once('@').unwrap_or((action, "main"));
    format!("https://raw.githubusercontent.com/{repo}/{git_ref}/schemas/{file}.schema.json")
}

/// The files `init` writes, by path relative to the repository.
fn files(o: &InitOptions) -> Result<Vec<(String, String)>, Failure> {
    let drafted = o.from.as_ref().map(draft).transpose()?;
    let base_url = o
        .base_url
        .clone()
        .or_else(|| drafted.as_ref().and_then(|(d, _)| d.base_url.clone()))
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_string());
    let schema = schema_url(&o.action, "profile");
    let mut files = vec![(
        "perfgate.toml".to_string(),
        profile(
            &o.name,
            &base_url,
            o.start.as_deref(),
            &o.ready,
            drafted.as_ref().map(|(d, h)| (d, h.as_str())),
        )
        .replace("@SCHEMA_URL@", &schema),
    )];
    // --all-hosts: a profile of its own for every other host the recording reached.
    if let Some((d, header)) = &drafted {
        for other in &d.other_hosts {
            let url = other.base_url.clone().unwrap_or_default();
            let file = crate::scaffold::har::other_profile_file(&url);
            let name = format!(
                "{}-{}",
                o.name,
                file.trim_start_matches("perfgate.")
                    .trim_end_matches(".toml")
            );
            let header = format!(
                "{header}# Only the requests to {url}; run it with `perfgate run -p {file}`.\n"
            );
            // Polled before the load: the first GET the recording sent there.
            let ready = other
                .scenarios
                .iter()
                .flat_map(|s| &s.steps)
                .find(|s| s.method == "GET" && !s.path.contains("{{"))
                .map_or("/", |s| s.path.as_str());
            files.push((
                file,
                profile(&name, &url, None, ready, Some((other, &header)))
                    .replace("@SCHEMA_URL@", &schema),
            ));
        }
    }
    files.extend([
        (
            "thresholds.toml".to_string(),
            RULES.replace("@SCHEMA_URL@", &schema_url(&o.action, "thresholds")),
        ),
        (
            ".github/workflows/perfgate.yml".to_string(),
            WORKFLOW.replace("@ACTION@", &o.action),
        ),
        ("baselines/.gitkeep".to_string(), String::new()),
    ]);
    Ok(files)
}

/// A profile from the template: the starter scenario, or a draft's scenarios after `header`.
fn profile(
    name: &str,
    base_url: &str,
    start: Option<&str>,
    ready: &str,
    drafted: Option<(&crate::scaffold::Draft, &str)>,
) -> String {
    let start = match start {
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
        .replace("@NAME@", &unquoted(name))
        .replace("@BASE_URL@", &unquoted(base_url))
        .replace("@START@", &start)
        .replace("@READY@", &unquoted(ready));
    match drafted {
        Some((d, header)) => {
            let head = profile.split(STARTER).next().unwrap_or_default();
            format!("{head}\n{header}{}", crate::scaffold::render(d))
        }
        None => profile,
    }
}

pub fn init(o: InitOptions) -> Result<Outcome, Failure> {
    let files = files(&o)?;
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
