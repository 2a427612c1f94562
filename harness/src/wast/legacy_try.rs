//! The folded form of the legacy exception instructions, rewritten to their flat form.
//!
//! The upstream `legacy/` scripts write `try` folded: `(try $l? BLOCKTYPE (do INSTR*)
//! (catch TAG INSTR*)* (catch_all INSTR*)?)` or `(try $l? BLOCKTYPE (do INSTR*) (delegate L))`.
//! The `wast` crate (263) reads only the flat form (`try ... catch ... end`, `try ... delegate
//! L`), so the harness rewrites the text before parsing it: the same instructions in the same
//! order, with every newline kept so that directive lines stay where they were. Strings (a
//! `module quote` is text the parser must see as written) and comments are left alone.

/// The script with every folded `try` rewritten, or `None` when it has none.
pub fn unfold(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let any = (0..b.len()).any(|i| b[i] == b'(' && keyword_at(b, i + 1, "try"));
    any.then(|| rewrite(text, 0, text.len()))
}

/// `text[start..end]` with each folded `try` group in it rewritten.
fn rewrite(text: &str, start: usize, end: usize) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(end - start);
    let (mut i, mut copied) = (start, start);
    while i < end {
        if let Some(next) = skip_literal(b, i) {
            i = next;
        } else if b[i] == b'(' && keyword_at(b, i + 1, "try") {
            let close = group_end(b, i).min(end);
            out.push_str(&text[copied..i]);
            out.push_str(&unfold_try(text, i, close));
            i = close;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..end]);
    out
}

/// One folded `try` group, `text[start..close]` (from its `(` to just past its `)`), flat.
fn unfold_try(text: &str, start: usize, close: usize) -> String {
    let b = text.as_bytes();
    // An unbalanced group is left as written: the parser reports it.
    if close == 0 || b.get(close - 1) != Some(&b')') {
        return text[start..close].to_string();
    }
    let inner_end = close - 1;
    let mut out = String::from("try");
    let mut i = start + 1 + "try".len();
    let mut copied = i;
    let mut delegated = false;
    while i < inner_end {
        if let Some(next) = skip_literal(b, i) {
            i = next;
            continue;
        }
        if b[i] != b'(' {
            i += 1;
            continue;
        }
        let end = group_end(b, i).min(inner_end);
        let clause = ["do", "catch_all", "catch", "delegate"]
            .into_iter()
            .find(|kw| keyword_at(b, i + 1, kw));
        if let Some(kw) = clause {
            out.push_str(&text[copied..i]);
            let body_start = i + 1 + kw.len();
            // `do` only opens the body; the others are instructions of the flat form.
            if kw != "do" {
                out.push_str(kw);
            }
            let body_end = if b.get(end - 1) == Some(&b')') {
                end - 1
            } else {
                end
            };
            out.push_str(&rewrite(text, body_start, body_end));
            delegated |= kw == "delegate";
            copied = end;
        }
        // Other groups (`(result i32)`, `(type $t)`, ...) are the block type: copied as written.
        i = end;
    }
    out.push_str(&text[copied..inner_end]);
    if !delegated {
        out.push_str(" end");
    }
    out
}

/// Does the keyword `kw` start at `i`, followed by a delimiter (so `try_table` is not `try`)?
fn keyword_at(b: &[u8], i: usize, kw: &str) -> bool {
    b.get(i..i + kw.len()) == Some(kw.as_bytes())
        && b.get(i + kw.len())
            .is_none_or(|c| c.is_ascii_whitespace() || matches!(c, b'(' | b')' | b';'))
}

/// If a string or a comment starts at `i`, the index just past it.
fn skip_literal(b: &[u8], i: usize) -> Option<usize> {
    match (b[i], b.get(i + 1)) {
        (b'"', _) => {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            Some((j + 1).min(b.len()))
        }
        (b';', Some(b';')) => Some(
            b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p),
        ),
        (b'(', Some(b';')) => {
            let mut depth = 0usize;
            let mut j = i;
            while j + 1 < b.len() {
                match (b[j], b[j + 1]) {
                    (b'(', b';') => {
                        depth += 1;
                        j += 2;
                    }
                    (b';', b')') => {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                    _ => j += 1,
                }
            }
            Some(b.len())
        }
        _ => None,
    }
}

/// The index just past the `)` that closes the group opened at `i` (the text's end when it is
/// unbalanced).
fn group_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        if let Some(next) = skip_literal(b, j) {
            j = next;
            continue;
        }
        match b[j] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(text: &str) -> String {
        unfold(text).expect("a folded try")
    }

    #[test]
    fn catch_clauses_become_flat_instructions() {
        assert_eq!(
            flat(
                "(func (try (result i32) (do (i32.const 1)) (catch $e (i32.const 2)) (catch_all (i32.const 3))))"
            ),
            "(func try (result i32)  (i32.const 1) catch $e (i32.const 2) catch_all (i32.const 3) end)"
        );
    }

    #[test]
    fn nested_tries_and_delegate() {
        assert_eq!(
            flat("(try $t (do (try (do (throw $e)) (delegate $t))) (catch_all))"),
            "try $t  try  (throw $e) delegate $t catch_all end"
        );
    }

    #[test]
    fn newlines_strings_comments_and_try_table_are_kept() {
        let text = "(try\n  (do ;; (try\n   (nop))\n  (catch_all))\n(module quote \"(try (do))\")\n(try_table)";
        let out = flat(text);
        assert_eq!(out.matches('\n').count(), text.matches('\n').count());
        assert!(out.contains("\"(try (do))\""), "{out}");
        assert!(out.contains(";; (try\n"), "{out}");
        assert!(out.ends_with("(try_table)"), "{out}");
        assert_eq!(unfold("(module (func (try_table)))"), None);
    }

    /// The upstream legacy scripts, when the pinned checkout is beside the repository: every
    /// module the scripts expect to compile validates after the rewrite, and every one they
    /// expect to be invalid still does not.
    #[test]
    fn the_upstream_legacy_scripts_read_and_their_modules_validate() {
        use crate::wast::directives::{Command, ModuleSource, parse_script};
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite/legacy");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("not checked: no testsuite checkout at {}", dir.display());
            return;
        };
        let features = crate::suite::features_3_0() | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS;
        let validates = |b: &[u8]| {
            wasmparser::Validator::new_with_features(features)
                .validate_all(b)
                .is_ok()
        };
        let mut modules = 0;
        for e in entries {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let directives =
                parse_script(&text).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
            for d in directives {
                match &d.command {
                    Command::Module {
                        module: ModuleSource::Bytes(b),
                        ..
                    } => {
                        assert!(validates(b), "{}:{}", path.display(), d.line);
                        modules += 1;
                    }
                    Command::AssertInvalid {
                        module: ModuleSource::Bytes(b),
                        ..
                    } => {
                        assert!(!validates(b), "{}:{}", path.display(), d.line);
                    }
                    _ => {}
                }
            }
        }
        assert!(modules >= 4, "{modules}");
    }

    #[test]
    fn an_unbalanced_try_is_left_for_the_parser() {
        assert_eq!(flat("(try (do"), "(try (do");
    }
}
