//! Where each function starts in a module's code: placed so that its inner loops touch as few
//! instruction-fetch lines as they can.
//!
//! The front ends of current x86-64 cores deliver a loop's instructions in 64-byte (fetch,
//! decoded-op cache) and 32-byte windows; a loop that spans one window more than it needs pays
//! for it on every iteration. Cranelift 0.135 does not align loop headers, so where a loop falls
//! is set by the code before it in its function and by where the function starts.
//! `kernel/memcopy`'s 30-byte copy loop showed it: at offset 0x73 of its function it crossed a
//! 64-byte line and ran at half the speed of the same instructions in Wasmtime, whose prologue
//! is 16 bytes shorter (on an AMD EPYC, the kernel took 1.60x Wasmtime's time in every run).
//!
//! So a function with inner loops starts at one of the four 16-byte steps after the previous
//! function that makes them touch the fewest lines, if that is strictly fewer than at the
//! ISA's preferred alignment; otherwise, and without loops, it starts aligned as before.
//! Loops up to [`MAX_LOOP`] bytes count, not only those that fit in a line: placing only the
//! small ones shifted the large loops of the functions after them, which cost CoreMark 7%.

/// The fetch line whose crossings count most.
const LINE: u32 = 64;
/// Start granularity: function entries stay 16-byte aligned.
const STEP: u32 = 16;
/// The largest loop counted.
const MAX_LOOP: u32 = 1024;

/// The innermost loops of a compiled function, up to [`MAX_LOOP`] bytes, as `[start, end)`
/// code offsets, from Cranelift's block starts (ascending) and CFG edges
/// (`machine_code_cfg_info`). A loop is a back edge, an edge to a block at or before its
/// source; it runs from the target to the end of the source block. An innermost loop contains
/// no other: loops of structured code nest, so in (start, end) order a loop is innermost unless
/// the one before it has the same start (and so lies inside it) or the one after it starts
/// inside it.
pub(crate) fn inner_loops(starts: &[u32], edges: &[(u32, u32)], len: u32) -> Vec<(u32, u32)> {
    let end_of = |block: u32| {
        let next = starts.partition_point(|&s| s <= block);
        starts.get(next).copied().unwrap_or(len)
    };
    let mut loops: Vec<(u32, u32)> = edges
        .iter()
        .filter(|&&(from, to)| to <= from)
        .map(|&(from, to)| (to, end_of(from)))
        .collect();
    loops.sort_unstable();
    loops.dedup();
    (0..loops.len())
        .filter(|&i| {
            let (s, e) = loops[i];
            let outer_of_previous = i > 0 && loops[i - 1].0 == s;
            let outer_of_next = loops.get(i + 1).is_some_and(|n| n.0 < e);
            e - s <= MAX_LOOP && !outer_of_previous && !outer_of_next
        })
        .map(|i| loops[i])
        .collect()
}

/// Where the next function starts in the code image, whose length so far is `at`: aligned to
/// `align`, unless a start at a [`STEP`] makes its `loops` (see [`inner_loops`]) touch
/// fewer fetch lines.
pub(crate) fn start(at: usize, loops: &[(u32, u32)], align: usize) -> usize {
    if loops.is_empty() {
        return at.next_multiple_of(align);
    }
    // Lines of `size` bytes that `[s, e)` touches, placed at `base`.
    let touched = |base: u32, (s, e): (u32, u32), size: u32| {
        if e <= s {
            0
        } else {
            (base + e - 1) / size - (base + s) / size + 1
        }
    };
    // A 64-byte line counts twice, a 32-byte window once.
    let cost = |base: u32| -> u32 {
        loops
            .iter()
            .map(|&l| 2 * touched(base, l, LINE) + touched(base, l, LINE / 2))
            .sum()
    };
    // The aligned start, unless one of the next starts at 16-byte steps is strictly cheaper
    // (the cheapest, the nearest among equals): moving a function whose loops are as well
    // placed either way only costs padding and the aligned entry.
    let aligned = at.next_multiple_of(align);
    let first = at.next_multiple_of(STEP as usize);
    let at_cost = |s: usize| cost((s % LINE as usize) as u32);
    (0..LINE / STEP)
        .map(|k| first + (k * STEP) as usize)
        .min_by_key(|&s| (at_cost(s), s))
        .filter(|&s| at_cost(s) < at_cost(aligned))
        .unwrap_or(aligned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `kernel/memcopy`'s function: an init loop, the copy loop at 0x73..0x92 (across the line
    /// at 0x80), the outer loop around it, and a checksum loop.
    #[test]
    fn the_copy_loop_is_moved_off_the_line_boundary() {
        let starts = [0x00, 0x3c, 0x57, 0x68, 0x71, 0x73, 0x92, 0xc6, 0xcb, 0xee];
        let edges = [
            (0x00, 0x3c),
            (0x3c, 0x3c),
            (0x3c, 0x57),
            (0x57, 0x68),
            (0x68, 0x71),
            (0x68, 0xc6),
            (0x71, 0x73),
            (0x73, 0x73),
            (0x73, 0x92),
            (0x92, 0x68),
            (0xc6, 0xcb),
            (0xcb, 0xcb),
            (0xcb, 0xee),
        ];
        let loops = inner_loops(&starts, &edges, 0x113);
        // The outer loop (0x68..0xc6) contains the copy loop, so it is not an inner one.
        assert_eq!(loops, vec![(0x3c, 0x57), (0x73, 0x92), (0xcb, 0xee)]);
        // At 0 the copy loop spans two lines; 16 bytes on, all three loops fit in one each.
        let s = start(0, &loops, 32);
        assert_eq!(s % 64, 16);
        for (a, b) in loops {
            assert_eq!((s as u32 + a) / 64, (s as u32 + b - 1) / 64);
        }
    }

    #[test]
    fn loop_free_functions_keep_the_preferred_alignment() {
        assert!(inner_loops(&[0, 10], &[(0, 10)], 20).is_empty());
        assert_eq!(start(70, &[], 32), 96);
        // A loop that is as well placed at the aligned start stays there.
        assert_eq!(start(70, &[(0, 16)], 32), 96);
    }
}
