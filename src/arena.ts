// A model's regions of wasm linear memory: the only file that makes typed-array views of it.
//
// Regions are reserved through the module's allocator and remembered as byte offsets, never
// as views: memory.grow (any allocation can grow) detaches every existing view, so views
// are made on demand from the current buffer and must not be kept across an allocation.
// dispose() frees every region the arena reserved, for reuse by later models; the last arena
// disposed on an engine drops its instance (wasm.ts), so the memory itself is given back.
// getMemoryStats() reports what the live instances hold and what each model uses of it.
// Pointers are unsigned (wasm's usize): past 2 GiB the module returns them as negative i32,
// so every pointer is read back through `>>> 0` before it is stored or used for a view.
import { backendOf, liveEngines, releaseEngine, retainEngine, type Build, type Kernels } from './wasm.js';

/** A block of f32 (or i32) values in linear memory: byte offset and length in elements. */
export interface Region {
  readonly ptr: number;
  readonly length: number;
}

/** Largest single region, in bytes: the allocator's block limit (2^30) less headroom. */
export const MAX_REGION_BYTES = 2 ** 30 - 2 ** 16;

/** What getMemoryStats() reports. */
export interface MemoryStats {
  /** WebAssembly instances alive (at most one per backend; none once every model is disposed). */
  instances: number;
  /** Bytes of linear memory the live instances hold: what the process has reserved. */
  reservedBytes: number;
  /** Bytes in regions of live models (and arenas): parameters, gradients, optimizer moments, workspaces. */
  usedBytes: number;
  /** Per live model (or arena): its class, backend, and the bytes and number of its regions. */
  models: { owner: string; backend: Build | 'other'; bytes: number; regions: number }[];
}

/** The error for a disposed model used again: a TypeError, as for a detached ArrayBuffer,
 *  naming the function called (`where`) when the caller knows it. */
export function disposedError(where?: string): TypeError {
  return new TypeError(`${where ? `${where}: ` : ''}this model was disposed; its memory has been returned`);
}

/** Refused reservations whose message does not yet name the function the user called. */
const unnamed = new WeakSet<Error>();

/** The error for a reservation that does not fit; naming() puts the caller's name on it. */
function reservationError(message: string, cause?: unknown): RangeError {
  const e = new RangeError(message, cause === undefined ? undefined : { cause });
  unnamed.add(e);
  return e;
}

/** Run `fn` as one call of the user's (atomic): a reservation in it that does not fit is
 *  refused in the name of `where`, the function the user called (`generateMany: the generation
 *  workspace needs …`), and every workspace the call grew is put back as it was. Any other
 *  error, one from a callback of the user's included, passes unchanged. */
export function naming<T>(where: string, fn: () => T): T {
  try {
    return atomic(fn);
  } catch (e) {
    if (e instanceof Error && unnamed.has(e)) {
      unnamed.delete(e);
      e.message = `${where}: ${e.message}`;
    }
    throw e;
  }
}

/** The call under way, while atomic() runs: the regions it reserved, the regions it released
 *  (kept until it ends), and how to put back each workspace it replaced. */
interface Call {
  made: Map<Arena, Set<number>>;
  dropped: [Arena, Region][];
  undo: (() => void)[];
}
let call: Call | undefined;

/** Run `fn` so that, if it throws, the memory of every model is left as it was before: the
 *  regions reserved in it are freed, the regions released in it (a workspace replaced by a
 *  larger one) were kept and are given back to their owners, through the undo each owner
 *  registered (Arena.replacing). If it returns, what it released is freed then. Synchronous
 *  only; a call inside another joins it. While a call runs, a workspace it replaces and the
 *  new one are both held: a refusal then costs nothing, and a growth costs the old size until
 *  the call ends. */
export function atomic<T>(fn: () => T): T {
  if (call) return fn();
  const c: Call = call = { made: new Map(), dropped: [], undo: [] };
  let ok = false;
  try {
    const result = fn();
    ok = true;
    return result;
  } finally {
    call = undefined;
    if (ok) {
      for (const [arena, r] of c.dropped) arena.release(r);
    } else {
      for (const [arena, ptrs] of c.made) for (const ptr of ptrs) arena.release({ ptr, length: 0 });
      for (let i = c.undo.length - 1; i >= 0; i--) c.undo[i]();
    }
  }
}

/** Arenas not yet disposed, for getMemoryStats. */
const arenas = new Set<Arena>();
/** Regions reserved and not yet freed, over every arena in the process (leak checks). */
let live = 0;

/** The WebAssembly memory held now, and what each live model uses of it. */
export function getMemoryStats(): MemoryStats {
  const engines = liveEngines();
  const models = [...arenas].map((a) => ({ owner: a.owner, backend: backendOf(a.kernels) ?? 'other' as const, bytes: a.usedBytes, regions: a.regionCount }));
  return {
    instances: engines.length,
    reservedBytes: engines.reduce((s, e) => s + e.memoryBytes, 0),
    usedBytes: models.reduce((s, m) => s + m.bytes, 0),
    models,
  };
}

