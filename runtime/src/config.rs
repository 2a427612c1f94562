//! Engine configuration.

pub use wasmparser::WasmFeatures;

/// Cranelift optimization level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    None,
    Speed,
    SpeedAndSize,
}

/// How linear-memory accesses are bounds-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundsChecks {
    /// Rely on a 4 GiB reservation plus guard pages (falls back to explicit checks when the
    /// reservation is too small or a static offset reaches past the guard).
    GuardPages,
    /// Compare every access against the current length.
    Explicit,
}

/// Configuration for an [`crate::Engine`].
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) opt_level: OptLevel,
    pub(crate) features: WasmFeatures,
    pub(crate) max_wasm_stack: usize,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_guard_size: u64,
    pub(crate) bounds_checks: BoundsChecks,
    pub(crate) verifier: bool,
    pub(crate) relaxed_simd_deterministic: bool,
    pub(crate) gc_heap_limit: usize,
    pub(crate) canonicalize_nans: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    pub fn new() -> Config {
        Config {
            opt_level: OptLevel::Speed,
            features: default_features(),
            max_wasm_stack: 512 * 1024,
            memory_reservation: 4 << 30,
            memory_guard_size: 2 << 30,
            bounds_checks: BoundsChecks::GuardPages,
            relaxed_simd_deterministic: false,
            gc_heap_limit: 256 << 20,
            canonicalize_nans: false,
            // On in debug builds, or when LOCKSTEP_CRANELIFT_VERIFIER=1.
            verifier: cfg!(debug_assertions)
                || std::env::var_os("LOCKSTEP_CRANELIFT_VERIFIER").is_some_and(|v| v == "1"),
        }
    }
    /// Run Cranelift's IR verifier on every function (slower compilation).
    pub fn cranelift_verifier(&mut self, on: bool) -> &mut Self {
        self.verifier = on;
        self
    }
    pub fn opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.opt_level = level;
        self
    }
    /// The features accepted by validation: a module using a feature outside the set fails
    /// [`crate::Module::new`] with [`crate::Error::Invalid`]. The runtime executes Wasm 2.0
    /// and the features [`Config::wasm_tail_call`] to [`Config::wasm_legacy_exceptions`] switch
    /// (and [`Config::wasm_function_references`] and [`Config::wasm_gc`]);
    /// a module that uses any other feature enabled here (GC, exceptions, threads, ...) fails
    /// with [`crate::Error::Compile`] naming it.
    pub fn wasm_features(&mut self, features: WasmFeatures) -> &mut Self {
        self.features = features;
        self
    }

    fn feature(&mut self, feature: WasmFeatures, on: bool) -> &mut Self {
        self.features.set(feature, on);
        self
    }
    /// `return_call` and `return_call_indirect` (off by default).
    pub fn wasm_tail_call(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::TAIL_CALL, on)
    }
    /// Arithmetic in constant expressions (off by default).
    pub fn wasm_extended_const(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::EXTENDED_CONST, on)
    }
    /// More than one memory per module (off by default).
    pub fn wasm_multi_memory(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::MULTI_MEMORY, on)
    }
    /// 64-bit memories and tables (off by default). A memory64 memory can grow up to
    /// [`Config::memory_reservation`] bytes.
    pub fn wasm_memory64(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::MEMORY64, on)
    }
    /// Typed function references (off by default): `(ref $t)` types, `call_ref`,
    /// `return_call_ref` (with tail calls), `ref.as_non_null`, `br_on_null`,
    /// `br_on_non_null`, non-null locals and tables with initialisers.
    pub fn wasm_function_references(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::FUNCTION_REFERENCES, on)
    }
    /// Relaxed SIMD (off by default; needs SIMD).
    pub fn wasm_relaxed_simd(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::RELAXED_SIMD, on)
    }
    /// Exception handling: tags, `throw`, `throw_ref`, `try_table` and `exnref` (off by
    /// default).
    pub fn wasm_exceptions(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::EXCEPTIONS, on)
    }
    /// The legacy exception instructions `try`, `catch`, `catch_all`, `delegate` and
    /// `rethrow` (off by default; needs [`Config::wasm_exceptions`]).
    pub fn wasm_legacy_exceptions(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::LEGACY_EXCEPTIONS, on)
    }
    /// Wasm GC (off by default): structs, arrays, `i31ref`, casts, recursive types and
    /// declared subtyping (needs [`Config::wasm_function_references`]).
    pub fn wasm_gc(&mut self, on: bool) -> &mut Self {
        self.feature(WasmFeatures::GC, on)
    }
    /// The most bytes a store's GC heap may hold (default 256 MiB). An allocation that would
    /// pass it after a collection traps ("out of GC heap").
    pub fn gc_heap_limit(&mut self, bytes: usize) -> &mut Self {
        self.gc_heap_limit = bytes;
        self
    }
    /// Lower relaxed SIMD to its deterministic choice on every host instead of the host's
    /// fastest permitted result (see `translate/simd/relaxed.rs`).
    pub fn relaxed_simd_deterministic(&mut self, on: bool) -> &mut Self {
        self.relaxed_simd_deterministic = on;
        self
    }
    /// Make every NaN a float arithmetic instruction produces the canonical NaN (positive, only
    /// the quiet bit set), scalar and vector, with Cranelift's `enable_nan_canonicalization`
    /// (as Wasmtime's `cranelift_nan_canonicalization`), so NaN bits are deterministic. Sign
    /// operations, `pmin`/`pmax` and the relaxed `min`/`max` of the native lowering keep their
    /// operand's bits. Off by default (it costs a compare and select per float instruction).
    pub fn canonicalize_nans(&mut self, on: bool) -> &mut Self {
        self.canonicalize_nans = on;
        self
    }
    /// Maximum bytes of native stack wasm may use below the outermost host entry.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes.max(16 * 1024);
        self
    }
    /// Virtual bytes reserved per linear memory (4 GiB enables guard-page bounds checks).
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation = bytes;
        self
    }
    /// Guard bytes after the reservation.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        self.memory_guard_size = bytes;
        self
    }
    pub fn bounds_checks(&mut self, mode: BoundsChecks) -> &mut Self {
        self.bounds_checks = mode;
        self
    }

    /// Whether plain accesses can rely on guard pages.
    pub(crate) fn guard_pages_active(&self) -> bool {
        self.bounds_checks == BoundsChecks::GuardPages && self.memory_reservation >= (4 << 30)
    }
}

/// Wasm 2.0, fixed-width SIMD included. `GC_TYPES` is wasmparser's gate for `externref` (and,
/// with GC, the GC heap types), so 2.0's `externref` needs it too.
pub fn default_features() -> WasmFeatures {
    WasmFeatures::GC_TYPES
        | WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::FLOATS
        | WasmFeatures::SIMD
}
