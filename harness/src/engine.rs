//! The engine-neutral interface every WebAssembly engine implements to take part in a run.
//!
//! It is deliberately narrow: compile bytes, instantiate, register an instance under a name,
//! invoke an export, read an exported global, and take a snapshot of exported state. An adapter
//! for wasmtime or wasmi fits behind it as easily as lockstep's own engines.
//!
//! A [`Session`] is one isolated store. The harness opens a fresh session for every script file.
//! The session resolves imports by `(module, name)` itself: from instances registered with
//! [`Session::register`] and from the `spectest` host module, whose contents are defined once in
//! [`crate::wast::spectest`]. An import it cannot resolve is a link error whose message contains
//! `"unknown import"`.

use std::fmt;

pub use wasmparser::WasmFeatures;

/// A WebAssembly engine that lockstep can drive.
pub trait Engine: Sync {
    /// Short, stable name used on the command line, in reports and in expected-failure entries.
    fn name(&self) -> &'static str;

    /// The features this engine can *execute*. A suite is run by default on an engine only when
    /// the suite's required features are all in this set (see [`crate::suite::Suite::required`]).
    fn supported_features(&self) -> WasmFeatures;

    /// Open a fresh, isolated store that validates modules with `features`.
    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session>;

    /// Whether every NaN a float arithmetic instruction produces is the canonical NaN (the run's
    /// [`crate::engines::Parity::canonicalize_nans`]). When every engine of a comparison does,
    /// NaN bits are compared exactly ([`crate::diff::Rules::for_engines`]).
    fn canonicalizes_nans(&self) -> bool {
        false
    }

    /// Whether this engine's sessions can be told which relaxed SIMD result to give
    /// ([`Session::set_relaxed_choice`]), so that a campaign with it as the reference can check
    /// another engine's relaxed results against every permitted one.
    fn enumerates_relaxed_simd(&self) -> bool {
        false
    }
}

/// One isolated store of an engine. Not shared between threads.
pub trait Session {
    /// Decode and validate a binary module.
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError>;

    /// Instantiate a compiled module, resolving its imports by `(module, name)` from registered
    /// instances and the `spectest` host module.
    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError>;

    /// Make `instance`'s exports importable under the module name `name`.
    fn register(&mut self, name: &str, instance: InstanceId);

    /// Call the exported function `export` of `instance`.
    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, InvokeError>;

    /// Read the exported global `export` of `instance`.
    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String>;

    /// The instance's exported state: memories, globals and tables (for differential comparison).
    fn snapshot(&mut self, instance: InstanceId) -> Result<Snapshot, String> {
        let _ = instance;
        Err("this engine does not take snapshots".to_string())
    }

    /// The fields of a struct or the elements of an array this session returned (by
    /// [`AnyRef::Struct`] or [`AnyRef::Array`] id), for comparing heap objects across engines
    /// field by field ([`crate::diff::compare_deep`]).
    fn object(&mut self, id: HeapRefId) -> Result<HeapObject, String> {
        let _ = id;
        Err("this engine does not read heap objects".to_string())
    }

    /// How many relaxed SIMD choices this session can run ([`Session::set_relaxed_choice`]): 0
    /// for an engine that cannot be told which one (it has its own, fixed per environment).
    fn relaxed_choices(&self) -> usize {
        0
    }

    /// Run every relaxed SIMD instruction from now on with alternative `choice` (in
    /// `0..relaxed_choices()`); choice 0 is the engine's default.
    fn set_relaxed_choice(&mut self, choice: usize) {
        let _ = choice;
    }

    /// The instance's exported state into `into`, reusing its buffers: a campaign snapshots
    /// after every call, and a fresh copy of a large memory each time costs an allocation and
    /// its page faults. Without `copy_memories` an engine that lends its memories may leave
    /// their contents out and return `Ok(true)`: each memory is listed by name with an empty
    /// buffer, and its bytes are read in place with [`Session::memory_in_place`] while nothing
    /// runs on the session (copying every memory first was most of a campaign's memmove).
    /// `Ok(false)`: a full snapshot. The default takes one with [`Session::snapshot`].
    fn snapshot_exports(
        &mut self,
        instance: InstanceId,
        into: &mut Snapshot,
        copy_memories: bool,
    ) -> Result<bool, String> {
        let _ = copy_memories;
        *into = self.snapshot(instance)?;
        Ok(false)
    }

