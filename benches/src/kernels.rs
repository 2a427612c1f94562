//! Execution kernels: WAT modules exporting `run: [i32] -> [i64]`, each with a reference
//! implementation in Rust that gives the expected result for any size.

/// One kernel: its module, the sizes used for compiled and interpreted engines, and its
/// reference result.
pub struct Kernel {
    pub name: &'static str,
    pub wat: &'static str,
    /// `n` for the compiling engines (ours, wasmtime): a run of a few milliseconds.
    pub jit_n: i32,
    /// `n` for the interpreters (oracle, wasmi).
    pub interp_n: i32,
    /// A small `n` for test mode and the quick gate on interpreters.
    pub tiny_n: i32,
    pub reference: fn(i32) -> i64,
    /// The Wasm 3.0 proposals it uses beyond 2.0 and memory64; an engine without one sits the
    /// kernel out (`EngineKind::executes`).
    pub needs: Needs,
}

/// The proposals a kernel needs that not every engine here executes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub exceptions: bool,
    pub gc: bool,
}

impl Needs {
    pub const NONE: Needs = Needs {
        exceptions: false,
        gc: false,
    };
}

impl Kernel {
    pub fn wasm(&self) -> Vec<u8> {
        crate::wat_to_wasm(self.wat)
    }
    pub fn expected(&self, n: i32) -> i64 {
        (self.reference)(n)
    }
}

pub const KERNELS: &[Kernel] = &[
    Kernel {
        name: "fib",
        wat: include_str!("../kernels/fib.wat"),
        jit_n: 30,
        interp_n: 24,
        tiny_n: 15,
        reference: fib,
        needs: Needs::NONE,
    },
    Kernel {
        name: "sieve",
        wat: include_str!("../kernels/sieve.wat"),
        jit_n: 2_000_000,
        interp_n: 200_000,
        tiny_n: 10_000,
        reference: sieve,
        needs: Needs::NONE,
    },
    Kernel {
        name: "sieve64",
        wat: include_str!("../kernels/sieve64.wat"),
        jit_n: 2_000_000,
        interp_n: 200_000,
        tiny_n: 10_000,
        reference: sieve,
        needs: Needs::NONE,
    },
    Kernel {
        name: "matmul",
        wat: include_str!("../kernels/matmul.wat"),
        jit_n: 160,
        interp_n: 48,
        tiny_n: 12,
        reference: matmul,
        needs: Needs::NONE,
    },
    Kernel {
        name: "hash",
        wat: include_str!("../kernels/hash.wat"),
        jit_n: 3_000_000,
        interp_n: 100_000,
        tiny_n: 5_000,
        reference: hash,
        needs: Needs::NONE,
    },
    Kernel {
        name: "memcopy",
        wat: include_str!("../kernels/memcopy.wat"),
        jit_n: 200,
        interp_n: 4,
        tiny_n: 1,
        reference: memcopy,
        needs: Needs::NONE,
    },
    Kernel {
        name: "indirect",
        wat: include_str!("../kernels/indirect.wat"),
        jit_n: 5_000_000,
        interp_n: 200_000,
        tiny_n: 10_000,
        reference: indirect,
        needs: Needs::NONE,
    },
    Kernel {
        name: "float",
        wat: include_str!("../kernels/float.wat"),
        jit_n: 300,
        interp_n: 60,
        tiny_n: 10,
        reference: float,
        needs: Needs::NONE,
    },
    Kernel {
        name: "simd",
        wat: include_str!("../kernels/simd.wat"),
        jit_n: 2_000,
        interp_n: 10,
        tiny_n: 2,
        reference: simd,
        needs: Needs::NONE,
    },
    Kernel {
        name: "throw",
        wat: include_str!("../kernels/throw.wat"),
        jit_n: 100_000,
        interp_n: 50_000,
        tiny_n: 100,
        reference: throw,
        needs: Needs {
            exceptions: true,
            gc: false,
        },
    },
    Kernel {
        name: "gc",
        wat: include_str!("../kernels/gc.wat"),
        jit_n: 100_000,
        interp_n: 50_000,
        tiny_n: 200,
        reference: gc,
        needs: Needs {
            exceptions: false,
            gc: true,
        },
    },
];

pub fn by_name(name: &str) -> Option<&'static Kernel> {
    KERNELS.iter().find(|k| k.name == name)
}

fn fib(n: i32) -> i64 {
    let (mut a, mut b) = (0u32, 1u32);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    i64::from(a)
}

