//! JSON input: the line and column of a key path (serde_json has no spans), and serde's
//! messages in the words of a JSON reader.

use super::{line_col, plain, Seg};

/// `plain`, for JSON: objects, not tables.
pub fn plain_json(message: &str) -> String {
    plain(message).replace("expected a table", "expected an object")
}

/// serde_json's syntax error without the " at line L column C" it ends with (the caller shows
/// the position).
pub fn syntax_message(e: &serde_json::Error) -> String {
    let what = e.to_string();
    match what.rfind(" at line ") {
        Some(i) => what[..i].to_string(),
        None => what,
    }
}

/// Line and column of what `path` names in `text` (valid JSON): the key for a key, the element
/// for an index; the deepest part of the path that exists if not all of it does.
pub fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut best = Some(s.i);
    for seg in path {
        let found = match seg {
            Seg::Key(want) => s.find_key(want),
            Seg::Index(want) => s.find_index(*want),
        };
        match found {
            Some(at) => best = Some(at),
            None => break,
        }
    }
    best.map(|o| line_col(text, o))
}

/// A cursor over JSON text that serde_json has already accepted.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// At an object: moves to the value of key `want` and returns where the key starts.
    fn find_key(&mut self, want: &str) -> Option<usize> {
        if self.peek() != Some(b'{') {
            return None;
        }
        self.i += 1;
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            let start = self.i;
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return None;
            }
            self.i += 1;
            self.ws();
            if key == want {
                return Some(start);
            }
            self.skip_value()?;
            self.ws();
            if self.peek() != Some(b',') {
                return None;
            }
            self.i += 1;
        }
    }

    /// At an array: moves to element `want` and returns where it starts.
    fn find_index(&mut self, want: usize) -> Option<usize> {
        if self.peek() != Some(b'[') {
            return None;
        }
        self.i += 1;
        for _ in 0..want {
            self.ws();
            if self.peek() == Some(b']') {
                return None;
            }
            self.skip_value()?;
            self.ws();
            if self.peek() != Some(b',') {
                return None;
            }
            self.i += 1;
        }
        self.ws();
        if matches!(self.peek(), None | Some(b']')) {
            return None;
        }
        Some(self.i)
    }

    /// Skips a string (at its opening quote) and returns its raw text without the quotes.
    fn raw_string(&mut self) -> Option<&[u8]> {
        let start = self.i + 1;
        let mut j = start;
        loop {
            match self.b.get(j)? {
                b'\\' => j += 2,
                b'"' => break,
                _ => j += 1,
            }
        }
        self.i = j + 1;
        Some(&self.b[start..j])
    }

    /// A string (at its opening quote), unescaped.
    fn string(&mut self) -> Option<String> {
        let raw = self.raw_string()?;
        if !raw.contains(&b'\\') {
            return Some(String::from_utf8_lossy(raw).into_owned());
        }
        let quoted = [b"\"", raw, b"\""].concat();
        serde_json::from_slice(&quoted).ok()
    }

    /// Skips one value of any kind; containers without recursion (their depth is unbounded here).
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.raw_string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.raw_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn json_paths_are_located_at_their_key_or_element() {
        let text = "{\n  \"a\": {\"x\": [1, {\"s\": \"q\\\"}\"}],\n  \"y\": 2},\n  \"b\\u0041\": [\n    [],\n    {\"z\": null}\n  ]\n}";
        assert_eq!(locate(text, &[]), Some((1, 1)));
        assert_eq!(locate(text, &[k("a")]), Some((2, 3)));
        assert_eq!(locate(text, &[k("a"), k("y")]), Some((3, 3)));
        assert_eq!(
            locate(text, &[k("a"), k("x"), Seg::Index(1), k("s")]),
            Some((2, 19))
        );
        assert_eq!(locate(text, &[k("bA"), Seg::Index(1)]), Some((6, 5)));
        assert_eq!(
            locate(text, &[k("bA"), Seg::Index(1), k("z")]),
            Some((6, 6))
        );
        // The deepest part that exists.
        assert_eq!(locate(text, &[k("bA"), Seg::Index(7)]), Some((4, 3)));
        assert_eq!(locate(text, &[k("nope"), k("deeper")]), Some((1, 1)));
        assert_eq!(locate("", &[k("a")]), Some((1, 1)));
    }
}
