// Builds the package (npm run build) unless dist/ is already newer than every source file, so
// that `npm start`, `npm run demo` and `npm run bench` work in a fresh clone without paying
// for a rebuild every time. (npm test always rebuilds.)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const outputs = ['dist/index.js', 'dist/node.js', 'dist/cli/main.js'].map((f) => join(root, f));

/** Newest modification time of the files under a folder (0 when it is missing). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

const built = outputs.every(existsSync) ? Math.min(...outputs.map((f) => statSync(f).mtimeMs)) : 0;
const sources = Math.max(newest(join(root, 'assembly')), newest(join(root, 'src')), statSync(join(root, 'tsconfig.json')).mtimeMs);
if (built < sources) {
  console.log(built === 0 ? 'building (dist/ is missing)…' : 'building (the sources changed since the last build)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}
