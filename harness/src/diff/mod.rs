//! Differential comparison: one engine's outcome and exported state against another's.
//!
//! The rules, each tested below:
//!
//! 1. **Integers** (i32, i64) are compared bit for bit.
//! 2. **Floats that are not NaN** are compared bit for bit, so `-0.0` and `+0.0` differ.
//! 3. **NaN results** are compared as "both NaN": the spec lets engines choose NaN payloads (and
//!    the sign) of arithmetic results. When the module canonicalizes its NaNs (wasm-smith's
//!    `canonicalize_nans`), every NaN it can produce is determined, so NaNs are compared bit for
//!    bit instead ([`Rules::exact_nans`]).
//!
//!    **v128** values follow the same NaN rule, lane by lane ([`same_v128`]). A v128 value
//!    carries no lane shape, so two of them match when they are bit-identical, or (unless
//!    [`Rules::exact_nans`]) when under the **f32x4** view every lane is bit-equal or both lanes
//!    are NaN, or under the **f64x2** view every lane is bit-equal or both lanes are NaN. A
//!    result of an `f32x4` or `f64x2` operation therefore compares exactly like four or two
//!    scalar results would.
//!
//!    The price is a small false negative: integer lanes that happen to hold NaN bit patterns in
//!    *both* engines (an `i32x4` lane of `0x7fc0_0000` on one side and `0x7fc0_0001` on the other,
//!    or any two `i64x2` lanes with all exponent bits set and non-zero mantissas) count as
//!    agreeing. Integer operations rarely land two different values on NaN patterns in the same
//!    lane, and modules that canonicalize NaNs compare bit for bit anyway. In the other
//!    direction, one vector holding NaNs of *both* widths (a shuffle of an `f32x4` NaN lane next to
//!    an `f64x2` NaN lane) is compared under one view at a time and may be reported even though
//!    every difference is a NaN payload; such a report names the lanes (see [`describe_v128`]).
//! 4. **Traps** are compared by [`TrapCode`] ([`TrapCode::agrees_with`]: an engine that reports
//!    one code for every out-of-bounds table index agrees with both table traps); messages are
//!    engine-specific and ignored.
//! 5. **Call-stack exhaustion** on either side makes the comparison [`Comparison::Inconclusive`]:
//!    engines legitimately run out of stack at different depths. So does **heap exhaustion**
//!    ([`TrapCode::ResourceExhausted`]: an allocation of structs, arrays or exceptions past an
//!    engine's own limit). It is neither a pass nor a
//!    failure; callers count it and stop comparing that case (the states may have drifted).
//!    When the reference exhausts its resources instantiating, the other engines compile the
//!    module but are not instantiated at all ([`crate::lockstep::Lockstep::instantiate`]).
//! 6. **References** are compared by shape ([`Val::shape`]): the same hierarchy and nullness,
//!    the same kind (struct, array, i31, host, externalized), the same i31 payload and host
//!    number. Functions, structs, arrays and exceptions are known by engine-specific ids, which are
//!    ignored. Extern references are the harness's own numbers and are compared exactly. Uncaught
//!    exceptions agree when their payloads agree by these rules.
//! 7. **Memories** are compared by size, then by hash; only when the hashes differ are the bytes
//!    scanned for the first differing range, which the divergence reports. Memory is bytes: a
//!    NaN stored there (scalar or a v128 lane) is compared bit for bit. The fuzz campaign sets
//!    such differences aside when they vanish with NaN canonicalization on.
//! 8. **Globals** follow the value rules (a v128 global lane by lane, like a v128 result);
//!    **tables** are compared by size, then element by element with the value rules.
//! 9. A failure to *make* the call (not a trap: "no such export", an unsupported argument type)
//!    is a divergence when only one side fails, and agreement when both do.
//!
//! 10. **Structs and arrays** reachable from results, exported globals and exported tables
//!     (through `anyref`s and externalized references) are compared field by field
//!     ([`compare_deep`]) once rule 6 has found the references agreeing: the same kind, the same
//!     number of fields (elements), each field by these rules, references inside followed in
//!     turn. The walk is bounded: at most [`MAX_DEPTH`] references deep, at most [`MAX_OBJECTS`]
//!     objects per comparison and the first [`HeapObject::MAX_READ`] fields of an object (the
//!     length is always compared). A pair of objects already compared is not compared again, so
//!     a cycle ends where it closes on an engine with stable ids (the oracle) and at the depth
//!     bound otherwise. Identity (aliasing) is not compared: ids mean nothing across engines. An
//!     engine that cannot read its objects makes the comparison unavailable (a note), not a pass.
//!
//! 11. **Relaxed SIMD.** The spec lets each relaxed instruction give one of a few results, the
//!     choice fixed per environment. For a module that needs relaxed SIMD, when the reference is
//!     an engine that can be told its choice (the oracle, [`crate::engine::Session::relaxed_choices`])
//!     and another engine's outcome of a call (or its state after it) differs from the
//!     reference's, the reference is replayed under each other choice on a fresh instance, every
//!     call before it included ([`crate::lockstep`]). The outcome is accepted when a choice gives
//!     it ([`consistent_choices`]) and that same choice gave every earlier outcome of that engine
//!     too (one choice for the whole case); otherwise it is a divergence. Accepted steps are
//!     counted apart (`relaxed_permitted`), not as findings. Earlier *states* are not replayed,
//!     only earlier outcomes.
//!
//! A missing snapshot (an engine that cannot take one) is not a pass: [`compare_states`] reports
//! [`StateComparison::Unavailable`], which callers surface as a note.

