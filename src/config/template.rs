//! `{{…}}` templates in paths, headers and bodies, parsed once at load time.
//!
//! A template is a list of literal and variable parts. Names are resolved when the profile is
//! validated (captured variables to slot numbers, data fields to column numbers, `env.NAME` to
//! its value), so rendering on the request path is a walk over a short slice with no lookups by
//! name and, for templates without variables, no work at all (`as_static`).

use std::fmt::Write as _;

/// Where a template gets its values from while a user runs.
pub trait Vars {
    /// The value captured into slot `slot`, if this user has captured it yet.
    fn var(&self, slot: usize) -> Option<&str>;
    /// Column `column` of this user's row of data set `set`.
    fn data(&self, set: usize, column: usize) -> &str;
    fn user_id(&self) -> u64;
    fn iteration(&self) -> u64;
    /// A draw from the user's seeded random stream.
    fn random_u64(&mut self) -> u64;
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    Var(usize),
    Data { set: usize, column: usize },
    Uuid,
    RandomInt { low: i64, high: i64 },
    UserId,
    Iteration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// What names a template may refer to.
pub struct Scope<'a> {
    /// Data sets: name and column names.
    pub datasets: &'a [(String, Vec<String>)],
    /// Names of the variables some step captures; the index is the slot.
    pub vars: &'a [String],
    /// Reads an environment variable (injected so tests need not touch the process environment).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// A name inside `{{ }}` as written, before it is resolved.
#[derive(Debug, Clone, PartialEq)]
enum Expr<'s> {
    Name(&'s str),
    Call(&'s str, Vec<&'s str>),
}

pub const BUILTINS: &str = "uuid, user_id, iteration, random_int(LOW,HIGH), env.NAME";

impl Template {
    pub fn literal(s: impl Into<String>) -> Self {
        Template {
            parts: vec![Part::Lit(s.into())],
        }
    }

    /// Parses and resolves `src`. `secrets` receives the values read from the environment, which
    /// are treated as secrets wherever requests are shown.
    pub fn parse(src: &str, scope: &Scope<'_>, secrets: &mut Vec<String>) -> Result<Self, String> {
        let mut parts: Vec<Part> = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find("{{") {
            push_lit(&mut parts, &rest[..open]);
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in \"{src}\""))?;
            let inner = after[..close].trim();
            let expr = parse_expr(inner)?;
            parts.push(resolve(expr, scope, secrets)?);
            rest = &after[close + 2..];
        }
        if rest.contains("}}") {
            return Err(format!("`}}}}` without an opening `{{{{` in \"{src}\""));
        }
        push_lit(&mut parts, rest);
        // Merge literals that resolution produced next to each other (env values).
        let mut merged: Vec<Part> = Vec::with_capacity(parts.len());
        for p in parts {
            match (merged.last_mut(), p) {
                (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
                (_, p) => merged.push(p),
            }
        }
        Ok(Template { parts: merged })
    }

    /// The rendered text when the template has no variable part.
    pub fn as_static(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The template for people: literal text as it is, each variable part as `{{…}}` (values
    /// read from the environment are literal here: callers redact them).
    pub fn shown(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Var(_) => out.push_str("{{captured}}"),
                Part::Data { .. } => out.push_str("{{data}}"),
                Part::Uuid => out.push_str("{{uuid}}"),
                Part::RandomInt { low, high } => {
                    let _ = write!(out, "{{{{random_int({low},{high})}}}}");
                }
                Part::UserId => out.push_str("{{user_id}}"),
                Part::Iteration => out.push_str("{{iteration}}"),
            }
        }
        out
    }

