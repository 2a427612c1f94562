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

/// Split `engines` into those that execute every feature of `needs` and the others.
pub fn executing(
    engines: Vec<Box<dyn Engine>>,
    needs: WasmFeatures,
) -> (Vec<Box<dyn Engine>>, Vec<Box<dyn Engine>>) {
    engines
        .into_iter()
        .partition(|e| e.supported_features().contains(needs))
}

/// The features a campaign may switch on (each case draws a subset: swarm testing).
///
/// A campaign asks for a set (by default all of them, [`Features::default`]) and runs with the
/// part of it that *every* engine executes ([`Features::intersect`] with
/// [`Features::supported_by`]): SIMD, for instance, is on only once every engine lists
/// [`WasmFeatures::SIMD`] in its [`Engine::supported_features`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    pub bulk_memory: bool,
    pub reference_types: bool,
    pub multi_value: bool,
    pub sign_extension: bool,
    pub saturating_float_to_int: bool,
    pub floats: bool,
    /// Fixed-width 128-bit SIMD (never relaxed SIMD).
    pub simd: bool,
}

impl Default for Features {
    /// Everything the campaign knows: WebAssembly 2.0, SIMD included. A campaign narrows it to
    /// what its engines execute.
    fn default() -> Self {
        Features {
            bulk_memory: true,
            reference_types: true,
            multi_value: true,
            sign_extension: true,
            saturating_float_to_int: true,
            floats: true,
            simd: true,
        }
    }
}

impl Features {
    pub const NAMES: &'static [&'static str] = &[
        "bulk-memory",
        "reference-types",
        "multi-value",
        "sign-extension",
        "saturating-float-to-int",
        "floats",
        "simd",
    ];

    /// No feature at all (the MVP without floats).
    pub fn none() -> Features {
        Features {
            bulk_memory: false,
            reference_types: false,
            multi_value: false,
            sign_extension: false,
            saturating_float_to_int: false,
            floats: false,
            simd: false,
        }
    }

    /// Parse a comma-separated list of [`Features::NAMES`] (or `all`).
    pub fn parse(list: &str) -> Result<Features, String> {
        let mut f = Features::none();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "all" => f = Features::default(),
                "bulk-memory" => f.bulk_memory = true,
                "reference-types" => f.reference_types = true,
                "multi-value" => f.multi_value = true,
                "sign-extension" => f.sign_extension = true,
                "saturating-float-to-int" => f.saturating_float_to_int = true,
                "floats" => f.floats = true,
                "simd" => f.simd = true,
                other => {
                    return Err(format!(
                        "unknown feature `{other}`: expected {} or all",
                        Features::NAMES.join(", ")
                    ));
                }
            }
        }
        Ok(f)
    }

    fn flags(self) -> [bool; 7] {
        [
            self.bulk_memory,
            self.reference_types,
            self.multi_value,
            self.sign_extension,
            self.saturating_float_to_int,
            self.floats,
            self.simd,
        ]
    }

    fn from_flags(f: [bool; 7]) -> Features {
        Features {
            bulk_memory: f[0],
            reference_types: f[1],
            multi_value: f[2],
            sign_extension: f[3],
            saturating_float_to_int: f[4],
            floats: f[5],
            simd: f[6],
        }
    }

    /// The [`WasmFeatures`] flag of each of [`Features::NAMES`], in order.
    const WASM: [WasmFeatures; 7] = [
        WasmFeatures::BULK_MEMORY,
        WasmFeatures::REFERENCE_TYPES,
        WasmFeatures::MULTI_VALUE,
        WasmFeatures::SIGN_EXTENSION,
        WasmFeatures::SATURATING_FLOAT_TO_INT,
        WasmFeatures::FLOATS,
        WasmFeatures::SIMD,
    ];

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

    /// The campaign features every one of `engines` executes.
    pub fn supported_by(engines: &[&dyn Engine]) -> Features {
        engines
            .iter()
            .map(|e| Features::executed(e.supported_features()))
            .fold(Features::default(), Features::intersect)
    }

    /// The features a session validates the campaign's modules with: the 2.0 features the
    /// campaign always assumes, plus SIMD when it is on.
    pub fn session_features(self) -> WasmFeatures {
        let mut f = crate::suite::required_2_0();
        if self.simd {
            f |= WasmFeatures::SIMD;
        }
        f
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
            ..Features::default()
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
        // Today: the runtime lacks SIMD, so the default campaign runs without it, exactly as
        // before SIMD was a campaign feature.
        let f = Features::default().intersect(Features::supported_by(&[&with, &without]));
        assert_eq!(f, no_simd());
        assert_eq!(
            f.to_list(),
            "bulk-memory,reference-types,multi-value,sign-extension,saturating-float-to-int,floats"
        );
        assert_eq!(f.session_features(), crate::suite::required_2_0());
        assert_eq!(
            Features::default().without(f),
            Features {
                simd: true,
                ..Features::none()
            }
        );
        // Once every engine executes SIMD it is on by default, and sessions validate it.
        let f = Features::default().intersect(Features::supported_by(&[&with, &relaxed]));
        assert_eq!(f, Features::default());
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
        assert!(Features::parse("relaxed-simd").is_err());
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
}