    /// A full [`Session::snapshot`] into `into`, reusing its buffers.
    fn snapshot_into(&mut self, instance: InstanceId, into: &mut Snapshot) -> Result<(), String> {
        self.snapshot_exports(instance, into, true).map(|_| ())
    }

    /// The live bytes of the exported memory `export` of `instance` (None: no such memory, or
    /// this engine does not lend memories).
    fn memory_in_place(&mut self, instance: InstanceId, export: &str) -> Option<&[u8]> {
        let _ = (instance, export);
        None
    }
}

/// A compiled module inside a [`Session`]. Only meaningful to the session that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u32);

/// An instance inside a [`Session`]. Only meaningful to the session that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub u32);

/// An engine-specific, opaque identity of a function reference. Two engines' ids for "the same"
/// function need not be equal; only null versus non-null is comparable across engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuncRefId(pub u64);

/// An engine-specific, opaque identity of a heap object (a struct or an array). Like
/// [`FuncRefId`], it means something only to the session that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeapRefId(pub u64);

/// An engine-specific, opaque identity of an exception (an `exnref`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExnRefId(pub u64);

/// A non-null reference of the `any` hierarchy (`anyref`, `eqref`, `i31ref`, `structref`,
/// `arrayref` and the concrete struct and array types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyRef {
    /// An `i31ref`: the 31-bit payload, zero-extended (bit 31 is always 0, so `ref.i31` of -1 is
    /// `I31(0x7fff_ffff)`). The payload is a value, comparable across engines.
    I31(u32),
    /// A struct, by identity.
    Struct(HeapRefId),
    /// An array, by identity.
    Array(HeapRefId),
    /// A host value inside the `any` hierarchy: the script's `ref.host n`, or what
    /// `any.convert_extern` makes of `ref.extern n`. Comparable across engines by `n`.
    Host(u32),
}

/// A struct's fields or an array's elements, read through [`Session::object`]. Packed `i8` and
/// `i16` fields are `I32`, zero-extended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeapObject {
    pub is_array: bool,
    /// The number of fields (elements).
    pub len: usize,
    /// The first [`HeapObject::MAX_READ`] of them at most: an array may hold millions.
    pub fields: Vec<Val>,
}

impl HeapObject {
    /// The most fields (elements) read of one object.
    pub const MAX_READ: usize = 4096;
}

/// A WebAssembly value as the harness sees it. Floats are raw bits so NaN payloads survive.
///
/// # References
///
/// Each reference hierarchy has its own variant, and `None` is its null: `FuncRef(None)` is the
/// null of `func`/`nofunc`, `ExternRef(None)` of `extern`/`noextern`, `AnyRef(None)` of
/// `any`/`eq`/`i31`/`struct`/`array`/`none` (and of every concrete GC type), `ExnRef(None)` of
/// `exn`/`noexn`. A null of a concrete function type is `FuncRef(None)`. The harness never needs
/// the static type of a null: the scripts' `ref.null T` patterns name a hierarchy.
///
/// Externref values come in two shapes, one per origin. `ExternRef(Some(n))` is the host
/// reference `ref.extern n`, and also the externalized form of `AnyRef::Host(n)` (the spec's
/// `extern.convert_any` of `ref.host n` is `ref.extern n`). [`Val::Externalized`] is an
/// externref wrapping an internal reference: `extern.convert_any` of an i31, a struct or an
/// array. Adapters build both through [`Val::externalize`] and take them apart with
/// [`Val::internalize`], so a `Host` never ends up inside `Externalized`.
///
/// # Comparing across engines
///
/// Identity does not cross engines: a struct, an array, a function or an exception is known by an
/// id that only its own session understands. Two engines' references agree when they have the
/// same *shape* ([`Val::shape`]): the same variant, the same nullness, and for `I31` the same
/// payload, for `Host` and `ExternRef` the same host number; ids are ignored. Arguments the
/// harness passes in are always free of engine ids (`ref.null`, `ref.extern n`, `ref.host n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Val {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// `None` is `ref.null func`.
    FuncRef(Option<FuncRefId>),
    /// `None` is `ref.null extern`; `Some(n)` is the host reference `ref.extern n`.
    ExternRef(Option<u32>),
    /// `None` is `ref.null any` (the null of the whole `any` hierarchy).
    AnyRef(Option<AnyRef>),
    /// A non-null externref wrapping an internal reference (`extern.convert_any` of an i31, a
    /// struct or an array). Never holds [`AnyRef::Host`]: that is `ExternRef(Some(n))`.
    Externalized(AnyRef),
    /// `None` is `ref.null exn`; `Some` is a caught exception.
    ExnRef(Option<ExnRefId>),
}

