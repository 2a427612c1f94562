//! The features a script needs an engine to *execute*, worked out from the script itself.
//!
//! A script runs under one feature set (its suite's), but most files use a small part of it. An
//! engine takes part in a file only when it executes every feature the file needs, so a 3.0
//! file of plain integer tests runs on an engine that has no GC yet, and a GC file is reported
//! as sat out rather than failed.
//!
//! A feature is needed when some *positive* module of the script (one that the script expects to
//! compile: `module`, `module definition`, the module of `assert_trap`/`assert_return`/
//! `assert_unlinkable`) fails to validate without it. Every feature gate of Wasm 3.0 is
//! syntactic (an instruction, a type, a section, an encoding), so this finds each one the
//! modules use. Some constructs are allowed by either of two features (a typed function
//! reference validates with `function-references` or with `gc`, which includes it), so the
//! search is greedy: starting from the suite's features, it drops each feature in turn, latest
//! proposal first, and leaves it out when the module still validates. What remains is a minimal
//! set the module validates with; dropping later proposals first names the earlier, smaller
//! proposal when either would do.
//! Negative modules (`assert_invalid`, `assert_malformed`) need nothing to be executed: the
//! engine only has to reject them, which it does by validating with the suite's features.

use wasmparser::{Validator, WasmFeatures};

use super::directives::{Command, Directive, Exec, ModuleSource};

/// The features of `features` that some positive module of `directives` cannot validate without.
pub fn required_features(directives: &[Directive], features: WasmFeatures) -> WasmFeatures {
    let flags: Vec<WasmFeatures> = features.iter().collect();
    let mut needed = WasmFeatures::empty();
    for bytes in directives.iter().filter_map(positive_module) {
        // A module that does not validate even with every feature needs no feature: its
        // directive fails on every engine alike.
        if !validates(bytes, features) {
            continue;
        }
        // Already-needed features stay in; only the others are tried without.
        let open = flags
            .iter()
            .copied()
            .filter(|f| !needed.contains(*f))
            .fold(WasmFeatures::empty(), |acc, f| acc | f);
        // Most modules need none of them: one validation says so.
        if validates(bytes, features.difference(open)) {
            continue;
        }
        let mut dropped = WasmFeatures::empty();
        for f in flags.iter().rev().filter(|f| open.contains(**f)) {
            if validates(bytes, features.difference(dropped | *f)) {
                dropped |= *f;
            }
        }
        needed |= open.difference(dropped);
    }
    needed
}

fn validates(bytes: &[u8], features: WasmFeatures) -> bool {
    Validator::new_with_features(features)
        .validate_all(bytes)
        .is_ok()
}

fn positive_module(d: &Directive) -> Option<&[u8]> {
    let source = match &d.command {
        Command::Module { module, .. } | Command::AssertUnlinkable { module, .. } => module,
        Command::Action(Exec::Instantiate(module))
        | Command::AssertReturn {
            exec: Exec::Instantiate(module),
            ..
        }
        | Command::AssertTrap {
            exec: Exec::Instantiate(module),
            ..
        }
        | Command::AssertException {
            exec: Exec::Instantiate(module),
        } => module,
        _ => return None,
    };
    match source {
        ModuleSource::Bytes(b) => Some(b),
        ModuleSource::TextError(_) => None,
    }
}

/// Feature names as wasmparser spells them, lower-case with dashes (`tail-call`, `gc`),
/// joined by `, `.
pub fn names(features: WasmFeatures) -> String {
    features
        .iter_names()
        .map(|(name, _)| name.to_ascii_lowercase().replace('_', "-"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wast::directives::parse_script;

    fn needs(text: &str) -> WasmFeatures {
        let features = WasmFeatures::WASM3.difference(WasmFeatures::THREADS);
        required_features(&parse_script(text).unwrap(), features)
    }

    #[test]
    fn a_plain_module_needs_no_proposal() {
        let n = needs(r#"(module (func (export "f") (result i32) (i32.const 1)))"#);
        assert!(WasmFeatures::WASM1.contains(n), "{}", names(n));
    }

    #[test]
    fn each_feature_a_module_uses_is_needed() {
        let n = needs(
            r#"(module (func $f (return_call $f)))
               (module (type $s (struct (field i32))) (func (result (ref null $s)) (ref.null $s)))
               (assert_invalid (module (memory i64 1) (func (drop (i64.const 0)))) "x")"#,
        );
        assert!(n.contains(WasmFeatures::TAIL_CALL), "{}", names(n));
        assert!(n.contains(WasmFeatures::GC), "{}", names(n));
        // The invalid module is not executed: memory64 is not needed.
        assert!(!n.contains(WasmFeatures::MEMORY64), "{}", names(n));
        assert!(!n.contains(WasmFeatures::EXCEPTIONS), "{}", names(n));
    }

    #[test]
    fn a_construct_two_features_allow_names_the_smaller_one() {
        // A typed function reference validates with function-references or with gc.
        let n = needs(r#"(module (type $t (func)) (table 1 (ref null $t)))"#);
        assert!(
            n.contains(WasmFeatures::FUNCTION_REFERENCES),
            "{}",
            names(n)
        );
        assert!(!n.contains(WasmFeatures::GC), "{}", names(n));
    }

    #[test]
    fn feature_names_read_like_the_proposals() {
        assert_eq!(
            names(WasmFeatures::TAIL_CALL | WasmFeatures::GC),
            "tail-call, gc"
        );
    }
}