fn sieve(n: i32) -> i64 {
    let n = n as usize;
    let mut composite = vec![false; n.max(2)];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            let mut j = i * i;
            while j < n {
                composite[j] = true;
                j += i;
            }
        }
    }
    count
}

fn matmul(n: i32) -> i64 {
    let n = n as usize;
    let a = |i: usize, k: usize| ((i + 2 * k) % 7) as f64;
    let b = |k: usize, j: usize| ((3 * k + j) % 5) as f64;
    let mut sum = 0.0f64;
    let mut c = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            let mut acc = 0.0;
            for k in 0..n {
                acc += a(i, k) * b(k, j);
            }
            c[i * n + j] = acc;
        }
    }
    for v in c {
        sum += v;
    }
    sum as i64
}

fn hash(n: i32) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..n as u32 {
        for b in i.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        h ^= h.rotate_left(23);
    }
    h as i64
}

fn memcopy(n: i32) -> i64 {
    const L: usize = 65536;
    let mut mem = vec![0u8; 2 * L];
    for (i, b) in mem[..L].iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(31) as u8;
    }
    for k in 0..n {
        mem.copy_within(0..L, L);
        mem.copy_within(L + 1..2 * L, 0);
        mem[L - 1] = k as u8;
    }
    let mut h: u64 = 0;
    for w in mem[L..].chunks_exact(8) {
        h = h
            .wrapping_mul(31)
            .wrapping_add(u64::from_le_bytes(w.try_into().unwrap()));
    }
    h as i64
}

fn indirect(n: i32) -> i64 {
    let mut acc: u32 = 1;
    for i in 0..n as u32 {
        acc = match (i ^ acc) & 3 {
            0 => acc.wrapping_add(i),
            1 => acc.wrapping_sub(i << 1),
            2 => acc ^ i.wrapping_mul(0x9e37_79b9),
            _ => (acc | 1).wrapping_mul(0x0100_0193),
        };
    }
    i64::from(acc)
}

fn simd(n: i32) -> i64 {
    let mut words: Vec<u32> = (0..4096u32)
        .map(|i| i.wrapping_mul(0x9e37_79b1) >> 16)
        .collect();
    let mut acc = [0u32; 4];
    for _ in 0..n {
        for chunk in words.chunks_exact_mut(4) {
            let v = [chunk[0], chunk[1], chunk[2], chunk[3]];
            for l in 0..4 {
                acc[l] = acc[l].wrapping_add(v[l].wrapping_mul(v[l]));
                chunk[l] = (v[l] ^ v[(l + 1) % 4]).wrapping_add(1);
            }
        }
    }
    acc.iter().map(|&x| i64::from(x)).sum()
}

fn float(n: i32) -> i64 {
    let step = 3.0 / f64::from(n as u32);
    let mut total: i64 = 0;
    let mut roots = 0.0f64;
    for py in 0..n as u32 {
        let cy = f64::from(py) * step - 1.5;
        for px in 0..n as u32 {
            let cx = f64::from(px) * step - 2.0;
            let (mut x, mut y) = (0.0f64, 0.0f64);
            let mut it = 0;
            let (xx, yy) = loop {
                let xx = x * x;
                let yy = y * y;
                if xx + yy > 4.0 || it >= 100 {
                    break (xx, yy);
                }
                y = 2.0 * x * y + cy;
                x = xx - yy + cx;
                it += 1;
            };
            total += it;
            roots += (xx + yy).sqrt();
        }
    }
    total + roots as i64
}

fn throw(n: i32) -> i64 {
    (0..n as u64)
        .map(|i| if i % 4 == 0 { 7 } else { i * 3 + 1 })
        .fold(0u64, u64::wrapping_add) as i64
}

fn gc(n: i32) -> i64 {
    let n = n as u64;
    let list = n * n.saturating_sub(1) / 2;
    let points: u64 = (0..n / 64)
        .map(|r| (0..64).map(|j| r * j).sum::<u64>())
        .sum();
    list.wrapping_add(points) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_match_known_values() {
        assert_eq!(fib(30), 832_040);
        assert_eq!(sieve(1_000_000), 78_498);
        assert_eq!(sieve(100), 25);
        // 2x2: A = [[0,2],[1,3]], B = [[0,1],[3,4]] -> C = [[6,8],[9,13]], sum 36
        assert_eq!(matmul(2), 36);
        // rounds 0..4: 7, 4, 7, 10
        assert_eq!(throw(4), 28);
        // list 0..128 sums to 8128; rounds 0 and 1 of the points: 0 + (0 + 1 + ... + 63)
        assert_eq!(gc(128), 8128 + 2016);
    }
}
