//! Compilation: translate every function in parallel, lay the code out, relocate direct calls
//! and build the trap tables. Also compiles the per-signature trampolines.

use crate::engine::Engine;
use crate::module::ModuleInfo;
use crate::placement;
use crate::translate::{self, Env, codes};
use crate::trap::{Error, Result, TrapCode};
use crate::vm::code::CodeMemory;
use cranelift_codegen::Context;
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{
    self, AbiParam, ExternalName, InstBuilder, MemFlagsData, Signature, StackSlotData,
    StackSlotKind, UserFuncName, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::{FinalizedMachExceptionHandler, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes per value in a trampoline's array (one `ValRaw`, wide enough for a v128).
const VAL_SLOT: usize = std::mem::size_of::<crate::values::ValRaw>();

struct CompiledFunc {
    bytes: Vec<u8>,
    traps: Vec<(u32, TrapCode)>,
    /// (offset, kind, callee function index, addend)
    relocs: Vec<(u32, Reloc, u32, i64)>,
    /// `try_call` sites: (return address, handler, frame offset), offsets in the function.
    handlers: Vec<(u32, u32, u32)>,
    /// User stack maps: (return address, SP offsets of live GC references).
    stack_maps: Vec<(u32, Box<[u32]>)>,
    /// Inner loops, `[start, end)` offsets, for the function's placement.
    loops: Vec<(u32, u32)>,
}

/// One thread's reusable compilation state.
///
/// Building a fresh `Context` (and `FunctionBuilderContext`) per function was measurable in
/// the fuzz campaign, where modules are small and many: every function paid for allocating,
/// growing and freeing the function's IR tables, the CFG, dominator tree, loop analysis, the
/// frontend's SSA state and regalloc2's working sets (malloc/free were ~7% of the campaign's
/// CPU). Cranelift's contexts are meant to be reused: `clear` keeps their capacity, so after
/// the first few functions on a thread compiling allocates little besides the results.
struct FuncCompiler {
    ctx: Context,
    fctx: FunctionBuilderContext,
}

impl FuncCompiler {
    fn new() -> FuncCompiler {
        FuncCompiler {
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
        }
    }
}

thread_local! {
    static COMPILER: std::cell::RefCell<FuncCompiler> = std::cell::RefCell::new(FuncCompiler::new());
}

/// Run `f` with this thread's compiler (a fresh one if it is already in use further up the
/// stack, which compiling never does today but costs nothing to allow).
fn with_compiler<R>(f: impl FnOnce(&mut FuncCompiler) -> R) -> R {
    COMPILER.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => f(&mut c),
        Err(_) => f(&mut FuncCompiler::new()),
    })
}

/// Compile the function in `ctx.func`; the context is left for the next function to reuse.
fn compile_function(engine: &Engine, ctx: &mut Context) -> Result<CompiledFunc> {
    let isa = &*engine.inner.isa;
    let (bytes, traps, raw_relocs, handlers, stack_maps, loops) = {
        let code = ctx
            .compile(isa, &mut ControlPlane::default())
            .map_err(|e| Error::Compile(format!("{:?}", e.inner)))?;
        let traps = code
            .buffer
            .traps()
            .iter()
            .filter_map(|t| codes::to_trap(t.code).map(|c| (t.offset, c)))
            .collect::<Vec<_>>();
        let relocs = code
            .buffer
            .relocs()
            .iter()
            .map(|r| (r.offset, r.kind, r.target.clone(), r.addend))
            .collect::<Vec<_>>();
        let mut handlers = Vec::new();
        for site in code.buffer.call_sites() {
            for h in site.exception_handlers {
                if let FinalizedMachExceptionHandler::Default(off) = *h {
                    let frame = site.frame_offset.ok_or_else(|| {
                        Error::Compile("try_call site without a frame offset".into())
                    })?;
                    handlers.push((site.ret_addr, off, frame));
                }
            }
        }
        let stack_maps = code
            .buffer
            .user_stack_maps()
            .iter()
            .map(|(ret, _, map)| (*ret, map.entries().map(|(_, off)| off).collect()))
            .collect();
        let bytes = code.code_buffer().to_vec();
        let loops = placement::inner_loops(&code.bb_starts, &code.bb_edges, bytes.len() as u32);
        (bytes, traps, relocs, handlers, stack_maps, loops)
    };
    let mut relocs = Vec::new();
    for (off, kind, target, addend) in raw_relocs {
        match target {
            FinalizedRelocTarget::ExternalName(ExternalName::User(r)) => {
                let name = &ctx.func.params.user_named_funcs()[r];
                relocs.push((off, kind, name.index, addend));
            }
            other => {
                return Err(Error::Compile(format!(
                    "unexpected relocation target {other:?}"
                )));
            }
        }
    }
    Ok(CompiledFunc {
        bytes,
        traps,
        relocs,
        handlers,
        stack_maps,
        loops,
    })
}

