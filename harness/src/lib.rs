//! lockstep-harness
