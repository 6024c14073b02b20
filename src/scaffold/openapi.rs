//! A starting profile from an OpenAPI 3.0/3.1 document (JSON or YAML): one step per GET
//! operation whose required parameters have examples (path and query parameters from
//! `example`, `examples`, the schema's `example`, `default` or first `enum` value), grouped by
//! their first tag into scenarios, named by the path template (`GET /shows/{id}` →
//! `GET /shows/[id]`), each expecting the operation's documented success status. Operations
//! that change data (POST, PUT, PATCH, DELETE) are listed, not sent: a load profile should not
//! create or delete data unless its author says so. Security schemes become headers or query
//! parameters read from the environment.

use serde_json::{Map, Value};

use super::{endpoint_name, Draft, DraftScenario, DraftStep, ScaffoldError};

/// Reads `text` (the file `file`) as an OpenAPI document.
pub fn from_openapi(text: &str, file: &str) -> Result<Draft, ScaffoldError> {
    let bad = |why: String| ScaffoldError::Invalid {
        file: file.to_string(),
        why,
    };
    let doc = parse(text).map_err(bad)?;
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.") {
        let was = match doc.get("swagger").and_then(Value::as_str) {
            Some(v) => format!("Swagger {v}"),
            None => "no `openapi: 3.x` key".to_string(),
        };
        return Err(bad(format!(
            "not an OpenAPI 3.0/3.1 document ({was}); convert it to OpenAPI 3 first"
        )));
    }
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("the document has no `paths`".into()))?;
    // The first server: an absolute URL is the base URL (its path included); a relative one
    // (`/api/v1`) is the paths' prefix, the host left to the user.
    let server = server_url(&doc);
    let absolute = server
        .as_deref()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let prefix = match server.as_deref() {
        Some(u) if u.starts_with('/') => u.trim_end_matches('/').to_string(),
        _ => String::new(),
    };
    let mut d = Draft {
        base_url: absolute.map(|u| u.trim_end_matches('/').to_string()),
        ..Draft::default()
    };
    if !prefix.is_empty() {
        d.notes.push(format!(
            "the document's server is relative ({prefix}): the paths begin with it; set target.base_url to the service's address"
        ));
    }
    let mut not_get: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (template, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in ["post", "put", "patch", "delete"] {
            if item.contains_key(method) {
                not_get.push(format!("{} {template}", method.to_uppercase()));
            }
        }
        let Some(op) = item.get("get").and_then(Value::as_object) else {
            continue;
        };
        match get_step(&doc, template, item, op, &mut d) {
            Ok(step) => {
                let tag = op
                    .get("tags")
                    .and_then(|t| t.get(0))
                    .and_then(Value::as_str)
                    .unwrap_or("api")
                    .to_string();
                match d.scenarios.iter_mut().find(|s| s.name == tag) {
                    Some(s) => s.steps.push(step),
                    None => d.scenarios.push(DraftScenario {
                        name: tag,
                        think_time: Some((0.5, 1.5)),
                        steps: vec![step],
                        left_out: Vec::new(),
                    }),
                }
            }
            Err(why) => unknown.push(format!("GET {template}: {why}")),
        }
    }
    if !prefix.is_empty() {
        for st in d.scenarios.iter_mut().flat_map(|s| s.steps.iter_mut()) {
            st.path = format!("{prefix}{}", st.path);
            if let Some(name) = &mut st.name {
                if let Some((method, path)) = name.split_once(' ') {
                    *name = format!("{method} {prefix}{path}");
                }
            }
        }
    }
    if !unknown.is_empty() {
        d.notes.push(format!(
            "left out: GET operations with a required parameter that has no example (add an `example` to the document, or write the step by hand):\n{}",
            unknown.join("\n")
        ));
    }
    if !not_get.is_empty() {
        d.notes.push(format!(
            "not sent: operations that change data, which a load profile should run only when you say so (add them by hand, with data of their own):\n{}",
            not_get.join("\n")
        ));
    }
    if d.scenarios.is_empty() {
        return Err(bad(
            "no GET operation could be sent (none, or each needs a parameter without an example)"
                .into(),
        ));
    }
    Ok(d)
}

/// The first server's URL with its variables at their defaults (`https://{region}.example.com`).
fn server_url(doc: &Value) -> Option<String> {
    let server = doc.pointer("/servers/0")?;
    let mut url = server.get("url")?.as_str()?.to_string();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (name, v) in vars {
            if let Some(default) = v.get("default").and_then(Value::as_str) {
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    Some(url)
}

/// JSON, or else YAML read into JSON values.
fn parse(text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"));
    }
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    docs.first()
        .map(yaml_to_json)
        .ok_or_else(|| "the file is empty".to_string())
}

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(s.clone()), Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    _ => continue,
                };
                m.insert(key, yaml_to_json(v));
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

