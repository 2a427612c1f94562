//! Traps and errors.

use crate::exception::Exception;
use std::fmt;

/// Why wasm execution stopped abnormally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversionToInteger,
    MemoryOutOfBounds,
    TableOutOfBounds,
    UndefinedElement,
    UninitializedElement,
    IndirectCallTypeMismatch,
    StackOverflow,
    /// `ref.as_non_null` of a null reference.
    NullReference,
    /// `call_ref` or `return_call_ref` of a null reference.
    NullFunctionReference,
    /// A host function returned an error (or panicked).
    Host,
    /// `throw_ref` of a null `exnref`.
    NullExceptionReference,
    /// An exception reached the embedding boundary uncaught (see [`Trap::exception`]).
    UncaughtException,
    /// A struct access through a null reference.
    NullStructReference,
    /// An array access through a null reference.
    NullArrayReference,
    /// `i31.get_s`/`i31.get_u` of null.
    NullI31Reference,
    /// An array index or range past the array's length.
    ArrayOutOfBounds,
    /// `ref.cast` of a reference of another type.
    CastFailure,
    /// An allocation would pass the GC heap limit even after a collection.
    OutOfGcHeap,
}

impl TrapCode {
    /// The specification's text for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::IntegerDivideByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::InvalidConversionToInteger => "invalid conversion to integer",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::NullReference => "null reference",
            TrapCode::NullFunctionReference => "null function reference",
            TrapCode::Host => "host function error",
            TrapCode::NullExceptionReference => "null exception reference",
            TrapCode::UncaughtException => "uncaught exception",
            TrapCode::NullStructReference => "null structure reference",
            TrapCode::NullArrayReference => "null array reference",
            TrapCode::NullI31Reference => "null i31 reference",
            TrapCode::ArrayOutOfBounds => "out of bounds array access",
            TrapCode::CastFailure => "cast failure",
            TrapCode::OutOfGcHeap => "out of GC heap",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One wasm frame of a trap backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Function index in its module's index space.
    pub func_index: u32,
    /// The name from the name section, if any.
    pub func_name: Option<String>,
}

/// A trap: a code, a message, and the wasm frames active when it happened (innermost first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    code: TrapCode,
    message: String,
    backtrace: Vec<FrameInfo>,
    /// The exception of an [`TrapCode::UncaughtException`]: thrown by wasm and not caught,
    /// or returned by a host function to throw it into its wasm caller.
    exception: Option<Box<Exception>>,
    /// The raw exnref of an uncaught exception until the store resolves it (0: none).
    pending: u64,
}

impl Trap {
    pub(crate) fn from_code(code: TrapCode) -> Trap {
        Trap {
            code,
            message: code.message().to_string(),
            backtrace: Vec::new(),
            exception: None,
            pending: 0,
        }
    }

    pub(crate) fn with_message(code: TrapCode, message: String) -> Trap {
        Trap {
            code,
            message,
            backtrace: Vec::new(),
            exception: None,
            pending: 0,
        }
    }

    /// A host-defined trap with a message (for host functions that fail).
    pub fn new(message: impl Into<String>) -> Trap {
        Trap {
            code: TrapCode::Host,
            message: message.into(),
            backtrace: Vec::new(),
            exception: None,
            pending: 0,
        }
    }

    /// An exception in flight: what an uncaught throw becomes, and what a host function
    /// returns to throw into wasm.
    pub fn exception(e: Exception) -> Trap {
        Trap {
            code: TrapCode::UncaughtException,
            message: e.to_string(),
            backtrace: Vec::new(),
            exception: Some(Box::new(e)),
            pending: 0,
        }
    }

    /// An exception that left wasm uncaught, before the store resolves its exnref.
    pub(crate) fn pending_exception(exn: u64) -> Trap {
        let mut t = Trap::from_code(TrapCode::UncaughtException);
        t.pending = exn;
        t
    }

    /// The exnref of a [`Trap::pending_exception`] (taken once).
    pub(crate) fn take_pending(&mut self) -> Option<u64> {
        let e = std::mem::take(&mut self.pending);
        (e != 0).then_some(e)
    }

    /// The exception this trap carries, if it is an uncaught exception.
    pub fn as_exception(&self) -> Option<&Exception> {
        self.exception.as_deref()
    }

    pub(crate) fn with_backtrace(mut self, backtrace: Vec<FrameInfo>) -> Trap {
        if self.backtrace.is_empty() {
            self.backtrace = backtrace;
        }
        self
    }

    pub fn code(&self) -> TrapCode {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Wasm frames, innermost first.
    pub fn backtrace(&self) -> &[FrameInfo] {
        &self.backtrace
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.backtrace.is_empty() {
            f.write_str("\nwasm backtrace:")?;
            for (i, fr) in self.backtrace.iter().enumerate() {
                match &fr.func_name {
                    Some(n) => write!(f, "\n  {i}: func[{}] {n}", fr.func_index)?,
                    None => write!(f, "\n  {i}: func[{}]", fr.func_index)?,
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

impl From<Exception> for Trap {
    fn from(e: Exception) -> Trap {
        Trap::exception(e)
    }
}

impl From<TrapCode> for Trap {
    fn from(code: TrapCode) -> Trap {
        Trap::from_code(code)
    }
}

/// Errors of the embedding API.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The bytes do not decode (the spec's "malformed").
    #[error("malformed module: {0}")]
    Malformed(String),
    /// The module decodes but does not validate (the spec's "invalid").
    #[error("invalid module: {0}")]
    Invalid(String),
    /// Code generation failed or hit an implementation limit.
    #[error("compilation failed: {0}")]
    Compile(String),
    /// An import could not be resolved or has the wrong type.
    #[error("link error: {0}")]
    Link(String),
    /// Wasm code trapped.
    #[error("{0}")]
    Trap(Trap),
    /// An exception was thrown and not caught (exception handling).
    #[error("{0}")]
    Exception(Box<Exception>),
    /// Wrong argument types, foreign store, resource limits...
    #[error("{0}")]
    Other(String),
}

impl From<Trap> for Error {
    fn from(mut t: Trap) -> Error {
        match t.exception.take() {
            Some(e) => Error::Exception(e),
            None => Error::Trap(t),
        }
    }
}

impl From<Error> for Trap {
    /// For host functions that call back into wasm: an exception keeps flowing, any other
    /// error becomes a host trap.
    fn from(e: Error) -> Trap {
        match e {
            Error::Trap(t) => t,
            Error::Exception(e) => Trap::exception(*e),
            other => Trap::new(other.to_string()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
