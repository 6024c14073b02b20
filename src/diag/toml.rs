//! TOML input: positions of key paths, every type error serde meets (not only the first), the
//! keys a file does not know, and the field names of the raw types (for "did you mean").

use std::borrow::Cow;

use serde::de::{self, Visitor};
use toml::de::{DeTable, DeValue};

use super::{line_col, path_string, plain, Problem, Seg};

/// Turns byte offsets into line:column and key paths into positions, for one source text.
pub struct Locator<'a> {
    src: &'a str,
    doc: Option<toml::Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    pub fn new(src: &'a str) -> Self {
        Locator {
            src,
            doc: DeTable::parse(src).ok(),
        }
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(self.src, offset)
    }

    /// Position of the key (for a key path) or element (for an index) that `path` names, or of
    /// the deepest part of it that exists.
    pub fn locate(&self, path: &[Seg]) -> Option<(usize, usize)> {
        let doc = self.doc.as_ref()?;
        let mut span = None;
        let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
        let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
        for seg in path {
            let value = match seg {
                Seg::Key(k) => {
                    let (key, value) = table?.iter().find(|(key, _)| key.get_ref() == k)?;
                    span = Some(key.span());
                    value
                }
                Seg::Index(i) => {
                    let value = array?.get(*i)?;
                    span = Some(value.span());
                    value
                }
            };
            table = value.get_ref().as_table();
            array = value.get_ref().as_array().map(|a| &a[..]);
        }
        span.map(|s| self.line_col(s.start))
    }

    /// The path of the deepest key whose value contains byte `offset` (ending in a key, so that
    /// removing it removes the whole value).
    pub fn path_at(&self, offset: usize) -> Option<Vec<Seg>> {
        fn walk(v: &DeValue<'_>, offset: usize, path: &mut Vec<Seg>, best: &mut Vec<Seg>) {
            let within =
                |r: std::ops::Range<usize>| r.start <= offset && offset < r.end.max(r.start + 1);
            if let Some(t) = v.as_table() {
                for (k, val) in t.iter() {
                    path.push(Seg::Key(k.get_ref().to_string()));
                    if within(k.span()) || within(val.span()) {
                        *best = path.clone();
                    }
                    // Table headers do not span their contents: look inside every table.
                    walk(val.get_ref(), offset, path, best);
                    path.pop();
                }
            } else if let Some(a) = v.as_array() {
                for (i, val) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(val.get_ref(), offset, path, best);
                    path.pop();
                }
            }
        }
        let doc = self.doc.as_ref()?;
        let mut best = Vec::new();
        let root = DeValue::Table(doc.get_ref().clone());
        walk(&root, offset, &mut Vec::new(), &mut best);
        Some(best)
    }

    pub fn problem(&self, path: &[Seg], message: impl Into<String>) -> Problem {
        Problem {
            position: self.locate(path),
            key: path_string(path),
            message: message.into(),
        }
    }

    /// "unknown key" for `path`, with the keys its table has and the likeliest one meant.
    pub fn unknown_key(&self, path: &[Seg], what_is_lost: &str, known: Option<Known>) -> Problem {
        let mut message =
            format!("unknown key (a typo would silently drop {what_is_lost}, so this is an error)");
        if let (Some(known), Some(Seg::Key(typo))) = (known, path.last()) {
            message.push_str(&format!(
                "; the keys of {} are {}",
                known.table,
                known.keys.join(", ")
            ));
            if let Some(k) = super::did_you_mean(typo, known.keys) {
                message.push_str(&format!(" (did you mean `{k}`?)"));
            }
        }
        self.problem(path, message)
    }
}

/// The keys a table may have, and how to call the table in a message.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    pub table: &'static str,
    pub keys: &'static [&'static str],
}

/// A deserialized value, the paths of keys its type does not know, and the type errors met.
pub type Deserialized<T> = (T, Vec<Vec<Seg>>, Vec<Problem>);