use std::convert::Infallible;
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::engine::{AnyRef, HeapObject, HeapRefId, InvokeError, Snapshot, TrapCode, Val};

/// How strictly to compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Compare NaNs bit for bit (the module or every engine canonicalizes NaNs).
    pub exact_nans: bool,
}

impl Rules {
    /// The rules for `engines` on a module: NaNs are compared bit for bit when the module
    /// canonicalizes its own (`module_canonical`, wasm-smith's `canonicalize_nans`) or every
    /// engine does (`--canonicalize-nans`); either way every NaN bit is then determined.
    pub fn for_engines(engines: &[&dyn crate::engine::Engine], module_canonical: bool) -> Rules {
        Rules {
            exact_nans: module_canonical || engines.iter().all(|e| e.canonicalizes_nans()),
        }
    }
}

/// The result of a call, as an engine reports it.
pub type CallResult = Result<Vec<Val>, InvokeError>;

/// An engine's snapshot of exported state, or why it has none.
pub type SnapshotResult = Result<Snapshot, String>;

/// What kind of difference a divergence is. Shrinking keeps a module only while it still diverges
/// with the same [`Divergence::signature`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DivergenceKind {
    /// One side returned, the other trapped (or failed to make the call).
    ReturnVsTrap,
    /// Both trapped, with different codes.
    TrapCodes,
    /// Both returned, with different values (or a different number of values).
    Results,
    /// Exported memory contents or sizes differ.
    Memory,
    /// Exported global values differ.
    Global,
    /// Exported table sizes or elements differ.
    Table,
    /// The engines export different state (names or kinds).
    Exports,
    /// One engine accepted a module the other rejected, or instantiation went differently.
    Module,
}

/// A difference between two engines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    pub kind: DivergenceKind,
    /// A short, stable description of what differs (no values): e.g. `trap:unreachable/return`,
    /// `memory:mem`, `result:0`. Two divergences "are the same" when kinds and signatures agree.
    pub signature: String,
    /// A human-readable explanation with both sides' values.
    pub detail: String,
}

impl Divergence {
    fn new(kind: DivergenceKind, signature: impl Into<String>, detail: impl Into<String>) -> Self {
        Divergence {
            kind,
            signature: signature.into(),
            detail: detail.into(),
        }
    }

