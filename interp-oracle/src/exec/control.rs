//! Control instructions that touch frames (spec section 4.4.8): calling host functions,
//! checking the values that cross the host boundary, and finding the handler of an
//! exception. Wasm-to-wasm calls, returns and branches
//! are in the loop itself (`exec.rs`), because they replace the loop's current frame.

use crate::instance::Instance;
use crate::instr::{Catch, FuncCode, Handlers};
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

/// The handler that catches an exception of (store) tag `tag` thrown at `pc` of `code`: the
/// innermost try region around `pc` with a matching catch clause, outer regions being tried
/// in turn (a legacy `delegate` skips to the regions around its label).
pub fn find_catch(code: &FuncCode, inst: &Instance, pc: u32, tag: u32) -> Option<Catch> {
    let mut max_depth = u32::MAX;
    loop {
        let r = code
            .regions
            .iter()
            .filter(|r| r.start <= pc && pc < r.end && r.depth <= max_depth)
            .max_by_key(|r| r.depth)?;
        match &r.handlers {
            Handlers::Catch(catches) => {
                let matches = |c: &&Catch| c.tag.is_none_or(|t| inst.tags[t as usize] == tag);
                if let Some(c) = catches.iter().find(matches) {
                    return Some(*c);
                }
                max_depth = r.depth - 1;
            }
            Handlers::Delegate(depth) => max_depth = *depth,
        }
    }
}
