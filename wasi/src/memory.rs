//! The engine-neutral view of a guest's linear memory.

/// Why a guest memory access failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryError {
    /// The range lies (partly) outside the memory: the call fails with `EFAULT`.
    OutOfBounds,
    /// The engine gave the host no memory to work on: the call traps.
    Unavailable(String),
}

/// Byte-range access to the calling instance's memory 0.
pub trait GuestMemory {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), MemoryError>;
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), MemoryError>;
}

/// Little-endian helpers over any [`GuestMemory`].
pub(crate) trait GuestMemoryExt: GuestMemory {
    fn read_u32(&mut self, addr: u32) -> Result<u32, MemoryError> {
        let mut b = [0; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn read_bytes(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, MemoryError> {
        let mut v = vec![0; len as usize];
        self.read(addr, &mut v)?;
        Ok(v)
    }
    fn write_u32(&mut self, addr: u32, v: u32) -> Result<(), MemoryError> {
        self.write(addr, &v.to_le_bytes())
    }
    fn write_u64(&mut self, addr: u32, v: u64) -> Result<(), MemoryError> {
        self.write(addr, &v.to_le_bytes())
    }
}

impl<M: GuestMemory + ?Sized> GuestMemoryExt for M {}

/// Checked `[addr, addr + len)` within a memory of `size` bytes.
fn range(addr: u32, len: usize, size: usize) -> Result<std::ops::Range<usize>, MemoryError> {
    let start = addr as usize;
    let end = start.checked_add(len).ok_or(MemoryError::OutOfBounds)?;
    if end > size {
        return Err(MemoryError::OutOfBounds);
    }
    Ok(start..end)
}

/// Read `buf.len()` bytes at `addr` of `data`, a memory's bytes (each binding's `read`).
pub fn read_from(data: &[u8], addr: u32, buf: &mut [u8]) -> Result<(), MemoryError> {
    let r = range(addr, buf.len(), data.len())?;
    buf.copy_from_slice(&data[r]);
    Ok(())
}

/// Write `bytes` at `addr` of `data`, a memory's bytes (each binding's `write`).
pub fn write_into(data: &mut [u8], addr: u32, bytes: &[u8]) -> Result<(), MemoryError> {
    let r = range(addr, bytes.len(), data.len())?;
    data[r].copy_from_slice(bytes);
    Ok(())
}

/// The error of a call that needs memory when the program exports none.
pub fn no_memory() -> MemoryError {
    MemoryError::Unavailable("wasi: the program exports no memory".into())
}

/// A plain byte vector as guest memory (tests).
impl GuestMemory for Vec<u8> {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), MemoryError> {
        read_from(self, addr, buf)
    }
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), MemoryError> {
        write_into(self, addr, data)
    }
}