/// `$ref: '#/components/…'` resolved within the document (one level at a time, at most 8).
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with("#/") => match doc.pointer(&r[1..]) {
                Some(target) => v = target,
                None => return v,
            },
            _ => return v,
        }
    }
    v
}

/// A parameter's example as text, if the document gives one.
fn example(doc: &Value, p: &Value) -> Option<String> {
    let schema = p.get("schema").map(|s| resolve(doc, s));
    let candidates = [
        p.get("example"),
        p.get("examples")
            .and_then(Value::as_object)
            .and_then(|m| m.values().next())
            .map(|e| resolve(doc, e))
            .and_then(|e| e.get("value")),
        schema.and_then(|s| s.get("example")),
        schema
            .and_then(|s| s.get("examples"))
            .and_then(|e| e.get(0)),
        schema.and_then(|s| s.get("default")),
        schema.and_then(|s| s.get("enum")).and_then(|e| e.get(0)),
    ];
    candidates.into_iter().flatten().find_map(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// Percent-encodes what may not stand in a path segment as it is.
fn path_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The step of one GET operation, or why it cannot be sent.
fn get_step(
    doc: &Value,
    template: &str,
    item: &Map<String, Value>,
    op: &Map<String, Value>,
    d: &mut Draft,
) -> Result<DraftStep, String> {
    // Path-level parameters, overridden by the operation's of the same name and place.
    let mut params: Vec<&Value> = Vec::new();
    for list in [item.get("parameters"), op.get("parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let p = resolve(doc, p);
            let id = |q: &Value| (q.get("name").cloned(), q.get("in").cloned());
            params.retain(|q| id(q) != id(p));
            params.push(p);
        }
    }
    let mut path = template.to_string();
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut has_query = false;
    let mut step = DraftStep {
        method: "GET".into(),
        ..DraftStep::default()
    };
    for p in params {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let place = p.get("in").and_then(Value::as_str).unwrap_or_default();
        let required = place == "path" || p.get("required").and_then(Value::as_bool) == Some(true);
        if !required {
            continue;
        }
        let Some(value) = example(doc, p) else {
            return Err(format!(
                "{place} parameter `{name}` is required and has no example"
            ));
        };
        match place {
            "path" => path = path.replace(&format!("{{{name}}}"), &path_segment(&value)),
            "query" => {
                query.append_pair(name, &value);
                has_query = true;
            }
            "header" => {
                step.headers.insert(name.to_string(), value);
            }
            _ => {}
        }
    }
    if path.contains('{') {
        return Err("a path parameter is not described".into());
    }
    security(doc, op, &mut step, &mut query, &mut has_query, d);
    if has_query {
        path = format!("{path}?{}", query.finish());
    }
    if template.contains('{') || has_query {
        step.name = Some(endpoint_name("GET", template));
    }
    step.path = path;
    step.expect_status = success(op);
    Ok(step)
}

/// The lowest documented 2xx status.
fn success(op: &Map<String, Value>) -> Option<u16> {
    op.get("responses")?
        .as_object()?
        .keys()
        .filter_map(|k| k.parse::<u16>().ok())
        .filter(|c| (200..300).contains(c))
        .min()
}

/// The operation's security (or the document's) as headers or query parameters whose values
/// are read from the environment.
fn security(
    doc: &Value,
    op: &Map<String, Value>,
    step: &mut DraftStep,
    query: &mut form_urlencoded::Serializer<'_, String>,
    has_query: &mut bool,
    d: &mut Draft,
) {
    let reqs = op.get("security").or_else(|| doc.get("security"));
    // The first alternative (any one of them suffices).
    let Some(first) = reqs.and_then(Value::as_array).and_then(|a| a.first()) else {
        return;
    };
    for name in first.as_object().into_iter().flat_map(|m| m.keys()) {
        let Some(scheme) = doc.pointer(&format!("/components/securitySchemes/{name}")) else {
            continue;
        };
        let scheme = resolve(doc, scheme);
        let kind = scheme
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let http = scheme
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match (kind, http.to_ascii_lowercase().as_str()) {
            ("http", "bearer") | ("oauth2" | "openIdConnect", _) => {
                d.needs_env("API_TOKEN");
                step.headers
                    .insert("Authorization".into(), "Bearer {{env.API_TOKEN}}".into());
            }
            ("http", "basic") => {
                d.needs_env("API_BASIC_AUTH");
                step.headers.insert(
                    "Authorization".into(),
                    "Basic {{env.API_BASIC_AUTH}}".into(),
                );
            }
            ("apiKey", _) => {
                let key = scheme
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("api_key");
                d.needs_env("API_KEY");
                match scheme.get("in").and_then(Value::as_str) {
                    Some("query") => {
                        query.append_pair(key, "{{env.API_KEY}}");
                        *has_query = true;
                    }
                    _ => {
                        step.headers
                            .insert(key.to_string(), "{{env.API_KEY}}".into());
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
openapi: 3.1.0
servers:
  - url: http://127.0.0.1:8080/
paths:
  /shows/:
    get:
      tags: [catalog]
      parameters:
        - { name: page, in: query, schema: { type: integer, default: 1 } }
        - { name: q, in: query, required: true, schema: { type: string, example: "rock band" } }
      responses: { "200": { description: ok }, "400": { description: bad } }
    post:
      responses: { "201": { description: created } }
  /shows/{id}/:
    parameters:
      - $ref: '#/components/parameters/ShowId'
    get:
      tags: [catalog]
      responses: { "200": { description: ok }, "404": { description: none } }
  /orders/{order}:
    get:
      tags: [orders]
      security: [{ bearer: [] }]
      parameters:
        - { name: order, in: path, required: true, schema: { type: string } }
      responses: { "200": { description: ok } }
  /me:
    get:
      security: [{ bearer: [] }]
      responses: { "204": { description: ok } }
components:
  parameters:
    ShowId: { name: id, in: path, required: true, schema: { type: integer }, example: 17 }
  securitySchemes:
    bearer: { type: http, scheme: bearer }
"#;

    #[test]
    fn get_operations_with_examples_become_steps_grouped_by_tag() {
        let d = from_openapi(DOC, "api.yaml").unwrap();
        assert_eq!(d.base_url.as_deref(), Some("http://127.0.0.1:8080"));
        let mut names: Vec<&str> = d.scenarios.iter().map(|s| s.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["api", "catalog"]);
        let scenario = |n: &str| &d.scenarios.iter().find(|s| s.name == n).unwrap().steps;
        let catalog = scenario("catalog");
        // Only required query parameters are sent, from their examples.
        assert_eq!(catalog[0].path, "/shows/?q=rock+band");
        assert_eq!(catalog[0].name.as_deref(), Some("GET /shows/"));
        assert_eq!(catalog[1].path, "/shows/17/");
        assert_eq!(catalog[1].name.as_deref(), Some("GET /shows/[id]/"));
        assert_eq!(catalog[1].expect_status, Some(200));
        let me = &scenario("api")[0];
        assert_eq!(me.expect_status, Some(204));
        assert_eq!(me.headers["Authorization"], "Bearer {{env.API_TOKEN}}");
        assert_eq!(d.env, ["API_TOKEN"]);
        let notes = d.notes.join("\n");
        assert!(
            notes.contains("GET /orders/{order}: path parameter `order`"),
            "{notes}"
        );
        assert!(notes.contains("POST /shows/"), "{notes}");
        // JSON reads the same.
        let json = serde_json::to_string(&parse(DOC).unwrap()).unwrap();
        assert_eq!(from_openapi(&json, "api.json").unwrap(), d);
    }

    #[test]
    fn an_openapi_3_0_json_document_with_a_relative_or_templated_server() {
        let doc = serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "/api/v1/"}],
            "paths": {
                "/cities/{city}": {"get": {
                    "parameters": [{"name": "city", "in": "path", "required": true,
                                    "schema": {"type": "string", "enum": ["oslo", "rome"]}}],
                    "responses": {"200": {"description": "ok"}}}},
                "/health": {"get": {"responses": {"default": {"description": "ok"}}}}
            }
        })
        .to_string();
        let d = from_openapi(&doc, "api.json").unwrap();
        assert_eq!(d.base_url, None);
        let steps: Vec<(&str, Option<&str>)> = d.scenarios[0]
            .steps
            .iter()
            .map(|s| (s.path.as_str(), s.name.as_deref()))
            .collect();
        assert_eq!(
            steps,
            [
                ("/api/v1/cities/oslo", Some("GET /api/v1/cities/[city]")),
                ("/api/v1/health", None)
            ]
        );
        assert!(d.notes.join("\n").contains("server is relative (/api/v1)"));
        let templated = doc.replace(
            r#""servers":[{"url":"/api/v1/"}]"#,
            r#""servers":[{"url":"https://{region}.example.com/v2","variables":{"region":{"default":"eu"}}}]"#,
        );
        assert_ne!(templated, doc);
        let d = from_openapi(&templated, "api.json").unwrap();
        assert_eq!(d.base_url.as_deref(), Some("https://eu.example.com/v2"));
        assert_eq!(d.scenarios[0].steps[0].path, "/cities/oslo");
    }

    #[test]
    fn what_is_not_openapi_3_says_so() {
        let e = from_openapi("swagger: '2.0'\npaths: {}\n", "old.yaml").unwrap_err();
        assert!(e.to_string().contains("Swagger 2.0"), "{e}");
        let e = from_openapi("openapi: 3.0.0\n", "x.yaml").unwrap_err();
        assert!(e.to_string().contains("no `paths`"), "{e}");
        let e = from_openapi("{ nope", "x.json").unwrap_err();
        assert!(e.to_string().starts_with("x.json: not JSON"), "{e}");
    }
}
