//! The settings that make the third-party peers behave like lockstep's own engines wherever the
//! spec leaves the choice to the implementation, so a difference between engines is a bug and
//! not a configuration.
//!
//! The values mirror the defaults of `lockstep-runtime` (`Config::new`) and of the oracle
//! (`interp-oracle`'s table limit, [`super::oracle::MAX_CALL_DEPTH`]); those crates do not export
//! them, so a change there must be repeated here.

use crate::engine::CompileError;

/// Maximum bytes of native stack wasm may use (the runtime's default, and Wasmtime's).
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// Virtual bytes reserved per linear memory: the runtime's 4 GiB, which covers every 32-bit
/// memory, so guard pages replace bounds checks on every engine that uses them.
pub const MEMORY_RESERVATION: u64 = 4 << 30;

/// Guard bytes after the reservation (the runtime's default).
pub const MEMORY_GUARD: u64 = 2 << 30;

/// The largest memory any engine grows to: 65,536 pages, the 32-bit limit the runtime and the
/// oracle apply (a `memory.grow` past it returns -1 everywhere).
pub const MAX_MEMORY_BYTES: usize = 1 << 32;

/// The largest table any engine creates or grows to (the runtime's and the oracle's limit).
pub const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// The most bytes Wasmtime's GC heap (its structs, arrays and exceptions) takes. The oracle
/// stops at a number of objects and an array length instead (`Config::max_objects`,
/// `MAX_ARRAY_LEN`); either limit traps as [`crate::engine::TrapCode::ResourceExhausted`], which
/// is inconclusive, like call-stack exhaustion. Without it, a module that allocates a 16M-element
/// array in a loop grew Wasmtime's heap to gigabytes and timed the campaign's cases out.
pub const GC_HEAP_BYTES: u64 = 256 << 20;

/// Nested calls an interpreter allows before "call stack exhausted": the oracle's limit.
pub const MAX_CALL_DEPTH: usize = super::oracle::MAX_CALL_DEPTH;

/// Run-time choices every engine of a run must share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parity {
    /// Every float result that is a NaN is the canonical NaN (`--canonicalize-nans`), so NaN
    /// bits can be compared exactly. An engine without the switch does not take part.
    pub canonicalize_nans: bool,
}

/// Classify a peer's rejection of `bytes`. The peers report one error kind for both, so the
/// harness decodes the module itself: bytes that do not decode are malformed (the spec's
/// `assert_malformed`), the rest invalid. The class only decides the note a mismatched
/// rejection gets; the rejection itself is what a script asserts.
pub fn rejection(bytes: &[u8], message: String) -> CompileError {
    if decodes(bytes) {
        CompileError::Invalid(message)
    } else {
        CompileError::Malformed(message)
    }
}

/// The export names of a module in declaration order, for engines that list an instance's exports
/// in another order (snapshots are in export order).
pub fn export_names(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::ExportSection(r)) = payload {
            names.extend(r.into_iter().filter_map(|e| Some(e.ok()?.name.to_string())));
        }
    }
    names
}

/// Whether every section, section item and function body of `bytes` decodes (no validation).
fn decodes(bytes: &[u8]) -> bool {
    use wasmparser::Payload as P;
    fn items<'a, T: wasmparser::FromReader<'a>>(r: wasmparser::SectionLimited<'a, T>) -> bool {
        r.into_iter().all(|item| item.is_ok())
    }
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let ok = match payload {
            Err(_) => false,
            Ok(P::TypeSection(r)) => items(r),
            Ok(P::ImportSection(r)) => r.into_imports().all(|i| i.is_ok()),
            Ok(P::FunctionSection(r)) => items(r),
            Ok(P::TableSection(r)) => items(r),
            Ok(P::MemorySection(r)) => items(r),
            Ok(P::TagSection(r)) => items(r),
            Ok(P::GlobalSection(r)) => items(r),
            Ok(P::ExportSection(r)) => items(r),
            Ok(P::ElementSection(r)) => items(r),
            Ok(P::DataSection(r)) => items(r),
            Ok(P::CodeSectionEntry(body)) => {
                let locals = body
                    .get_locals_reader()
                    .is_ok_and(|r| r.into_iter().all(|l| l.is_ok()));
                let ops = body.get_operators_reader().is_ok_and(|mut r| {
                    while !r.eof() {
                        if r.read().is_err() {
                            return false;
                        }
                    }
                    r.finish().is_ok()
                });
                locals && ops
            }
            Ok(_) => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_classified_by_decoding() {
        let valid_shape = wat::parse_str("(module (func (result i32) (i64.const 0)))").unwrap();
        assert!(matches!(
            rejection(&valid_shape, "type mismatch".into()),
            CompileError::Invalid(_)
        ));
        // A truncated body, a bad magic number, an unknown opcode.
        let mut truncated = valid_shape.clone();
        truncated.truncate(truncated.len() - 2);
        let mut bad_opcode = wat::parse_str("(module (func nop))").unwrap();
        let at = bad_opcode.len() - 2;
        bad_opcode[at] = 0xff;
        for bytes in [truncated, b"\0asn\x01\0\0\0".to_vec(), bad_opcode] {
            assert!(
                matches!(rejection(&bytes, "x".into()), CompileError::Malformed(_)),
                "{bytes:?}"
            );
        }
    }
}
