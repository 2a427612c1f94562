//! Traps and their messages. Every message contains the text the spec reference
//! interpreter prints, because `.wast` scripts quote it.

use crate::{Trap, TrapKind};

impl TrapKind {
    /// The spec reference interpreter's message for this kind of trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::InvalidConversionToInteger => "invalid conversion to integer",
            TrapKind::OutOfBoundsMemoryAccess => "out of bounds memory access",
            TrapKind::OutOfBoundsTableAccess => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::CallStackExhausted => "call stack exhausted",
            TrapKind::NullReference => "null reference",
            TrapKind::NullExceptionReference => "null exception reference",
            TrapKind::CastFailure => "cast failure",
            TrapKind::OutOfBoundsArrayAccess => "out of bounds array access",
            TrapKind::Host => "host error",
        }
    }
}

impl From<TrapKind> for Trap {
    fn from(kind: TrapKind) -> Trap {
        Trap {
            kind,
            message: kind.message().to_string(),
        }
    }
}

impl Trap {
    /// A trap of the given kind with the standard message.
    pub fn new(kind: TrapKind) -> Trap {
        kind.into()
    }

    /// A trap raised by (or about) a host function, with a free-form message.
    pub fn host(message: impl Into<String>) -> Trap {
        Trap {
            kind: TrapKind::Host,
            message: message.into(),
        }
    }

    /// A null reference where an `i31`, a structure or an array is needed ("null array
    /// reference", ...).
    pub(crate) fn null(what: &str) -> Trap {
        Trap {
            kind: TrapKind::NullReference,
            message: format!("null {what} reference"),
        }
    }

    /// `call_ref` of a null reference.
    pub(crate) fn null_function_reference() -> Trap {
        Trap {
            kind: TrapKind::NullReference,
            message: "null function reference".to_string(),
        }
    }

    /// "uninitialized element N", as the reference interpreter prints it.
    pub(crate) fn uninitialized_element(index: u64) -> Trap {
        Trap {
            kind: TrapKind::UninitializedElement,
            message: format!("uninitialized element {index}"),
        }
    }
}