/// Deserializes `src`, returning the value and the paths of keys the type does not know.
///
/// A value of the wrong type stops serde at once; so that it does not hide the other problems,
/// the offending key is removed and the document read again, until it reads. The caller gets
/// every type error (positioned in the original text) and goes on validating what is left.
pub fn deserialize<T: serde::de::DeserializeOwned>(
    src: &str,
    locator: &Locator<'_>,
) -> Result<Deserialized<T>, Problem> {
    let syntax = |e: toml::de::Error| Problem {
        position: e.span().map(|s| locator.line_col(s.start)),
        key: String::new(),
        message: e.message().trim().to_string(),
    };
    let mut text = Cow::Borrowed(src);
    let mut type_errors: Vec<Problem> = Vec::new();
    for _ in 0..100 {
        let de = toml::Deserializer::parse(&text).map_err(syntax)?;
        let mut unknown = Vec::new();
        let e = match serde_ignored::deserialize(de, |p| unknown.push(segments(&p))) {
            Ok(value) => return Ok((value, unknown, type_errors)),
            Err(e) => e,
        };
        // Find the key the error is about, in the current text, and drop it.
        let here = Locator::new(&text);
        let path = e.span().and_then(|s| here.path_at(s.start));
        let Some(path) = path.filter(|p| !p.is_empty()) else {
            return Err(Problem::at(None, plain(e.message())));
        };
        type_errors.push(Problem {
            position: locator.locate(&path),
            key: path_string(&path),
            message: plain(e.message()),
        });
        let mut table: toml::Table = toml::from_str(&text).map_err(syntax)?;
        if !remove_path(&mut table, &path) {
            return Err(type_errors.remove(0));
        }
        match toml::to_string(&table) {
            Ok(t) => text = Cow::Owned(t),
            Err(_) => return Err(type_errors.remove(0)),
        }
    }
    Err(type_errors.remove(0))
}

/// Removes the key at `path` (ending in a key) from a table.
fn remove_path(table: &mut toml::Table, path: &[Seg]) -> bool {
    match path {
        [Seg::Key(k)] => table.remove(k).is_some(),
        [Seg::Key(k), rest @ ..] => match (table.get_mut(k), rest) {
            (Some(toml::Value::Table(t)), _) => remove_path(t, rest),
            (Some(toml::Value::Array(a)), [Seg::Index(i), rest @ ..]) => match a.get_mut(*i) {
                Some(toml::Value::Table(t)) => remove_path(t, rest),
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path as P;
    match path {
        P::Root => Vec::new(),
        P::Seq { parent, index } => {
            let mut v = segments(parent);
            v.push(Seg::Index(*index));
            v
        }
        P::Map { parent, key } => {
            let mut v = segments(parent);
            v.push(Seg::Key(key.clone()));
            v
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            segments(parent)
        }
    }
}

/// The field names of a struct that derives `Deserialize`, as serde knows them: read from the
/// type itself, so the list of keys in a message can never drift from the keys accepted.
pub fn fields<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    let mut found: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut found));
    found
}

/// A deserializer that answers nothing, only records the fields a struct asks for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The JSON Schema (draft 7, which TOML-aware editors such as taplo read) of the raw type `T`
/// of a TOML file, pretty-printed with a final newline: generated from the types the file is
/// read into, so it cannot drift from them. Optional keys are not required (the `null` the
/// schema also allows for them cannot be written in TOML).
pub fn schema_of<T: schemars::JsonSchema>(title: &str) -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Raw {
        alpha: Option<u32>,
        beta: Option<String>,
    }

    #[test]
    fn field_names_come_from_the_type() {
        assert_eq!(fields::<Raw>(), &["alpha", "beta"]);
    }

    #[test]
    fn every_type_error_is_found_and_unknown_keys_listed() {
        let src = "alpha = \"x\"\nbeta = 3\ngamma = 1\n";
        let locator = Locator::new(src);
        let (raw, unknown, errors) = deserialize::<Raw>(src, &locator).unwrap();
        assert!(raw.alpha.is_none() && raw.beta.is_none());
        assert_eq!(unknown, vec![vec![Seg::Key("gamma".into())]]);
        let at: Vec<_> = errors.iter().map(|p| p.position).collect();
        assert_eq!(at, vec![Some((1, 1)), Some((2, 1))]);
        let p = locator.unknown_key(
            &unknown[0],
            "a setting",
            Some(Known {
                table: "the file",
                keys: fields::<Raw>(),
            }),
        );
        assert!(
            p.message.contains("the keys of the file are alpha, beta"),
            "{}",
            p.message
        );
    }
}
