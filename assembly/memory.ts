// Linear-memory management for the TypeScript side: the only allocation in the module.
// Kernels never allocate; the wrapper reserves every region (params, grads, optimizer moments,
// workspaces) through alloc() and returns it with free(). The allocator is AssemblyScript's
// TLSF, so freed blocks are reused by later allocations.

/** Reserve `bytes` bytes, 16-byte aligned. Returns the byte offset of the block. */
export function alloc(bytes: usize): usize {
  const ptr = heap.alloc(bytes);
  memory.fill(ptr, 0, bytes);
  return ptr;
}

/** Return a block reserved by alloc(). */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Set n f32 values at ptr to zero. */
export function zero_f32(ptr: usize, n: i32): void {
  memory.fill(ptr, 0, <usize>n << 2);
}

/** Copy n f32 values from src to dst (regions may overlap). */
export function copy_f32(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}
