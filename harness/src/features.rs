//! Feature sets: what a module may use, given the engines that run it.
//!
//! - [`Features`]: the feature switches a differential campaign draws from, narrowed to what
//!   every engine executes;
//! - [`common`]: the [`WasmFeatures`] every engine of a run executes (the fuzz targets generate
//!   only these, and the proptest suites pick their engines with [`executing`]).

use crate::engine::{Engine, WasmFeatures};

/// The features every one of `engines` executes (empty for no engine).
pub fn common<E: AsRef<dyn Engine>>(engines: &[E]) -> WasmFeatures {
    engines
        .iter()
        .map(|e| e.as_ref().supported_features())
        .reduce(|a, b| a & b)
        .unwrap_or(WasmFeatures::empty())
}

/// Engines, owned.
pub type Engines = Vec<Box<dyn Engine>>;

/// Split `engines` into those that execute every feature of `needs` and the others.
pub fn executing(engines: Engines, needs: WasmFeatures) -> (Engines, Engines) {
    engines
        .into_iter()
        .partition(|e| e.supported_features().contains(needs))
}

/// Declares [`Features`] with one line per switch: field, name on the command line, and the
/// [`WasmFeatures`] an engine must execute for it.
macro_rules! switches {
    ($( $(#[$doc:meta])* $field:ident: $name:literal => $wasm:expr, )*) => {
        /// The features a campaign may switch on (each case draws a subset: swarm testing).
        ///
        /// A campaign asks for a set (by default all of them, [`Features::default`]) and runs
        /// with the part of it that *every* engine executes ([`Features::intersect`] with
        /// [`Features::supported_by`]): SIMD, for instance, is on only once every engine lists
        /// [`WasmFeatures::SIMD`] in its [`Engine::supported_features`], and each Wasm 3.0
        /// feature likewise.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Features {
            $( $(#[$doc])* pub $field: bool, )*
        }

        impl Features {
            /// The names of the switches, in field order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The [`WasmFeatures`] an engine must execute for each switch, in field order.
            const WASM: [WasmFeatures; COUNT] = [$($wasm),*];

            fn flags(self) -> [bool; COUNT] {
                [$(self.$field),*]
            }

            fn from_flags(f: [bool; COUNT]) -> Features {
                let [$($field),*] = f;
                Features { $($field),* }
            }
        }
    };
}

/// How many switches [`Features`] has.
const COUNT: usize = 14;

switches! {
    bulk_memory: "bulk-memory" => WasmFeatures::BULK_MEMORY,
    reference_types: "reference-types" => WasmFeatures::REFERENCE_TYPES,
    multi_value: "multi-value" => WasmFeatures::MULTI_VALUE,
    sign_extension: "sign-extension" => WasmFeatures::SIGN_EXTENSION,
    saturating_float_to_int: "saturating-float-to-int" => WasmFeatures::SATURATING_FLOAT_TO_INT,
    floats: "floats" => WasmFeatures::FLOATS,
    /// Fixed-width 128-bit SIMD (never relaxed SIMD).
    simd: "simd" => WasmFeatures::SIMD,
    tail_call: "tail-call" => WasmFeatures::TAIL_CALL,
    multi_memory: "multi-memory" => WasmFeatures::MULTI_MEMORY,
    memory64: "memory64" => WasmFeatures::MEMORY64,
    /// GC, with the typed function references it builds on.
    gc: "gc" => WasmFeatures::GC.union(WasmFeatures::FUNCTION_REFERENCES),
    exceptions: "exceptions" => WasmFeatures::EXCEPTIONS,
    extended_const: "extended-const" => WasmFeatures::EXTENDED_CONST,
    /// Relaxed SIMD: only with an oracle as the reference engine, whose permitted results the
    /// comparison replays (rule 11 of [`crate::diff`]; see [`Features::supported_by`]).
    relaxed_simd: "relaxed-simd" => WasmFeatures::SIMD.union(WasmFeatures::RELAXED_SIMD),
}

impl Default for Features {
    /// Everything the campaign knows. A campaign narrows it to what its engines execute.
    fn default() -> Self {
        Features::from_flags([true; COUNT])
    }
}

impl Features {
    /// No feature at all (the MVP without floats).
    pub fn none() -> Features {
        Features::from_flags([false; COUNT])
    }

    /// WebAssembly 2.0, SIMD included: what the campaign drew before it knew any 3.0 feature.
    pub fn v2_0() -> Features {
        Features {
            tail_call: false,
            multi_memory: false,
            memory64: false,
            gc: false,
            exceptions: false,
            extended_const: false,
            relaxed_simd: false,
            ..Features::default()
        }
    }

    /// Parse a comma-separated list of [`Features::NAMES`] (or `all`).
    pub fn parse(list: &str) -> Result<Features, String> {
        let mut flags = [false; COUNT];
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "all" {
                flags = [true; COUNT];
                continue;
            }
            let Some(i) = Features::NAMES.iter().position(|n| *n == name) else {
                return Err(format!(
                    "unknown feature `{name}`: expected {} or all",
                    Features::NAMES.join(", ")
                ));
            };
            flags[i] = true;
        }
        Ok(Features::from_flags(flags))
    }

    pub fn to_list(self) -> String {
        Features::NAMES
            .iter()
            .zip(self.flags())
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The features on in both sets.
    pub fn intersect(self, other: Features) -> Features {
        let (a, b) = (self.flags(), other.flags());
        Features::from_flags(std::array::from_fn(|i| a[i] && b[i]))
    }

    /// The features on in `self` and off in `other` (for messages: what a campaign drops).
    pub fn without(self, other: Features) -> Features {
        let (a, b) = (self.flags(), other.flags());
        Features::from_flags(std::array::from_fn(|i| a[i] && !b[i]))
    }

    /// The campaign features an engine that executes `supported` can run.
    pub fn executed(supported: WasmFeatures) -> Features {
        Features::from_flags(Features::WASM.map(|w| supported.contains(w)))
    }

    /// The campaign features every one of `engines` executes. Relaxed SIMD also needs the first
    /// engine (the reference) to enumerate its permitted results
    /// ([`Engine::enumerates_relaxed_simd`]): without that, a correct engine's result could not
    /// be told from a wrong one.
    pub fn supported_by(engines: &[&dyn Engine]) -> Features {
        let mut f = engines
            .iter()
            .map(|e| Features::executed(e.supported_features()))
            .fold(Features::default(), Features::intersect);
        f.relaxed_simd &= engines.first().is_some_and(|e| e.enumerates_relaxed_simd());
        f
    }

    /// The features a session validates the campaign's modules with: the 2.0 features the
    /// campaign always assumes, plus SIMD and each 3.0 feature that is on.
    pub fn session_features(self) -> WasmFeatures {
        self.flags()
            .into_iter()
            .zip(Features::WASM)
            .filter(|(on, _)| *on)
            .fold(crate::suite::required_2_0(), |f, (_, w)| f | w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Session;

    /// The campaign's features without SIMD: what it runs while an engine lacks SIMD.
    fn no_simd() -> Features {
        Features {
            simd: false,
            ..Features::v2_0()
        }
    }

    /// An engine that only declares features (never runs anything).
    struct Declares(&'static str, WasmFeatures);

    impl Engine for Declares {
        fn name(&self) -> &'static str {
            self.0
        }
        fn supported_features(&self) -> WasmFeatures {
            self.1
        }
        fn new_session(&self, _: WasmFeatures) -> Box<dyn Session> {
            unimplemented!("a feature declaration only")
        }
    }

    #[test]
    fn simd_is_on_only_when_every_engine_executes_it() {
        let with = Declares("with", crate::suite::required_2_0() | WasmFeatures::SIMD);
        let without = Declares("without", crate::suite::required_2_0());
        let relaxed = Declares(
            "relaxed",
            crate::suite::required_2_0() | WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD,
        );
        // With an engine that lacks SIMD, the default campaign runs without it, exactly as
        // before SIMD was a campaign feature.
        let f = Features::default().intersect(Features::supported_by(&[&with, &without]));
        assert_eq!(f, no_simd());
        assert_eq!(
            f.to_list(),
            "bulk-memory,reference-types,multi-value,sign-extension,saturating-float-to-int,floats"
        );
        assert_eq!(f.session_features(), crate::suite::required_2_0());
        assert_eq!(
            Features::v2_0().without(f),
            Features {
                simd: true,
                ..Features::none()
            }
        );
        // Once every engine executes SIMD it is on by default, and sessions validate it.
        let f = Features::default().intersect(Features::supported_by(&[&with, &relaxed]));
        assert_eq!(f, Features::v2_0());
        assert!(f.session_features().contains(WasmFeatures::SIMD));
        assert!(!f.session_features().contains(WasmFeatures::RELAXED_SIMD));
        // Asked-for features stay off when not asked for, whatever the engines do.
        let asked = Features::parse("floats,simd").unwrap();
        assert_eq!(
            asked.intersect(Features::supported_by(&[&with, &relaxed])),
            asked
        );
        assert!(
            !asked
                .intersect(Features::supported_by(&[&with, &without]))
                .simd
        );
        assert_eq!(Features::parse("all").unwrap(), Features::default());
        assert_eq!(
            Features::parse(&Features::default().to_list()).unwrap(),
            Features::default()
        );
        // Relaxed SIMD only with a reference that enumerates its permitted results.
        assert!(Features::parse("relaxed-simd").unwrap().relaxed_simd);
        assert!(!Features::supported_by(&[&relaxed, &relaxed]).relaxed_simd);
        // The engines built into this binary: SIMD is on exactly when all of them execute it.
        let built = crate::engines::all();
        let engines: Vec<&dyn Engine> = built.iter().map(|e| e.as_ref()).collect();
        assert_eq!(
            Features::supported_by(&engines).simd,
            engines
                .iter()
                .all(|e| e.supported_features().contains(WasmFeatures::SIMD))
        );
    }

    /// A 3.0 feature is on once every engine executes it, and sessions then validate it.
    #[test]
    fn wasm_3_features_follow_the_engines() {
        let v3 = crate::suite::required_2_0()
            | WasmFeatures::SIMD
            | WasmFeatures::TAIL_CALL
            | WasmFeatures::GC
            | WasmFeatures::FUNCTION_REFERENCES;
        let both = [&Declares("a", v3), &Declares("b", v3)];
        let refs: Vec<&dyn Engine> = both.iter().map(|e| *e as &dyn Engine).collect();
        let f = Features::default().intersect(Features::supported_by(&refs));
        assert!(f.tail_call && f.gc && !f.memory64 && !f.exceptions && !f.multi_memory);
        assert!(
            f.session_features()
                .contains(WasmFeatures::TAIL_CALL | WasmFeatures::GC)
        );
        // GC needs typed function references too.
        let gc_only = Declares("gc", crate::suite::required_2_0() | WasmFeatures::GC);
        assert!(!Features::supported_by(&[&gc_only]).gc);
        // The engines built into this binary.
        let all = crate::engines::all();
        let engines: Vec<&dyn Engine> = all.iter().map(|e| e.as_ref()).collect();
        let f = Features::supported_by(&engines);
        assert_eq!(
            f.tail_call,
            engines
                .iter()
                .all(|e| e.supported_features().contains(WasmFeatures::TAIL_CALL))
        );
    }
}
