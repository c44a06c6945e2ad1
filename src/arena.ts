// A model's regions of wasm linear memory: the only file that makes typed-array views of it.
//
// Regions are reserved through the module's allocator and remembered as byte offsets, never
// as views: memory.grow (any allocation can grow) detaches every existing view, so views
// are made on demand from the current buffer and must not be kept across an allocation.
// dispose() frees every region the arena reserved, for reuse by later models. Pointers are
// unsigned (wasm's usize): past 2 GiB the module returns them as negative i32, so every
// pointer is read back through `>>> 0` before it is stored or used for a view.
import type { Kernels } from './wasm.js';

/** A block of f32 (or i32) values in linear memory: byte offset and length in elements. */
export interface Region {
  readonly ptr: number;
  readonly length: number;
}

/** Largest single region, in bytes: the allocator's block limit (2^30) less headroom. */
export const MAX_REGION_BYTES = 2 ** 30 - 2 ** 16;

/** Regions reserved and not yet freed, over every arena in the process (leak checks). */
let live = 0;

export class Arena {
  private regions = new Set<number>();
  private disposed = false;

  constructor(readonly kernels: Kernels) {}

  /** Reserve `length` zeroed 4-byte elements. */
  alloc(length: number, what: string): Region {
    this.assertLive();
    const bytes = Math.max(4, length * 4);
    if (!Number.isSafeInteger(bytes) || bytes > MAX_REGION_BYTES) {
      throw new RangeError(`${what} needs ${length} values (${bytes} bytes); one region holds at most ${MAX_REGION_BYTES} bytes`);
    }
    let ptr: number;
    try {
      ptr = this.kernels.alloc(bytes) >>> 0;
    } catch (e) {
      throw new RangeError(`out of WebAssembly memory while reserving ${bytes} bytes for ${what}`, { cause: e });
    }
    this.regions.add(ptr);
    live++;
    return { ptr, length };
  }

  /** Return one region to the allocator. */
  release(region: Region | undefined): void {
    if (!region || !this.regions.delete(region.ptr)) return;
    this.kernels.free(region.ptr);
    live--;
  }

  /** A view of a region as f32, valid until the next allocation anywhere in the module. */
  f32(region: Region, offset = 0, length = region.length - offset): Float32Array {
    this.assertLive();
    return new Float32Array(this.kernels.memory.buffer, region.ptr + offset * 4, length);
  }

  /** A view of `length` f32 values at a byte pointer inside one of this arena's regions,
   *  valid until the next allocation anywhere in the module. */
  f32At(ptr: number, length: number): Float32Array {
    this.assertLive();
    return new Float32Array(this.kernels.memory.buffer, ptr, length);
  }

  /** A view of a region as i32, valid until the next allocation anywhere in the module. */
  i32(region: Region, offset = 0, length = region.length - offset): Int32Array {
    this.assertLive();
    return new Int32Array(this.kernels.memory.buffer, region.ptr + offset * 4, length);
  }

  /** Bytes of linear memory the module holds now (all models on this backend). */
  get memoryBytes(): number {
    return this.kernels.memory.buffer.byteLength;
  }

  /** Regions reserved and not yet freed, over every arena in the process. */
  static get liveRegions(): number {
    return live;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Free every region. The arena cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const ptr of this.regions) this.kernels.free(ptr);
    live -= this.regions.size;
    this.regions.clear();
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('this model was disposed; its memory has been returned');
  }
}
