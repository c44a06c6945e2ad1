/// <reference types="node" />
// Whether a command can write its output files, checked before it does any work, so that a
// long run does not end in EISDIR or ENOENT: no output path is (or names) a directory, and the
// directory each one goes in is a directory that takes a new file (a probe file is created and
// removed there). A directory that does not exist yet is judged by its nearest existing
// ancestor, where the command will make it. A failure is a UsageError naming the flag.
import { randomBytes } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from './args.js';

/** One file a command writes: its path and what it is ("the checkpoint"); the first file is
 *  the one the flag names. */
export interface OutputFile {
  path: string;
  what: string;
}

/** Throw a UsageError naming `flag` unless every file can be written. */
export async function checkWritable(command: string, flag: string, files: readonly OutputFile[]): Promise<void> {
  const where = `rnn-wasm ${command}: ${flag} ${JSON.stringify(files[0].path)}`;
  for (const [i, f] of files.entries()) {
    const named = /[\\/]$/.test(f.path);
    if (named || (await stat(f.path).catch(() => undefined))?.isDirectory()) {
      const is = named ? 'names a directory' : 'is a directory';
      throw new UsageError(i === 0
        ? `${where} ${is}; give a file path, e.g. ${flag} ${join(f.path, 'model.safetensors')}`
        : `${where}: ${f.what} ${f.path} ${is}; remove it or choose another ${flag}`);
    }
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) {
    const existing = await nearestExisting(dir);
    if (!existing.isDirectory) throw new UsageError(`${where}: ${existing.path} is a file, not a directory`);
    const probe = join(existing.path, `.rnn-wasm-probe.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await (await open(probe, 'wx')).close();
      await unlink(probe);
    } catch (e) {
      // the system's reason without the probe's name: "EACCES: permission denied"
      const why = /^E[A-Z]+: [^,]*/.exec((e as Error).message)?.[0] ?? (e as Error).message;
      throw new UsageError(`${where}: cannot create files in ${existing.path} (${why})`);
    }
  }
}

/** `dir` or its nearest ancestor that exists, and whether that is a directory. */
async function nearestExisting(dir: string): Promise<{ path: string; isDirectory: boolean }> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      return { path: d, isDirectory: (await stat(d)).isDirectory() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(d) === d) throw e;
    }
  }
}