    /// `kind/signature`: what a shrunk module must keep.
    pub fn key(&self) -> String {
        format!("{:?}/{}", self.kind, self.signature)
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// The outcome of comparing two engines on one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    Same,
    Diverged(Divergence),
    /// Not comparable (call-stack exhaustion on one side at least): neither a pass nor a failure.
    Inconclusive(String),
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        matches!(self, Comparison::Same)
    }
}

/// State comparison also has "we could not look".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateComparison {
    Same,
    Diverged(Divergence),
    /// One engine has no snapshot; the reason says which and why.
    Unavailable(String),
}

fn code_name(c: TrapCode) -> String {
    format!("{c:?}")
}

/// Describe a call result briefly.
pub fn describe(r: &CallResult) -> String {
    match r {
        Ok(vals) => format!(
            "returned [{}]",
            vals.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Err(InvokeError::Trap(t)) => format!("trapped: {:?} ({})", t.code, t.message),
        Err(e @ InvokeError::Exception { .. }) => e.to_string(),
        Err(InvokeError::Other(m)) => format!("failed to call: {m}"),
    }
}

/// Do two values agree under `rules`? (Rules 1, 2, 3 and 6.)
pub fn same_val(a: &Val, b: &Val, rules: Rules) -> bool {
    match (*a, *b) {
        (Val::I32(x), Val::I32(y)) => x == y,
        (Val::I64(x), Val::I64(y)) => x == y,
        (Val::V128(x), Val::V128(y)) => same_v128(x, y, rules),
        (Val::F32(x), Val::F32(y)) => {
            let (nx, ny) = (f32::from_bits(x).is_nan(), f32::from_bits(y).is_nan());
            if nx && ny && !rules.exact_nans {
                true
            } else {
                x == y
            }
        }
        (Val::F64(x), Val::F64(y)) => {
            let (nx, ny) = (f64::from_bits(x).is_nan(), f64::from_bits(y).is_nan());
            if nx && ny && !rules.exact_nans {
                true
            } else {
                x == y
            }
        }
        // Rule 6: references by shape (kind, nullness, i31 payload, host number), never by id.
        (x, y) if x.is_ref() => x.shape() == y.shape(),
        _ => false,
    }
}

/// Do two v128 values agree under `rules`? (Rule 3, lane by lane.) Bit-identical, or (unless
/// [`Rules::exact_nans`]) every lane bit-equal or both NaN under the f32x4 view, or under the
/// f64x2 view.
pub fn same_v128(x: u128, y: u128, rules: Rules) -> bool {
    if x == y {
        return true;
    }
    if rules.exact_nans {
        return false;
    }
    let f32_lanes = (0..4).all(|i| {
        let (a, b) = ((x >> (32 * i)) as u32, (y >> (32 * i)) as u32);
        a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan())
    });
    let f64_lanes = || {
        (0..2).all(|i| {
            let (a, b) = ((x >> (64 * i)) as u64, (y >> (64 * i)) as u64);
            a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan())
        })
    };
    f32_lanes || f64_lanes()
}

