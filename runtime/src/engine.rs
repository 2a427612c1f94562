//! The engine: configuration, the host ISA, signature interning and trampoline caches.

use crate::config::{Config, OptLevel};
use crate::gctypes::{KeyComposite, KeySub, TypeInfo, TypeRegistry, key_val};
use crate::trap::{Error, Result};
use crate::types::{FuncType, RefType, ValType};
use crate::vm::code::CodeMemory;
use cranelift_codegen::ir;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Global compilation environment, cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) config: Config,
    pub(crate) isa: OwnedTargetIsa,
    /// Canonical types (`gctypes.rs`); a function type's id is its signature id.
    pub(crate) types: Mutex<TypeRegistry>,
    /// Host->wasm array entries and wasm->host shims, compiled on first use and kept for the
    /// engine's life (stores keep only their addresses).
    pub(crate) entries: Mutex<TrampolineCache>,
    pub(crate) shims: Mutex<TrampolineCache>,
}

/// One kind of trampoline: compiled code by wasm ABI signature, and each signature id's
/// address.
///
/// A trampoline's code depends only on the Cranelift signature of the function type (every
/// reference type is an `i64`), so it is shared between all the types with the same one. It
/// used to be compiled per canonical type id: in the fuzz campaign, where every module with
/// GC types brings new rec groups and so new ids for the same few shapes, that was nearly two
/// compiles per case (a full Cranelift compile each, ~230k instructions under callgrind).
#[derive(Default)]
pub(crate) struct TrampolineCache {
    by_id: HashMap<u32, usize>,
    code: HashMap<ir::Signature, CodeMemory>,
}
/// A signature's two trampolines (both live as long as the engine).
pub(crate) struct Trampolines {
    pub(crate) array_entry: usize,
    pub(crate) host_shim: usize,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(&Config::new()).expect("host ISA is supported")
    }
}

impl Engine {
    pub fn new(config: &Config) -> Result<Engine> {
        let mut flags = settings::builder();
        let opt = match config.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        };
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| Error::Compile(format!("setting {k}: {e}")))
        };
        set(&mut flags, "opt_level", opt)?;
        set(&mut flags, "preserve_frame_pointers", "true")?;
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        set(
            &mut flags,
            "enable_verifier",
            if config.verifier { "true" } else { "false" },
        )?;
        set(&mut flags, "unwind_info", "false")?;
        // Block starts and edges, for placing functions by their loops (`placement`).
        set(&mut flags, "machine_code_cfg_info", "true")?;
        set(
            &mut flags,
            "enable_nan_canonicalization",
            if config.canonicalize_nans {
                "true"
            } else {
                "false"
            },
        )?;
        let isa_builder =
            cranelift_native::builder().map_err(|e| Error::Compile(format!("host ISA: {e}")))?;
        let isa = isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| Error::Compile(format!("host ISA: {e}")))?;
        crate::vm::traps::init_handlers();
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                isa,
                types: Mutex::new(TypeRegistry::default()),
                entries: Mutex::default(),
                shims: Mutex::default(),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The type registry, locked.
    pub(crate) fn registry(&self) -> std::sync::MutexGuard<'_, TypeRegistry> {
        self.inner.types.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Engine-wide id of a signature (a final function type of its own recursion group);
    /// equal types get equal ids.
    pub(crate) fn sig_id(&self, ty: &FuncType) -> u32 {
        let key = KeySub {
            is_final: true,
            supertype: None,
            composite: KeyComposite::Func(
                ty.params().iter().map(|&t| key_val(t)).collect(),
                ty.results().iter().map(|&t| key_val(t)).collect(),
            ),
        };
        self.registry().intern_group(vec![key])
    }

    pub(crate) fn sig_type(&self, id: u32) -> FuncType {
        self.registry()
            .get(id)
            .and_then(|t| t.func().cloned())
            .unwrap_or_default()
    }

    pub(crate) fn type_info(&self, id: u32) -> Option<Arc<TypeInfo>> {
        self.registry().get(id).cloned()
    }

    /// Reference subtyping with the engine's declared subtypes.
    pub fn ref_subtype(&self, a: RefType, b: RefType) -> bool {
        self.registry().ref_subtype(a, b)
    }

    /// Value subtyping with the engine's declared subtypes.
    pub fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        self.registry().val_subtype(a, b)
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Both trampolines of a signature (a host function needs both), compiled on first use.
    pub(crate) fn trampolines(&self, sig: u32) -> Result<Trampolines> {
        Ok(Trampolines {
            array_entry: self.array_entry(sig)?,
            host_shim: self.host_shim(sig)?,
        })
    }

    /// The host->wasm array entry of a signature, compiled on first use.
    pub(crate) fn array_entry(&self, sig: u32) -> Result<usize> {
        self.trampoline(
            &self.inner.entries,
            sig,
            crate::compile::compile_array_entry,
        )
    }

    /// The wasm->host shim of a signature, compiled on first use.
    pub(crate) fn host_shim(&self, sig: u32) -> Result<usize> {
        self.trampoline(&self.inner.shims, sig, crate::compile::compile_host_shim)
    }

    fn trampoline(
        &self,
        cache: &Mutex<TrampolineCache>,
        sig: u32,
        compile: fn(&Engine, &ir::Signature) -> Result<CodeMemory>,
    ) -> Result<usize> {
        if let Some(&addr) = cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .get(&sig)
        {
            return Ok(addr);
        }
        let wsig = crate::translate::wasm_signature(&self.sig_type(sig));
        let shared = cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .code
            .get(&wsig)
            .map(CodeMemory::base);
        let addr = match shared {
            Some(addr) => addr,
            None => {
                // Compiled outside the lock; if another thread got there first, its code is
                // kept and this one dropped (nothing refers to it yet).
                let code = compile(self, &wsig)?;
                let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
                c.code.entry(wsig).or_insert(code).base()
            }
        };
        let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
        c.by_id.insert(sig, addr);
        Ok(addr)
    }
}
