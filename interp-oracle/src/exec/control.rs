//! Control instructions that touch frames (spec section 4.4.8): calling host functions and
//! checking the values that cross the host boundary. Wasm-to-wasm calls, returns and branches
//! are in the loop itself (`exec.rs`), because they replace the loop's current frame.

use crate::value::{Slot, slot_to_value, value_to_slot};
use crate::{FuncType, HostFunc, Trap, ValType, Value};

/// Check that `values` have exactly the types `types`.
pub fn check_types(values: &[Value], types: &[ValType]) -> bool {
    values.len() == types.len() && values.iter().zip(types).all(|(v, t)| v.ty() == *t)
}

/// Call a host function with the top `ty.params.len()` slots of the stack as arguments;
/// replace them by its results. A host function returning the wrong number or types of
/// values is a trap, not a panic.
pub fn call_host(f: &mut HostFunc, ty: &FuncType, stack: &mut Vec<Slot>) -> Result<(), Trap> {
    let n = ty.params.len();
    let start = stack.len() - n;
    let args: Vec<Value> = stack[start..]
        .iter()
        .zip(&ty.params)
        .map(|(s, t)| slot_to_value(*t, *s))
        .collect();
    stack.truncate(start);
    let results = f(&args)?;
    if !check_types(&results, &ty.results) {
        return Err(Trap::host(format!(
            "host function returned {:?}, expected types {:?}",
            results, ty.results
        )));
    }
    stack.extend(results.into_iter().map(value_to_slot));
    Ok(())
}