/// Both v128 values lane by lane, as `i32x4` and as `f32x4`/`f64x2` where lanes are NaN: for
/// divergence reports, where the raw 128-bit number hides which lanes differ.
pub fn describe_v128(x: u128, y: u128) -> String {
    let lanes32 = |v: u128| -> String {
        (0..4)
            .map(|i| format!("{:08x}", (v >> (32 * i)) as u32))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let differing: Vec<String> = (0..4)
        .filter(|i| (x >> (32 * i)) as u32 != (y >> (32 * i)) as u32)
        .map(|i| i.to_string())
        .collect();
    format!(
        "i32x4 lanes (lane 0 first) [{}] versus [{}]; 32-bit lanes {} differ",
        lanes32(x),
        lanes32(y),
        differing.join(",")
    )
}

/// `"; i32x4 lanes ..."` when both values are v128, else nothing.
fn lanes(a: &Val, b: &Val) -> String {
    match (*a, *b) {
        (Val::V128(x), Val::V128(y)) => format!("; {}", describe_v128(x, y)),
        _ => String::new(),
    }
}

/// Whether `r` ran out of call stack or heap (rule 5): a comparison with it is inconclusive,
/// whatever the other engine did.
pub fn exhausted(r: &CallResult) -> bool {
    matches!(r, Err(InvokeError::Trap(t)) if t.code.is_exhaustion())
}

/// Compare the outcomes of one call on engines `a` and `b` (named for the messages).
pub fn compare_calls(
    names: (&str, &str),
    a: &CallResult,
    b: &CallResult,
    rules: Rules,
) -> Comparison {
    if exhausted(a) || exhausted(b) {
        return Comparison::Inconclusive(format!(
            "stack or heap exhausted ({} {}, {} {})",
            names.0,
            describe(a),
            names.1,
            describe(b)
        ));
    }
    let both = || format!("{} {}; {} {}", names.0, describe(a), names.1, describe(b));
    match (a, b) {
        (Ok(x), Ok(y)) => {
            if x.len() != y.len() {
                return Comparison::Diverged(Divergence::new(
                    DivergenceKind::Results,
                    "result-count",
                    both(),
                ));
            }
            match x.iter().zip(y).position(|(p, q)| !same_val(p, q, rules)) {
                None => Comparison::Same,
                Some(i) => Comparison::Diverged(Divergence::new(
                    DivergenceKind::Results,
                    format!("result:{i}"),
                    format!("result {i} differs: {}{}", both(), lanes(&x[i], &y[i])),
                )),
            }
        }
        (Err(InvokeError::Trap(x)), Err(InvokeError::Trap(y))) => {
            if x.code.agrees_with(y.code) {
                Comparison::Same
            } else {
                Comparison::Diverged(Divergence::new(
                    DivergenceKind::TrapCodes,
                    format!("trap:{}/{}", code_name(x.code), code_name(y.code)),
                    both(),
                ))
            }
        }
        (
            Err(InvokeError::Exception { payload: x }),
            Err(InvokeError::Exception { payload: y }),
        ) => {
            if x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_val(p, q, rules)) {
                Comparison::Same
            } else {
                Comparison::Diverged(Divergence::new(
                    DivergenceKind::Results,
                    "exception-payload",
                    both(),
                ))
            }
        }
        (Err(InvokeError::Other(_)), Err(InvokeError::Other(_))) => Comparison::Same,
        _ => {
            let tag = |r: &CallResult| match r {
                Ok(_) => "return".to_string(),
                Err(InvokeError::Trap(t)) => format!("trap:{}", code_name(t.code)),
                Err(InvokeError::Exception { .. }) => "exception".to_string(),
                Err(InvokeError::Other(_)) => "error".to_string(),
            };
            Comparison::Diverged(Divergence::new(
                DivergenceKind::ReturnVsTrap,
                format!("{}/{}", tag(a), tag(b)),
                both(),
            ))
        }
    }
}

/// Rule 11: the relaxed SIMD choices (of `choices`, each with the reference's outcome under it)
/// whose outcome agrees with `other` by the other rules. Empty: no permitted result is `other`.
pub fn consistent_choices(
    choices: &[(usize, &CallResult)],
    other: &CallResult,
    rules: Rules,
) -> Vec<usize> {
    choices
        .iter()
        .filter(|(_, r)| compare_calls(("reference", "other"), r, other, rules).is_same())
        .map(|(c, _)| *c)
        .collect()
}

