//! A small builder of test profiles: a test names what it cares about (the target, the load, the
//! scenarios) and the rest takes defaults, instead of a whole `perfgate.toml` written inline.

use super::Work;

/// `perfgate.toml` for a test: closed model, 1 user, 1 s measured, no warmup, one scenario per
/// `scenario` call.
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    name: Option<String>,
    target: Vec<(String, toml::Value)>,
    target_lines: Vec<String>,
    load: Vec<(String, toml::Value)>,
    stages: Vec<(String, u64, f64)>,
    rest: String,
}

fn set(list: &mut Vec<(String, toml::Value)>, key: &str, value: toml::Value) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = value,
        None => list.push((key.to_string(), value)),
    }
}

impl ProfileBuilder {
    pub fn new(base_url: &str) -> Self {
        ProfileBuilder {
            name: None,
            target: vec![("base_url".into(), base_url.into())],
            target_lines: Vec::new(),
            load: vec![
                ("model".into(), "closed".into()),
                ("users".into(), 1.into()),
                ("duration".into(), "1s".into()),
                ("warmup".into(), "0s".into()),
            ],
            stages: Vec::new(),
            rest: String::new(),
        }
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// A `[target]` key, e.g. `.target("request_timeout", "300ms")`.
    pub fn target(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        set(&mut self.target, key, value.into());
        self
    }

    /// A `[target]` line written as it is (inline tables: `headers = { … }`).
    pub fn target_line(mut self, line: &str) -> Self {
        self.target_lines.push(line.to_string());
        self
    }

    /// A `[load]` key, replacing the default, e.g. `.load("users", 20)`.
    pub fn load(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        set(&mut self.load, key, value.into());
        self
    }

    /// The open model at `rate` iterations per second.
    pub fn open(mut self, rate: impl Into<toml::Value>) -> Self {
        self.load.retain(|(k, _)| k != "users");
        set(&mut self.load, "model", "open".into());
        set(&mut self.load, "rate", rate.into());
        self
    }

    /// `[[load.stages]]` as (name, whole seconds, target); the closed model's `users` and the
    /// `duration` go, as the stages set them.
    pub fn stages(mut self, stages: &[(&str, u64, f64)]) -> Self {
        self.load.retain(|(k, _)| k != "users" && k != "duration");
        self.stages = stages
            .iter()
            .map(|(name, secs, target)| (name.to_string(), *secs, *target))
            .collect();
        self
    }

    /// A scenario of one plain step per request line (`GET /path`).
    pub fn scenario(mut self, name: &str, requests: &[&str]) -> Self {
        self.rest.push_str(&format!(
            "\n[[scenario]]\nname = {}\n",
            toml::Value::from(name)
        ));
        for r in requests {
            self.rest.push_str(&format!(
                "[[scenario.step]]\nrequest = {}\n",
                toml::Value::from(*r)
            ));
        }
        self
    }

    /// TOML appended as it is: scenarios whose steps need more than a request line, data sets.
    pub fn raw(mut self, toml: &str) -> Self {
        self.rest.push('\n');
        self.rest.push_str(toml.trim_start_matches('\n'));
        self
    }

    pub fn toml(&self) -> String {
        let mut out = String::new();
        if let Some(n) = &self.name {
            out.push_str(&format!("name = {}\n\n", toml::Value::from(n.as_str())));
        }
        out.push_str("[target]\n");
        for (k, v) in &self.target {
            out.push_str(&format!("{k} = {v}\n"));
        }
        for l in &self.target_lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str("\n[load]\n");
        for (k, v) in &self.load {
            out.push_str(&format!("{k} = {v}\n"));
        }
        for (name, secs, target) in &self.stages {
            out.push_str(&format!(
                "[[load.stages]]\nname = {}\nduration = \"{secs}s\"\ntarget = {target}\n",
                toml::Value::from(name.as_str())
            ));
        }
        out.push_str(&self.rest);
        out
    }

    /// A work directory holding this profile as its `perfgate.toml`.
    pub fn work(&self) -> Work {
        Work::with_profile(&self.toml())
    }
}
