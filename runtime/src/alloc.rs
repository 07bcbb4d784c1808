//! Output buffers of native kernels. A fresh large buffer costs a page fault per 4 KiB page
//! on first touch — on arrays of 1e7 elements more than the arithmetic itself — so buffers
//! of [`HUGE_PAGE_MIN`] bytes or more are marked for transparent huge pages
//! (`madvise(MADV_HUGEPAGE)`, Linux), which fault 2 MiB at a time.

use tensorlift_ir::value::try_buffer;
use tensorlift_ir::{Element, ValueError};

/// Buffers at least this large (in bytes) ask for huge pages.
pub const HUGE_PAGE_MIN: usize = 4 << 20;

/// An empty vector with room for the elements of an array of `shape`, its pages marked for
/// huge pages when large; `ValueError::Memory` (never an abort) when it cannot be had
/// (`tensorlift_ir::value::try_buffer`).
pub(crate) fn output_buffer<T: Element>(op: &str, shape: &[usize]) -> Result<Vec<T>, ValueError> {
    let v: Vec<T> = try_buffer(op, shape)?;
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes >= HUGE_PAGE_MIN {
        advise_huge(v.as_ptr() as usize, bytes);
    }
    Ok(v)
}

#[cfg(target_os = "linux")]
fn advise_huge(addr: usize, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = addr.next_multiple_of(HUGE);
    let end = (addr + len) / HUGE * HUGE;
    if end > start {
        // SAFETY: `start..end` lies inside the allocation `addr..addr + len` that the caller
        // owns; `madvise` with MADV_HUGEPAGE only changes how those pages are backed, never
        // their contents or mapping, and its failure (THP disabled) is harmless.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_addr: usize, _len: usize) {}