/// Rule 11 for states: the choices (of `choices`, each with the reference's snapshot under it)
/// whose state agrees with `other`.
pub fn consistent_states(
    choices: &[(usize, &SnapshotResult)],
    other: &SnapshotResult,
    rules: Rules,
) -> Vec<usize> {
    choices
        .iter()
        .filter(|(_, s)| {
            matches!(
                compare_states(("reference", "other"), s, other, rules),
                StateComparison::Same
            )
        })
        .map(|(c, _)| *c)
        .collect()
}

/// A 64-bit FNV-1a hash, eight bytes at a time (fast enough for megabytes per call).
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3);
        h ^= h >> 29;
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ bytes.len() as u64
}

/// The first run of differing bytes between two equally long memories: `start..end`.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<std::ops::Range<usize>> {
    let n = a.len().min(b.len());
    let start = (0..n).find(|&i| a[i] != b[i])?;
    let end = (start..n).find(|&i| a[i] == b[i]).unwrap_or(n);
    Some(start..end)
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A memory or table whose sizes differ (`unit`: what the size counts).
fn size_differs(
    kind: DivergenceKind,
    (what, unit): (&str, &str),
    export: &str,
    names: (&str, &str),
    sizes: (usize, usize),
) -> Divergence {
    Divergence::new(
        kind,
        format!("{what}-size:{export}"),
        format!(
            "{what} {export:?} has {} {unit} on {} and {} {unit} on {}",
            sizes.0, names.0, sizes.1, names.1
        ),
    )
}

/// Rule 7 for one exported memory: `a` and `b` are its bytes on the two engines.
pub fn compare_memory(names: (&str, &str), export: &str, a: &[u8], b: &[u8]) -> Option<Divergence> {
    if a.len() != b.len() {
        return Some(size_differs(
            DivergenceKind::Memory,
            ("memory", "bytes"),
            export,
            names,
            (a.len(), b.len()),
        ));
    }
    // One pass of memcmp: hashing both sides first read every byte twice more, at a fraction
    // of memcmp's speed (it was most of the campaign's comparison time).
    if a == b {
        return None;
    }
    let range = first_difference(a, b)?;
    let shown = range.start..range.end.min(range.start + 32);
    Some(Divergence::new(
        DivergenceKind::Memory,
        format!("memory:{export}"),
        format!(
            "memory {export:?} first differs at bytes {:#x}..{:#x} ({} bytes): {} has {}{}, {} has {}{}",
            range.start,
            range.end,
            range.len(),
            names.0,
            hex(&a[shown.clone()]),
            if shown.end < range.end { "..." } else { "" },
            names.1,
            hex(&b[shown.clone()]),
            if shown.end < range.end { "..." } else { "" },
        ),
    ))
}

fn names_differ<T>(what: &str, a: &[(String, T)], b: &[(String, T)]) -> Option<Divergence> {
    let na: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    let nb: Vec<&str> = b.iter().map(|(n, _)| n.as_str()).collect();
    (na != nb).then(|| {
        Divergence::new(
            DivergenceKind::Exports,
            format!("exports:{what}"),
            format!("exported {what}s differ: {na:?} versus {nb:?}"),
        )
    })
}

/// Compare two snapshots of "the same" instance on two engines (rules 6, 7, 8).
pub fn compare_snapshots(
    names: (&str, &str),
    a: &Snapshot,
    b: &Snapshot,
    rules: Rules,
) -> Option<Divergence> {
    let mut copied = |name: &str, x: &[u8], y: &[u8]| -> Result<_, Infallible> {
        Ok(compare_memory(names, name, x, y))
    };
    let Ok(d) = compare_snapshots_with(names, a, b, rules, &mut copied);
    d
}

/// How [`compare_snapshots_with`] compares one exported memory: given its name and the two
/// snapshots' buffers for it (empty where the engine lent its memories, [`Session::memory_in_place`](
/// crate::engine::Session::memory_in_place)), the memory's divergence, if any, or why it could
/// not be read.
pub type CompareMemory<'a, E> =
    &'a mut dyn FnMut(&str, &[u8], &[u8]) -> Result<Option<Divergence>, E>;

