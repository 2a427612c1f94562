//! Control instructions that touch frames (spec section 4.4.8): calling host functions,
//! checking the values that cross the host boundary, and finding the handler of an
//! exception. Wasm-to-wasm calls, returns and branches
//! are in the loop itself (`exec.rs`), because they replace the loop's current frame.

use crate::instance::{FuncKind, Instance};
use crate::instr::{Catch, FuncCode, Handlers};
use crate::value::{DEFAULT_SLOT, Slot, slot_to_value, value_to_slot};
use crate::{Caller, FuncAddr, InstanceAddr, Store, Trap, ValType, Value};

/// Check that `values` have exactly the types `types`.
pub fn check_types(values: &[Value], types: &[ValType]) -> bool {
    values.len() == types.len() && values.iter().zip(types).all(|(v, t)| v.ty() == *t)
}

impl Store {
    /// Call host function `func` with the slots below height `sp` of the stack as arguments;
    /// replace them by its results and return the new height. (The stack may be longer than
    /// `sp`: the interpreter keeps room above its operands; it grows if the results need it
    /// and never shrinks.) `caller` is the instance of the calling wasm code (`None` for a direct
    /// invocation). The function is lent the store through a [`Caller`], so it is taken out
    /// of its slot for the call and put back after. A host function returning the wrong
    /// number or types of values is a trap, not a panic.
    pub(crate) fn call_host(
        &mut self,
        func: FuncAddr,
        caller: Option<InstanceAddr>,
        stack: &mut Vec<Slot>,
        sp: usize,
    ) -> Result<usize, Trap> {
        let f = &mut self.funcs[func.0 as usize];
        let type_id = f.type_id as usize;
        let FuncKind::Host(slot) = &mut f.kind else {
            return Err(Trap::host("not a host function"));
        };
        let Some(mut host) = slot.take() else {
            return Err(Trap::host(format!(
                "host function {} called again while it runs",
                func.0
            )));
        };
        let params = &self.types.defs[type_id].func.params;
        let start = sp - params.len();
        let args: Vec<Value> = stack[start..sp]
            .iter()
            .zip(params)
            .map(|(s, t)| slot_to_value(*t, *s))
            .collect();
        let results = host(
            &mut Caller {
                store: self,
                instance: caller,
            },
            &args,
        );
        if let FuncKind::Host(slot) = &mut self.funcs[func.0 as usize].kind {
            *slot = Some(host);
        }
        let results = results?;
        let expected = &self.types.defs[type_id].func.results;
        if !check_types(&results, expected) {
            return Err(Trap::host(format!(
                "host function returned {results:?}, expected types {expected:?}"
            )));
        }
        let end = start + results.len();
        if stack.len() < end {
            stack.resize(end, DEFAULT_SLOT);
        }
        for (s, v) in stack[start..end].iter_mut().zip(results) {
            *s = value_to_slot(v);
        }
        Ok(end)
    }
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