impl Val {
    /// `extern.convert_any`: the externref for an any-hierarchy reference (null stays null).
    pub fn externalize(any: Option<AnyRef>) -> Val {
        match any {
            None => Val::ExternRef(None),
            Some(AnyRef::Host(n)) => Val::ExternRef(Some(n)),
            Some(r) => Val::Externalized(r),
        }
    }

    /// `any.convert_extern`: the any-hierarchy reference inside an externref (null stays null),
    /// or `None` when `self` is not an externref.
    pub fn internalize(self) -> Option<Option<AnyRef>> {
        match self {
            Val::ExternRef(None) => Some(None),
            Val::ExternRef(Some(n)) => Some(Some(AnyRef::Host(n))),
            Val::Externalized(r) => Some(Some(r)),
            _ => None,
        }
    }

    /// Is this a reference (of any hierarchy)?
    pub fn is_ref(&self) -> bool {
        !matches!(
            self,
            Val::I32(_) | Val::I64(_) | Val::F32(_) | Val::F64(_) | Val::V128(_)
        )
    }

    /// The value with every engine-specific identity erased (ids set to 0): what is comparable
    /// across engines. Numbers are returned unchanged.
    pub fn shape(self) -> Val {
        let any = |r: AnyRef| match r {
            AnyRef::Struct(_) => AnyRef::Struct(HeapRefId(0)),
            AnyRef::Array(_) => AnyRef::Array(HeapRefId(0)),
            r => r,
        };
        match self {
            Val::FuncRef(f) => Val::FuncRef(f.map(|_| FuncRefId(0))),
            Val::AnyRef(r) => Val::AnyRef(r.map(any)),
            Val::Externalized(r) => Val::Externalized(any(r)),
            Val::ExnRef(e) => Val::ExnRef(e.map(|_| ExnRefId(0))),
            v => v,
        }
    }
}

impl fmt::Display for AnyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AnyRef::I31(v) => write!(f, "ref.i31 {v}"),
            AnyRef::Struct(id) => write!(f, "ref.struct#{}", id.0),
            AnyRef::Array(id) => write!(f, "ref.array#{}", id.0),
            AnyRef::Host(n) => write!(f, "ref.host {n}"),
        }
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Val::I32(v) => write!(f, "i32:{}", v as i32),
            Val::I64(v) => write!(f, "i64:{}", v as i64),
            Val::F32(b) => {
                let x = f32::from_bits(b);
                if x.is_nan() {
                    write!(f, "f32:nan(0x{b:08x})")
                } else {
                    write!(f, "f32:{x:?}(0x{b:08x})")
                }
            }
            Val::F64(b) => {
                let x = f64::from_bits(b);
                if x.is_nan() {
                    write!(f, "f64:nan(0x{b:016x})")
                } else {
                    write!(f, "f64:{x:?}(0x{b:016x})")
                }
            }
            Val::V128(v) => write!(f, "v128:0x{v:032x}"),
            Val::FuncRef(None) => f.write_str("ref.null func"),
            Val::FuncRef(Some(id)) => write!(f, "ref.func#{}", id.0),
            Val::ExternRef(None) => f.write_str("ref.null extern"),
            Val::ExternRef(Some(n)) => write!(f, "ref.extern {n}"),
            Val::AnyRef(None) => f.write_str("ref.null any"),
            Val::AnyRef(Some(r)) => write!(f, "{r}"),
            Val::Externalized(r) => write!(f, "ref.extern({r})"),
            Val::ExnRef(None) => f.write_str("ref.null exn"),
            Val::ExnRef(Some(id)) => write!(f, "ref.exn#{}", id.0),
        }
    }
}

