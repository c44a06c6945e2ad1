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
  copy_bytes(dst, src, <usize>n << 2);
}

/** memory.copy(dst, src, n) for the kernels, without its slow case. V8 copies with the C
 *  library's memmove, whose copies of 4 KB and more (rep movsb) ran 20–25× slower on an AMD
 *  Zen 3 when dst − src ≡ 16 (mod 4096) — which is the distance between two regions the
 *  allocator placed one after the other, sized in whole 4 KB (a 16-byte block header between).
 *  Copies of 2 KB and more go through a loop of vector (scalar build: 8-byte) loads and stores
 *  instead, as fast as memmove's good case within 1.5×; shorter ones, and a dst inside
 *  [src, src + n) (which needs a backward copy), stay with memory.copy. */
// @ts-ignore: decorator
@inline export function copy_bytes(dst: usize, src: usize, n: usize): void {
  if (n < 2048 || (dst > src && dst - src < n)) {
    memory.copy(dst, src, n);
    return;
  }
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 64 <= n; i += 64) {
      const a = v128.load(src + i), b = v128.load(src + i, 16), c = v128.load(src + i, 32), d = v128.load(src + i, 48);
      v128.store(dst + i, a); v128.store(dst + i, b, 16); v128.store(dst + i, c, 32); v128.store(dst + i, d, 48);
    }
  } else {
    for (; i + 32 <= n; i += 32) {
      const a = load<u64>(src + i), b = load<u64>(src + i, 8), c = load<u64>(src + i, 16), d = load<u64>(src + i, 24);
      store<u64>(dst + i, a); store<u64>(dst + i, b, 8); store<u64>(dst + i, c, 16); store<u64>(dst + i, d, 24);
    }
  }
  if (i < n) memory.copy(dst + i, src + i, n - i);         // under 64 bytes: no rep movsb
}