/// Compile all defined functions; returns the code memory and each defined function's address.
pub(crate) fn compile_module(
    engine: &Engine,
    info: &ModuleInfo,
    bodies: &[wasmparser::FunctionBody<'_>],
) -> Result<(CodeMemory, Vec<usize>)> {
    let config = engine.config();
    let env = Env {
        info,
        offsets: info.offsets(),
        guard_pages: config.guard_pages_active(),
        guard_size: config.memory_guard_size,
        relaxed_deterministic: config.relaxed_simd_deterministic,
        has_fma: engine
            .inner
            .isa
            .isa_flags()
            .iter()
            .any(|f| f.name == "has_fma" && f.as_bool() == Some(true)),
        frontend: engine.inner.isa.frontend_config(),
    };
    let nimp = info.num_imported_funcs;
    let compiled: Vec<Result<CompiledFunc>> = bodies
        .par_iter()
        .enumerate()
        .map(|(i, body)| {
            with_compiler(|c| {
                c.ctx.clear();
                translate::translate_function(
                    &env,
                    nimp + i as u32,
                    body,
                    &mut c.fctx,
                    &mut c.ctx.func,
                )?;
                compile_function(engine, &mut c.ctx)
            })
        })
        .collect();
    let compiled = compiled.into_iter().collect::<Result<Vec<_>>>()?;

    let mut image = Vec::new();
    let mut offsets = Vec::with_capacity(compiled.len());
    let mut traps = Vec::new();
    let mut funcs = Vec::new();
    let mut handlers = Vec::new();
    let mut stack_maps = Vec::new();
    // A function starts at the ISA's preferred alignment (32 bytes on x86-64), as Wasmtime
    // lays them out: with 16 bytes, a hot loop's position relative to the fetch windows
    // depended on where the previous function happened to end. It starts at a nearby 16-byte
    // step instead when that makes its inner loops touch fewer fetch lines (see `placement`).
    let align = (engine.inner.isa.function_alignment().preferred as usize).max(16);
    for (i, f) in compiled.iter().enumerate() {
        let start = placement::start(image.len(), &f.loops, align);
        image.resize(start, 0xcc);
        let start = start as u32;
        offsets.push(start);
        image.extend_from_slice(&f.bytes);
        traps.extend(f.traps.iter().map(|&(o, c)| (start + o, c)));
        handlers.extend(
            f.handlers
                .iter()
                .map(|&(r, h, fo)| (start + r, start + h, fo)),
        );
        stack_maps.extend(
            f.stack_maps
                .iter()
                .map(|(r, offs)| (start + r, offs.clone())),
        );
        funcs.push((start, image.len() as u32, nimp + i as u32));
    }
    let patch = |base: usize, buf: &mut [u8]| -> std::result::Result<(), String> {
        for (i, f) in compiled.iter().enumerate() {
            for &(off, kind, callee, addend) in &f.relocs {
                let site = offsets[i] as usize + off as usize;
                let callee_def = callee
                    .checked_sub(nimp)
                    .ok_or("relocation to an imported function")?;
                let target = base + offsets[callee_def as usize] as usize;
                match kind {
                    Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 | Reloc::X86PCRel4 => {
                        let v = (target as i64 + addend - (base + site) as i64) as i32;
                        buf[site..site + 4].copy_from_slice(&v.to_le_bytes());
                    }
                    Reloc::Abs8 => {
                        let v = (target as i64 + addend) as u64;
                        buf[site..site + 8].copy_from_slice(&v.to_le_bytes());
                    }
                    k => return Err(format!("unsupported relocation {k:?}")),
                }
            }
        }
        Ok(())
    };
    let code = CodeMemory::new(
        &image,
        patch,
        traps,
        funcs,
        info.names.clone(),
        handlers,
        stack_maps,
    )
    .map_err(Error::Compile)?;
    let base = code.base();
    let addrs = offsets.iter().map(|&o| base + o as usize).collect();
    Ok((code, addrs))
}

/// The host->wasm array entry for wasm signature `wsig` (see [`translate::wasm_signature`]):
/// `extern "C" fn(vmctx, code, values)`, in its own code memory (its base is the entry).
///
/// Trampolines are built from the Cranelift signature alone, not from the wasm function type,
/// so the engine shares one between every function type with the same ABI signature (every
/// reference type is an `i64`): see `Engine::trampoline`.
pub(crate) fn compile_array_entry(engine: &Engine, wsig: &Signature) -> Result<CodeMemory> {
    with_compiler(|c| {
        let entry = compile_array_entry_with(engine, wsig, c)?;
        trampoline_code(entry)
    })
}

/// The wasm->host shim for wasm signature `wsig`, in its own code memory (its base is the
/// shim).
pub(crate) fn compile_host_shim(engine: &Engine, wsig: &Signature) -> Result<CodeMemory> {
    with_compiler(|c| {
        let shim = compile_host_shim_with(engine, wsig, c)?;
        trampoline_code(shim)
    })
}

/// Executable memory holding one compiled trampoline at its base.
fn trampoline_code(f: CompiledFunc) -> Result<CodeMemory> {
    if !f.relocs.is_empty() {
        return Err(Error::Compile("unexpected relocation in trampoline".into()));
    }
    CodeMemory::new(
        &f.bytes,
        |_, _| Ok(()),
        f.traps,
        Vec::new(),
        Arc::new(HashMap::new()),
        Vec::new(),
        Vec::new(),
    )
    .map_err(Error::Compile)
}

fn compile_array_entry_with(
    engine: &Engine,
    wsig: &Signature,
    c: &mut FuncCompiler,
) -> Result<CompiledFunc> {
    let fctx = &mut c.fctx;

    // Host -> wasm: extern "C" fn(vmctx, code, values: *mut ValRaw).
    let mut sig = Signature::new(CallConv::SystemV);
    for _ in 0..3 {
        sig.params.push(AbiParam::new(types::I64));
    }
    c.ctx.clear();
    let f = &mut c.ctx.func;
    f.name = UserFuncName::user(1, 0);
    f.signature = sig;
    {
        let mut b = FunctionBuilder::new(f, fctx);
        let blk = b.create_block();
        b.append_block_params_for_function_params(blk);
        b.switch_to_block(blk);
        b.seal_block(blk);
        let p = b.block_params(blk).to_vec();
        let (vmctx, code, values) = (p[0], p[1], p[2]);
        let mut args = vec![vmctx];
        // Parameter 0 is the callee's vmctx; the wasm parameters follow.
        for (i, p) in wsig.params[1..].iter().enumerate() {
            args.push(b.ins().load(
                p.value_type,
                MemFlagsData::trusted(),
                values,
                (i * VAL_SLOT) as i32,
            ));
        }
        let wsig = b.import_signature(wsig.clone());
        let call = b.ins().call_indirect(wsig, code, &args);
        let rets = b.inst_results(call).to_vec();
        for (i, r) in rets.into_iter().enumerate() {
            b.ins()
                .store(MemFlagsData::trusted(), r, values, (i * VAL_SLOT) as i32);
        }
        b.ins().return_(&[]);
        b.finalize(engine.inner.isa.frontend_config());
    }
    compile_function(engine, &mut c.ctx)
}

fn compile_host_shim_with(
    engine: &Engine,
    wsig: &Signature,
    c: &mut FuncCompiler,
) -> Result<CompiledFunc> {
    let fctx = &mut c.fctx;
    // Wasm -> host: a wasm-ABI function whose vmctx is a host-function context whose first
    // field is `extern "C" fn(ctx, values, shim_fp) -> u32`; nonzero means "trap".
    c.ctx.clear();
    let f = &mut c.ctx.func;
    f.name = UserFuncName::user(1, 1);
    f.signature = wsig.clone();
    {
        let mut b = FunctionBuilder::new(f, fctx);
        let blk = b.create_block();
        b.append_block_params_for_function_params(blk);
        b.switch_to_block(blk);
        b.seal_block(blk);
        let p = b.block_params(blk).to_vec();
        let n = p[1..].len().max(wsig.returns.len()).max(1);
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (n * VAL_SLOT) as u32,
            4,
        ));
        let addr = b.ins().stack_addr(types::I64, slot, 0);
        for (i, &v) in p[1..].iter().enumerate() {
            b.ins()
                .store(MemFlagsData::trusted(), v, addr, (i * VAL_SLOT) as i32);
        }
        let fptr = b.ins().load(types::I64, MemFlagsData::trusted(), p[0], 0);
        let mut hsig = Signature::new(CallConv::SystemV);
        for _ in 0..3 {
            hsig.params.push(AbiParam::new(types::I64));
        }
        hsig.returns.push(AbiParam::new(types::I32));
        let hsig = b.import_signature(hsig);
        // The shim's own frame pointer: the host entry records it so that a collection inside
        // the host function can walk the wasm frames below (the shim's caller is wasm).
        let shim_fp = b.ins().get_frame_pointer(types::I64);
        let call = b.ins().call_indirect(hsig, fptr, &[p[0], addr, shim_fp]);
        let status = b.inst_results(call)[0];
        // 0: return; 1: trap (the error waits in `traps`); 2: throw the exnref in slot 0
        // into our wasm caller, walking from this frame.
        let ok = b.create_block();
        let not_ok = b.create_block();
        let throw = b.create_block();
        b.ins().brif(status, not_ok, &[], ok, &[]);
        b.seal_block(not_ok);
        b.switch_to_block(not_ok);
        b.set_cold_block(not_ok);
        let is_trap = b
            .ins()
            .icmp_imm_u(ir::condcodes::IntCC::NotEqual, status, 2);
        b.ins().trapnz(is_trap, codes::HOST);
        b.ins().jump(throw, &[]);
        b.seal_block(throw);
        b.switch_to_block(throw);
        b.set_cold_block(throw);
        {
            // The helper finds this frame's pointer itself: a `get_frame_pointer` here is
            // merged with the one above, which then lives in a callee-saved register across
            // the host call (a save and a restore on every call, ~0.3 ns of `call/host0`).
            let exn = b.ins().load(types::I64, MemFlagsData::trusted(), addr, 0);
            let mut tsig = Signature::new(CallConv::SystemV);
            for _ in 0..2 {
                tsig.params.push(AbiParam::new(types::I64));
            }
            let tsig = b.import_signature(tsig);
            let f = b
                .ins()
                .iconst(types::I64, crate::vm::unwind::throw_from_shim_addr() as i64);
            let zero = b.ins().iconst(types::I64, 0);
            b.ins().call_indirect(tsig, f, &[zero, exn]);
            b.ins().trap(codes::UNREACHABLE);
        }
        b.seal_block(ok);
        b.switch_to_block(ok);
        let mut rets = Vec::new();
        for (i, r) in wsig.returns.iter().enumerate() {
            rets.push(b.ins().load(
                r.value_type,
                MemFlagsData::trusted(),
                addr,
                (i * VAL_SLOT) as i32,
            ));
        }
        b.ins().return_(&rets);
        b.finalize(engine.inner.isa.frontend_config());
    }
    compile_function(engine, &mut c.ctx)
}
