//! Planted miscompiles for checking that differential campaigns find bugs (feature
//! `fault-injection`, off by default). The fault is chosen once per process from the
//! environment variable `LOCKSTEP_FAULT`, so fuzz worker processes inherit it.

use std::sync::OnceLock;

/// A planted bug in the translator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `f32.min`/`f64.min` return the other operand when one is NaN.
    MinNanRule,
    /// `i32.gt_u`/`i64.gt_u` compare with their operands swapped.
    SwappedCompare,
    /// `br_table` takes its first target instead of the default for an out-of-range index.
    BrTableDefault,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 3] = [
        Fault::MinNanRule,
        Fault::SwappedCompare,
        Fault::BrTableDefault,
    ];

    /// The `LOCKSTEP_FAULT` name of the fault.
    pub fn name(self) -> &'static str {
        match self {
            Fault::MinNanRule => "min-nan-rule",
            Fault::SwappedCompare => "swapped-compare",
            Fault::BrTableDefault => "br-table-default",
        }
    }

    /// The fault named `name`, if any.
    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name.trim())
    }
}

/// The fault selected by `LOCKSTEP_FAULT` (read once per process).
pub fn active() -> Option<Fault> {
    static ACTIVE: OnceLock<Option<Fault>> = OnceLock::new();
    *ACTIVE.get_or_init(|| {
        std::env::var("LOCKSTEP_FAULT")
            .ok()
            .and_then(|v| Fault::parse(&v))
    })
}

/// Whether `fault` is the active one.
pub(crate) fn is(fault: Fault) -> bool {
    active() == Some(fault)
}
