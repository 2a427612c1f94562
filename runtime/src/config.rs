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
    /// The features accepted by validation. Features beyond Wasm 2.0 are
    /// rejected at compile time with [`crate::Error::Compile`] if a module uses them.
    pub fn wasm_features(&mut self, features: WasmFeatures) -> &mut Self {
        self.features = features;
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

/// Wasm 2.0, fixed-width SIMD included.
pub fn default_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::FLOATS
        | WasmFeatures::SIMD
}