    /// Appends the rendered text to `out`. Fails with the slot of a variable this user has not
    /// captured yet.
    pub fn render<V: Vars + ?Sized>(&self, vars: &mut V, out: &mut String) -> Result<(), usize> {
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Var(slot) => out.push_str(vars.var(*slot).ok_or(*slot)?),
                Part::Data { set, column } => out.push_str(vars.data(*set, *column)),
                Part::Uuid => {
                    let hi = vars.random_u64();
                    let lo = vars.random_u64();
                    let mut bytes = [0u8; 16];
                    bytes[..8].copy_from_slice(&hi.to_le_bytes());
                    bytes[8..].copy_from_slice(&lo.to_le_bytes());
                    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
                    let _ = write!(out, "{}", id.hyphenated());
                }
                Part::RandomInt { low, high } => {
                    let span = (*high as i128 - *low as i128 + 1) as u128;
                    let v = *low as i128 + (vars.random_u64() as u128 % span) as i128;
                    let _ = write!(out, "{v}");
                }
                Part::UserId => {
                    let _ = write!(out, "{}", vars.user_id());
                }
                Part::Iteration => {
                    let _ = write!(out, "{}", vars.iteration());
                }
            }
        }
        Ok(())
    }

    pub fn render_to_string<V: Vars + ?Sized>(&self, vars: &mut V) -> Result<String, usize> {
        let mut s = String::new();
        self.render(vars, &mut s)?;
        Ok(s)
    }
}

fn push_lit(parts: &mut Vec<Part>, s: &str) {
    if !s.is_empty() {
        parts.push(Part::Lit(s.to_string()));
    }
}

fn parse_expr(inner: &str) -> Result<Expr<'_>, String> {
    if inner.is_empty() {
        return Err("empty `{{ }}`".to_string());
    }
    if let Some(open) = inner.find('(') {
        let name = inner[..open].trim();
        let args = inner[open + 1..]
            .strip_suffix(')')
            .ok_or_else(|| format!("`{{{{{inner}}}}}`: a call must end with `)`"))?;
        let args = args.split(',').map(str::trim).collect();
        return Ok(Expr::Call(name, args));
    }
    let valid = inner
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if !valid {
        return Err(format!(
            "`{{{{{inner}}}}}` is not a variable name (letters, digits, `_`, `.`)"
        ));
    }
    Ok(Expr::Name(inner))
}