/// [`compare_snapshots`] with each memory compared by `memory`, in the same order and as
/// strictly: export names first, then each memory, then globals, then tables.
pub fn compare_snapshots_with<E>(
    names: (&str, &str),
    a: &Snapshot,
    b: &Snapshot,
    rules: Rules,
    memory: CompareMemory<'_, E>,
) -> Result<Option<Divergence>, E> {
    if let Some(d) = names_differ("memory", &a.memories, &b.memories)
        .or_else(|| names_differ("global", &a.globals, &b.globals))
        .or_else(|| names_differ("table", &a.tables, &b.tables))
    {
        return Ok(Some(d));
    }
    for ((name, x), (_, y)) in a.memories.iter().zip(&b.memories) {
        if let Some(d) = memory(name, x, y)? {
            return Ok(Some(d));
        }
    }
    Ok(compare_rest(names, a, b, rules))
}

/// Rules 6 and 8 of [`compare_snapshots`]: globals, then tables (names already agree).
fn compare_rest(
    names: (&str, &str),
    a: &Snapshot,
    b: &Snapshot,
    rules: Rules,
) -> Option<Divergence> {
    for ((name, x), (_, y)) in a.globals.iter().zip(&b.globals) {
        if !same_val(x, y, rules) {
            return Some(Divergence::new(
                DivergenceKind::Global,
                format!("global:{name}"),
                format!(
                    "global {name:?} is {x} on {} and {y} on {}{}",
                    names.0,
                    names.1,
                    lanes(x, y)
                ),
            ));
        }
    }
    for ((name, x), (_, y)) in a.tables.iter().zip(&b.tables) {
        if x.len() != y.len() {
            return Some(size_differs(
                DivergenceKind::Table,
                ("table", "elements"),
                name,
                names,
                (x.len(), y.len()),
            ));
        }
        if let Some(i) = x.iter().zip(y).position(|(p, q)| !same_val(p, q, rules)) {
            return Some(Divergence::new(
                DivergenceKind::Table,
                format!("table:{name}"),
                format!(
                    "table {name:?} element {i} is {} on {} and {} on {}",
                    x[i], names.0, y[i], names.1
                ),
            ));
        }
    }
    None
}

/// Compare two engines' snapshots, either of which may be unavailable.
pub fn compare_states(
    names: (&str, &str),
    a: &SnapshotResult,
    b: &SnapshotResult,
    rules: Rules,
) -> StateComparison {
    let mut copied = |name: &str, x: &[u8], y: &[u8]| Ok(compare_memory(names, name, x, y));
    compare_states_with(names, a, b, rules, &mut copied)
}

/// [`compare_states`] with each memory compared by `memory` ([`compare_snapshots_with`]); a
/// memory that could not be read makes the state unavailable.
pub fn compare_states_with(
    names: (&str, &str),
    a: &SnapshotResult,
    b: &SnapshotResult,
    rules: Rules,
    memory: CompareMemory<'_, String>,
) -> StateComparison {
    match (a, b) {
        (Ok(x), Ok(y)) => match compare_snapshots_with(names, x, y, rules, memory) {
            Ok(None) => StateComparison::Same,
            Ok(Some(d)) => StateComparison::Diverged(d),
            Err(e) => StateComparison::Unavailable(e),
        },
        (Err(e), _) => StateComparison::Unavailable(format!("no snapshot from {}: {e}", names.0)),
        (_, Err(e)) => StateComparison::Unavailable(format!("no snapshot from {}: {e}", names.1)),
    }
}

#[cfg(test)]
mod tests;

/// How many references deep [`compare_deep`] follows structs and arrays.
pub const MAX_DEPTH: usize = 8;
/// The most pairs of objects [`compare_deep`] reads in one comparison.
pub const MAX_OBJECTS: usize = 256;

