//! lockstep-runtime
