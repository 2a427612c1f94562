//! Lane views of a `v128` (spec section 4.3.1, "Vector values": `lanes_t(v)` and its inverse).
//!
//! A shape module (`i8x16`, `u8x16`, ..., `f64x2`) reads a `v128` as an array of lanes and
//! writes one back. Lane 0 is the least significant: the byte order of memory.
//! The integer shapes come signed (`i*`) and unsigned (`u*`); the float shapes hold the
//! lanes' bits (`u32`/`u64`), so NaN payloads stay exact.
//!
//! Besides `lanes`/`from_lanes`, each shape has the three lanewise combinators the rules
//! are written with: `map` (unary), `zip` (binary) and `cmp` (a comparison, giving the
//! all-ones lane for true and zero for false).

macro_rules! shape {
    ($name:ident, $t:ty, $u:ty, $n:literal) => {
        // Not every shape needs every combinator.
        #[allow(dead_code)]
        pub mod $name {
            /// The lane type.
            pub type Lane = $t;
            /// Number of lanes.
            pub const N: usize = $n;
            /// Width of a lane in bits.
            pub const BITS: u32 = 128 / $n;

            /// `lanes(v)`.
            pub fn lanes(v: u128) -> [$t; $n] {
                std::array::from_fn(|i| (v >> (i as u32 * BITS)) as $t)
            }

            /// The inverse of `lanes`.
            pub fn from_lanes(l: [$t; $n]) -> u128 {
                l.iter().enumerate().fold(0, |v, (i, x)| {
                    v | (u128::from(*x as $u) << (i as u32 * BITS))
                })
            }

            /// Every lane set to `x`.
            pub fn splat(x: $t) -> u128 {
                from_lanes([x; $n])
            }

            /// A unary operation, lane by lane.
            pub fn map(a: u128, f: impl Fn($t) -> $t) -> u128 {
                from_lanes(lanes(a).map(f))
            }

            /// A binary operation, lane by lane.
            pub fn zip(a: u128, b: u128, f: impl Fn($t, $t) -> $t) -> u128 {
                let (a, b) = (lanes(a), lanes(b));
                from_lanes(std::array::from_fn(|i| f(a[i], b[i])))
            }

            /// A comparison, lane by lane: all ones where it holds, zero elsewhere.
            pub fn cmp(a: u128, b: u128, f: impl Fn($t, $t) -> bool) -> u128 {
                zip(a, b, |x, y| if f(x, y) { !0 } else { 0 })
            }
        }
    };
}

shape!(i8x16, i8, u8, 16);
shape!(u8x16, u8, u8, 16);
shape!(i16x8, i16, u16, 8);
shape!(u16x8, u16, u16, 8);
shape!(i32x4, i32, u32, 4);
shape!(u32x4, u32, u32, 4);
shape!(i64x2, i64, u64, 2);
shape!(u64x2, u64, u64, 2);
shape!(f32x4, u32, u32, 4);
shape!(f64x2, u64, u64, 2);