/// One engine's heap, as [`compare_deep`] reads it: a session's [`crate::engine::Session::object`].
pub type ReadObject<'a> = &'a mut dyn FnMut(HeapRefId) -> Result<HeapObject, String>;

/// The struct or array a value refers to, if any: `(is_array, id)`.
fn heap_ref(v: &Val) -> Option<(bool, HeapRefId)> {
    match *v {
        Val::AnyRef(Some(r)) | Val::Externalized(r) => match r {
            AnyRef::Struct(id) => Some((false, id)),
            AnyRef::Array(id) => Some((true, id)),
            AnyRef::I31(_) | AnyRef::Host(_) => None,
        },
        _ => None,
    }
}

/// Does any of `vals` refer to a struct or an array? (Whether [`compare_deep`] has work.)
pub fn has_heap_refs<'a>(vals: impl IntoIterator<Item = &'a Val>) -> bool {
    vals.into_iter().any(|v| heap_ref(v).is_some())
}

/// Rule 10: compare the structs and arrays reachable from `a` and `b`, two lists of values that
/// already agree by rule 6 (results of one call, or one global, or one table), field by field.
/// `what` names the list for messages and signatures (`result`, `global:g`, `table:t`); `kind`
/// is the divergence kind to report. `heaps` read each engine's objects.
pub fn compare_deep(
    names: (&str, &str),
    (what, kind): (&str, DivergenceKind),
    a: &[Val],
    b: &[Val],
    heaps: (ReadObject<'_>, ReadObject<'_>),
    rules: Rules,
) -> StateComparison {
    let (read_a, read_b) = heaps;
    // (path, a, b, depth): a path is the list index, then field indices.
    let mut todo: Vec<(String, Val, Val, usize)> = a
        .iter()
        .zip(b)
        .enumerate()
        .rev()
        .map(|(i, (x, y))| (i.to_string(), *x, *y, 0))
        .collect();
    let mut seen = std::collections::HashSet::new();
    while let Some((path, x, y, depth)) = todo.pop() {
        let (Some((_, ia)), Some((_, ib))) = (heap_ref(&x), heap_ref(&y)) else {
            continue;
        };
        if depth >= MAX_DEPTH || seen.len() >= MAX_OBJECTS || !seen.insert((ia, ib)) {
            continue;
        }
        let (oa, ob) = match (read_a(ia), read_b(ib)) {
            (Ok(p), Ok(q)) => (p, q),
            (Err(e), _) => {
                return StateComparison::Unavailable(format!(
                    "no heap object from {}: {e}",
                    names.0
                ));
            }
            (_, Err(e)) => {
                return StateComparison::Unavailable(format!(
                    "no heap object from {}: {e}",
                    names.1
                ));
            }
        };
        let noun = if oa.is_array { "array" } else { "struct" };
        if oa.is_array != ob.is_array || oa.len != ob.len {
            return StateComparison::Diverged(Divergence::new(
                kind,
                format!("{what}:heap-len:{path}"),
                format!(
                    "{what} {path}: a {noun} of {} fields on {} and a {} of {} on {}",
                    oa.len,
                    names.0,
                    if ob.is_array { "array" } else { "struct" },
                    ob.len,
                    names.1
                ),
            ));
        }
        for (i, (p, q)) in oa.fields.iter().zip(&ob.fields).enumerate() {
            let field = format!("{path}.{i}");
            if !same_val(p, q, rules) {
                return StateComparison::Diverged(Divergence::new(
                    kind,
                    format!("{what}:heap:{field}"),
                    format!(
                        "{what} {path} ({noun}) field {i} is {p} on {} and {q} on {}{}",
                        names.0,
                        names.1,
                        lanes(p, q)
                    ),
                ));
            }
        }
        for (i, (p, q)) in oa.fields.iter().zip(&ob.fields).enumerate().rev() {
            if heap_ref(p).is_some() {
                todo.push((format!("{path}.{i}"), *p, *q, depth + 1));
            }
        }
    }
    StateComparison::Same
}