/// Values (or patterns) printed one after another, separated by spaces: how messages show a
/// result list.
pub fn space_separated<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why [`Session::compile`] rejected a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The bytes do not decode (the spec's "malformed").
    Malformed(String),
    /// The module decodes but does not validate (the spec's "invalid").
    Invalid(String),
}

impl CompileError {
    pub fn message(&self) -> &str {
        match self {
            CompileError::Malformed(m) | CompileError::Invalid(m) => m,
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Malformed(m) => write!(f, "malformed: {m}"),
            CompileError::Invalid(m) => write!(f, "invalid: {m}"),
        }
    }
}

/// Why [`Session::instantiate`] failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstantiateError {
    /// An import is missing ("unknown import") or has the wrong type ("incompatible import type").
    Link(String),
    /// Initialisation or the start function trapped. Effects applied before the trap persist.
    Trap(Trap),
    /// Anything else (an engine limitation, a harness misuse).
    Other(String),
}

impl fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiateError::Link(m) => write!(f, "link error: {m}"),
            InstantiateError::Trap(t) => write!(f, "trap: {t}"),
            InstantiateError::Other(m) => write!(f, "error: {m}"),
        }
    }
}

/// Why [`Session::invoke`] did not return values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeError {
    /// Execution trapped.
    Trap(Trap),
    /// An exception was thrown and nothing caught it (what `assert_exception` expects).
    /// `payload` is the exception's argument values; the tag's identity is engine-specific.
    Exception { payload: Vec<Val> },
    /// The call could not be made: no such export, not a function, wrong argument types...
    Other(String),
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeError::Trap(t) => write!(f, "trap: {t}"),
            InvokeError::Exception { payload } => {
                write!(f, "uncaught exception [{}]", space_separated(payload))
            }
            InvokeError::Other(m) => write!(f, "error: {m}"),
        }
    }
}

