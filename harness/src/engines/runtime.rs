//! The adapter for the Cranelift runtime (`lockstep-runtime`).
//!
//! A placeholder until the runtime's author replaces it: `None` means "not built yet", and the
//! engine list leaves it out.

use crate::engine::Engine;

/// The engine list's constructor.
pub fn engine() -> Option<Box<dyn Engine>> {
    None
}