fn resolve(expr: Expr<'_>, scope: &Scope<'_>, secrets: &mut Vec<String>) -> Result<Part, String> {
    match expr {
        Expr::Call("random_int", args) => {
            let parse = |s: &str| s.parse::<i64>().ok();
            match args.as_slice() {
                [a, b] => match (parse(a), parse(b)) {
                    (Some(low), Some(high)) if low <= high => Ok(Part::RandomInt { low, high }),
                    (Some(low), Some(high)) => Err(format!(
                        "random_int({low},{high}): the low bound must not exceed the high bound"
                    )),
                    _ => Err(format!(
                        "random_int({}): both bounds must be integers, e.g. random_int(1,100)",
                        args.join(",")
                    )),
                },
                _ => Err("random_int takes two integers: random_int(LOW,HIGH)".to_string()),
            }
        }
        Expr::Call(name, _) => Err(format!(
            "unknown function `{name}(…)`; the built-ins are {BUILTINS}"
        )),
        Expr::Name("uuid") => Ok(Part::Uuid),
        Expr::Name("user_id") => Ok(Part::UserId),
        Expr::Name("iteration") => Ok(Part::Iteration),
        Expr::Name(name) => {
            if let Some(var) = name.strip_prefix("env.") {
                return match (scope.env)(var) {
                    Some(value) => {
                        if !value.is_empty() {
                            secrets.push(value.clone());
                        }
                        Ok(Part::Lit(value))
                    }
                    None => Err(format!(
                        "`{{{{env.{var}}}}}`: the environment variable {var} is not set"
                    )),
                };
            }
            if let Some(slot) = scope.vars.iter().position(|v| v == name) {
                return Ok(Part::Var(slot));
            }
            if let Some((set_name, column)) = name.split_once('.') {
                if let Some(set) = scope.datasets.iter().position(|(n, _)| n == set_name) {
                    let columns = &scope.datasets[set].1;
                    return match columns.iter().position(|c| c == column) {
                        Some(column) => Ok(Part::Data { set, column }),
                        None => Err(format!(
                            "`{{{{{name}}}}}`: data set `{set_name}` has no column `{column}`; its columns are {}",
                            columns.join(", ")
                        )),
                    };
                }
            }
            let mut known: Vec<String> = scope.vars.to_vec();
            for (set, columns) in scope.datasets {
                known.extend(columns.iter().map(|c| format!("{set}.{c}")));
            }
            let known = if known.is_empty() {
                String::new()
            } else {
                format!("; variables in this profile: {}", known.join(", "))
            };
            Err(format!(
                "unknown template variable `{name}`: no step captures it, it is no data field, and it is no built-in ({BUILTINS}){known}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed {
        vars: Vec<Option<String>>,
        n: u64,
    }
    impl Vars for Fixed {
        fn var(&self, slot: usize) -> Option<&str> {
            self.vars.get(slot)?.as_deref()
        }
        fn data(&self, _set: usize, column: usize) -> &str {
            ["alice", "pw"][column]
        }
        fn user_id(&self) -> u64 {
            7
        }
        fn iteration(&self) -> u64 {
            3
        }
        fn random_u64(&mut self) -> u64 {
            self.n += 1;
            self.n
        }
    }

    fn scope_parse(src: &str) -> Result<Template, String> {
        let datasets = vec![(
            "accounts".to_string(),
            vec!["username".to_string(), "password".to_string()],
        )];
        let vars = vec!["token".to_string()];
        let env = |k: &str| (k == "API_KEY").then(|| "sekrit".to_string());
        let scope = Scope {
            datasets: &datasets,
            vars: &vars,
            env: &env,
        };
        Template::parse(src, &scope, &mut Vec::new())
    }

    #[test]
    fn renders_every_kind_of_part() {
        let t = scope_parse(
            "/u/{{ user_id }}/{{accounts.username}}?t={{token}}&k={{env.API_KEY}}&i={{iteration}}&r={{random_int(5,5)}}",
        )
        .unwrap();
        let mut v = Fixed {
            vars: vec![Some("abc".into())],
            n: 0,
        };
        assert_eq!(
            t.render_to_string(&mut v).unwrap(),
            "/u/7/alice?t=abc&k=sekrit&i=3&r=5"
        );
        let uuid = scope_parse("{{uuid}}")
            .unwrap()
            .render_to_string(&mut v)
            .unwrap();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4", "a version-4 uuid: {uuid}");
    }

    #[test]
    fn static_templates_are_recognised() {
        assert_eq!(scope_parse("/health").unwrap().as_static(), Some("/health"));
        assert_eq!(
            scope_parse("k={{env.API_KEY}}").unwrap().as_static(),
            Some("k=sekrit")
        );
        assert_eq!(scope_parse("{{token}}").unwrap().as_static(), None);
    }

    #[test]
    fn an_uncaptured_variable_fails_rendering_with_its_slot() {
        let t = scope_parse("Bearer {{token}}").unwrap();
        let mut v = Fixed {
            vars: vec![None],
            n: 0,
        };
        assert_eq!(t.render_to_string(&mut v), Err(0));
    }

    #[test]
    fn errors_say_what_would_be_right() {
        let e = scope_parse("{{tokn}}").unwrap_err();
        assert!(
            e.contains("unknown template variable `tokn`") && e.contains("token"),
            "{e}"
        );
        let e = scope_parse("{{accounts.email}}").unwrap_err();
        assert!(e.contains("username, password"), "{e}");
        let e = scope_parse("{{env.NOPE}}").unwrap_err();
        assert!(e.contains("NOPE is not set"), "{e}");
        assert!(scope_parse("{{random_int(9,1)}}").is_err());
        assert!(scope_parse("{{random_int(a,1)}}").is_err());
        assert!(scope_parse("{{nope(1)}}").is_err());
        assert!(scope_parse("/x/{{token").is_err());
        assert!(scope_parse("/x/token}}").is_err());
    }
}