/// A trap: a classified code plus the engine's own message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    pub code: TrapCode,
    pub message: String,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The kinds of trap the specification distinguishes, plus `Host` and `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversionToInteger,
    OutOfBoundsMemoryAccess,
    OutOfBoundsTableAccess,
    UndefinedElement,
    UninitializedElement,
    IndirectCallTypeMismatch,
    CallStackExhausted,
    NullReference,
    /// `ref.cast` (or a `br_on_cast` family cast that must succeed) of a reference of another
    /// type.
    CastFailure,
    /// An `array.*` instruction's index or range outside the array.
    OutOfBoundsArrayAccess,
    /// An allocation past the engine's own limit on its heap of structs, arrays and exceptions:
    /// like call-stack exhaustion, engines legitimately reach it at different points.
    ResourceExhausted,
    /// An out-of-bounds table index, from an engine that does not say whether it was
    /// `call_indirect`'s "undefined element" or a table instruction's "out of bounds table
    /// access" (wasmi). It agrees with either ([`TrapCode::agrees_with`]).
    TableOutOfBounds,
    /// A host function failed.
    Host,
    /// Anything the engine could not classify.
    Other,
}

impl TrapCode {
    /// The specification's message text for this trap kind, as quoted by `.wast` scripts.
    pub fn spec_message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::IntegerDivideByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::InvalidConversionToInteger => "invalid conversion to integer",
            TrapCode::OutOfBoundsMemoryAccess => "out of bounds memory access",
            TrapCode::OutOfBoundsTableAccess => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::CallStackExhausted => "call stack exhausted",
            TrapCode::NullReference => "null",
            TrapCode::CastFailure => "cast failure",
            TrapCode::OutOfBoundsArrayAccess => "out of bounds array access",
            TrapCode::ResourceExhausted => "allocation limit exceeded",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::Host => "host",
            TrapCode::Other => "",
        }
    }

    /// Whether this is the engine running out of call stack or heap: a limit of the engine, not
    /// a behaviour of the module, so outcomes that involve it are inconclusive (rule 5 of
    /// `diff`; also the `instantiate` fuzz target).
    pub fn is_exhaustion(self) -> bool {
        matches!(
            self,
            TrapCode::CallStackExhausted | TrapCode::ResourceExhausted
        )
    }

    /// Whether two engines reporting `self` and `other` trapped the same way: equal codes, or
    /// [`TrapCode::TableOutOfBounds`] beside either of the two codes it stands for.
    pub fn agrees_with(self, other: TrapCode) -> bool {
        use TrapCode::{OutOfBoundsTableAccess, TableOutOfBounds, UndefinedElement};
        self == other
            || matches!(
                (self, other),
                (TableOutOfBounds, UndefinedElement | OutOfBoundsTableAccess)
                    | (UndefinedElement | OutOfBoundsTableAccess, TableOutOfBounds)
            )
    }

    /// Classify a spec-style trap message (the inverse of [`TrapCode::spec_message`]).
    pub fn from_message(message: &str) -> TrapCode {
        const ORDER: [TrapCode; 13] = [
            TrapCode::IntegerDivideByZero,
            TrapCode::IntegerOverflow,
            TrapCode::InvalidConversionToInteger,
            TrapCode::OutOfBoundsMemoryAccess,
            TrapCode::OutOfBoundsTableAccess,
            TrapCode::UndefinedElement,
            TrapCode::UninitializedElement,
            TrapCode::IndirectCallTypeMismatch,
            TrapCode::CallStackExhausted,
            TrapCode::OutOfBoundsArrayAccess,
            TrapCode::CastFailure,
            TrapCode::Unreachable,
            TrapCode::NullReference,
        ];
        ORDER
            .into_iter()
            .find(|c| message.contains(c.spec_message()))
            .unwrap_or(TrapCode::Other)
    }
}

/// A copy of an instance's exported state, in export order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub memories: Vec<(String, Vec<u8>)>,
    pub globals: Vec<(String, Val)>,
    pub tables: Vec<(String, Vec<Val>)>,
}

impl Snapshot {
    /// Empty the snapshot for refilling ([`Session::snapshot_into`]); its memory buffers are kept
    /// for [`SpareBuffers::copy`].
    pub fn reset(&mut self) -> SpareBuffers {
        self.globals.clear();
        self.tables.clear();
        SpareBuffers(std::mem::take(&mut self.memories).into_iter())
    }
}

/// The memory buffers of a [`Snapshot`] being refilled, in their old order.
pub struct SpareBuffers(std::vec::IntoIter<(String, Vec<u8>)>);

impl SpareBuffers {
    /// `data` in the next spare buffer (a new one when none is left).
    pub fn copy(&mut self, data: &[u8]) -> Vec<u8> {
        let mut buf = self.0.next().map(|(_, b)| b).unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(data);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refilled snapshot holds exactly the new state, whatever the old one held.
    #[test]
    fn a_reset_snapshot_refills_with_exactly_the_new_state() {
        let mut snap = Snapshot {
            memories: vec![("m".to_string(), vec![7; 100])],
            globals: vec![("g".to_string(), Val::I32(1))],
            tables: vec![("t".to_string(), vec![Val::FuncRef(None)])],
        };
        let mut spare = snap.reset();
        snap.memories
            .push(("a".to_string(), spare.copy(&[1, 2, 3])));
        snap.memories.push(("b".to_string(), spare.copy(&[4])));
        assert_eq!(
            snap,
            Snapshot {
                memories: vec![("a".to_string(), vec![1, 2, 3]), ("b".to_string(), vec![4])],
                ..Snapshot::default()
            }
        );
    }

    #[test]
    fn externalizing_a_host_value_gives_its_externref_and_back() {
        for any in [
            None,
            Some(AnyRef::Host(3)),
            Some(AnyRef::I31(0x7fff_ffff)),
            Some(AnyRef::Struct(HeapRefId(9))),
            Some(AnyRef::Array(HeapRefId(1))),
        ] {
            assert_eq!(Val::externalize(any).internalize(), Some(any), "{any:?}");
        }
        assert_eq!(
            Val::externalize(Some(AnyRef::Host(3))),
            Val::ExternRef(Some(3))
        );
        assert_eq!(Val::externalize(None), Val::ExternRef(None));
        assert_eq!(Val::I32(0).internalize(), None);
        assert_eq!(Val::AnyRef(None).internalize(), None);
    }

    #[test]
    fn shapes_erase_identities_only() {
        let s = |v: Val| v.shape();
        assert_eq!(
            s(Val::AnyRef(Some(AnyRef::Struct(HeapRefId(1))))),
            s(Val::AnyRef(Some(AnyRef::Struct(HeapRefId(2)))))
        );
        assert_ne!(
            s(Val::AnyRef(Some(AnyRef::Struct(HeapRefId(1))))),
            s(Val::AnyRef(Some(AnyRef::Array(HeapRefId(1)))))
        );
        assert_ne!(
            s(Val::AnyRef(Some(AnyRef::I31(1)))),
            s(Val::AnyRef(Some(AnyRef::I31(2))))
        );
        assert_ne!(
            s(Val::AnyRef(Some(AnyRef::Host(1)))),
            s(Val::AnyRef(Some(AnyRef::Host(2))))
        );
        assert_eq!(
            s(Val::ExnRef(Some(ExnRefId(4)))),
            s(Val::ExnRef(Some(ExnRefId(5))))
        );
        assert_ne!(s(Val::ExnRef(Some(ExnRefId(4)))), s(Val::ExnRef(None)));
        assert_eq!(
            s(Val::FuncRef(Some(FuncRefId(4)))),
            s(Val::FuncRef(Some(FuncRefId(7))))
        );
        assert_ne!(s(Val::AnyRef(None)), s(Val::ExternRef(None)));
        assert_eq!(s(Val::I64(5)), Val::I64(5));
        assert!(Val::ExnRef(None).is_ref() && !Val::V128(0).is_ref());
    }

    #[test]
    fn trap_codes_round_trip_through_messages() {
        for code in [
            TrapCode::Unreachable,
            TrapCode::IntegerDivideByZero,
            TrapCode::IntegerOverflow,
            TrapCode::InvalidConversionToInteger,
            TrapCode::OutOfBoundsMemoryAccess,
            TrapCode::OutOfBoundsTableAccess,
            TrapCode::UndefinedElement,
            TrapCode::UninitializedElement,
            TrapCode::IndirectCallTypeMismatch,
            TrapCode::CallStackExhausted,
            TrapCode::CastFailure,
            TrapCode::OutOfBoundsArrayAccess,
        ] {
            assert_eq!(TrapCode::from_message(code.spec_message()), code);
        }
        assert_eq!(
            TrapCode::from_message("uninitialized element 7"),
            TrapCode::UninitializedElement
        );
        assert_eq!(TrapCode::from_message("something else"), TrapCode::Other);
    }

    #[test]
    fn an_unspecific_table_trap_agrees_with_both_table_traps_only() {
        use TrapCode::*;
        for c in [UndefinedElement, OutOfBoundsTableAccess, TableOutOfBounds] {
            assert!(TableOutOfBounds.agrees_with(c) && c.agrees_with(TableOutOfBounds));
        }
        assert!(!UndefinedElement.agrees_with(OutOfBoundsTableAccess));
        assert!(!TableOutOfBounds.agrees_with(UninitializedElement));
        assert!(!OutOfBoundsMemoryAccess.agrees_with(TableOutOfBounds));
    }
}