export class Arena {
  /** Bytes of each region, by pointer. */
  private regions = new Map<number, number>();
  private bytes = 0;
  private disposed = false;

  /** `owner` names who holds the arena in getMemoryStats() (a model's class). Keeps the
   *  kernels' engine alive until dispose(). */
  constructor(readonly kernels: Kernels, readonly owner = 'Arena') {
    retainEngine(kernels);
    arenas.add(this);
  }

  /** Reserve `length` zeroed 4-byte elements. */
  alloc(length: number, what: string): Region {
    this.assertLive();
    const bytes = this.checkSize(length, what);
    let ptr: number;
    try {
      ptr = this.kernels.alloc(bytes) >>> 0;
    } catch (e) {
      throw reservationError(`out of WebAssembly memory while reserving ${bytes} bytes for ${what}`, e);
    }
    this.regions.set(ptr, bytes);
    this.bytes += bytes;
    live++;
    if (call) {
      let made = call.made.get(this);
      if (!made) call.made.set(this, made = new Set());
      made.add(ptr);
    }
    return { ptr, length };
  }

  /** Refuse, as alloc() would, `length` values for `what` that one region cannot hold, without
   *  reserving anything (a call checks its largest workspace before it starts); returns the
   *  bytes. */
  checkSize(length: number, what: string): number {
    const bytes = Math.max(4, length * 4);
    if (!Number.isSafeInteger(bytes) || bytes > MAX_REGION_BYTES) {
      throw reservationError(`${what} needs ${length} values (${bytes} bytes); one region holds at most ${MAX_REGION_BYTES} bytes`);
    }
    return bytes;
  }

  /** Note that an owner is about to replace or drop its workspace (or add to it): if the call
   *  under way (atomic) throws, `undo` puts the workspace back as it was, once the regions the
   *  call reserved are freed. Outside a call there is nothing to undo. */
  replacing(undo: () => void): void {
    call?.undo.push(undo);
  }

  /** Several regions as one reservation: `make` reserves them through the function it is given;
   *  if one fails, those already made are released and the error is rethrown, so nothing is
   *  left half-built. */
  allocAll<T>(make: (alloc: (length: number, what: string) => Region) => T): T {
    const made: Region[] = [];
    try {
      return make((length, what) => {
        const r = this.alloc(length, what);
        made.push(r);
        return r;
      });
    } catch (e) {
      for (const r of made) this.release(r);
      throw e;
    }
  }

  /** Return one region to the allocator. Inside a call (atomic), a region reserved before it
   *  is only noted, and freed when the call returns: if it throws, its owner takes it back. */
  release(region: Region | undefined): void {
    const bytes = region && this.regions.get(region.ptr);
    if (bytes === undefined) return;
    const made = call?.made.get(this);
    if (call && !made?.has(region!.ptr)) {
      call.dropped.push([this, region!]);
      return;
    }
    made?.delete(region!.ptr);
    this.regions.delete(region!.ptr);
    this.bytes -= bytes;
    this.kernels.free(region!.ptr);
    live--;
  }

  /** A view of a region as f32, valid until the next allocation anywhere in the module. */
  f32(region: Region, offset = 0, length = region.length - offset): Float32Array<ArrayBuffer> {
    this.assertLive();
    return new Float32Array(this.kernels.memory.buffer, region.ptr + offset * 4, length);
  }

  /** A view of `length` f32 values at a byte pointer inside one of this arena's regions,
   *  valid until the next allocation anywhere in the module. */
  f32At(ptr: number, length: number): Float32Array<ArrayBuffer> {
    this.assertLive();
    return new Float32Array(this.kernels.memory.buffer, ptr, length);
  }

  /** The f64 a kernel wrote at the start of a region (two f32 elements). */
  f64(region: Region): number {
    this.assertLive();
    return new DataView(this.kernels.memory.buffer).getFloat64(region.ptr, true);
  }

  /** A view of a region as i32, valid until the next allocation anywhere in the module. */
  i32(region: Region, offset = 0, length = region.length - offset): Int32Array<ArrayBuffer> {
    this.assertLive();
    return new Int32Array(this.kernels.memory.buffer, region.ptr + offset * 4, length);
  }

  /** Bytes of linear memory the module holds now (all models on this backend). */
  get memoryBytes(): number {
    return this.kernels.memory.buffer.byteLength;
  }

  /** Bytes in this arena's regions. */
  get usedBytes(): number {
    return this.bytes;
  }

  get regionCount(): number {
    return this.regions.size;
  }

  /** Regions reserved and not yet freed, over every arena in the process. */
  static get liveRegions(): number {
    return live;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Free every region. The arena cannot be used afterwards; the last one on an engine drops
   *  the engine's instance. */
  dispose(): void {
    if (this.disposed) return;
    for (const ptr of this.regions.keys()) this.kernels.free(ptr);
    live -= this.regions.size;
    this.regions.clear();
    this.bytes = 0;
    this.disposed = true;
    arenas.delete(this);
    releaseEngine(this.kernels);
  }

  private assertLive(): void {
    if (this.disposed) throw disposedError();
  }
}
