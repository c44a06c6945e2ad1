// npm run demo: a small static server for the demo page, with the right MIME types and no
// build step. It serves
//
//   /            examples/web/ (the page, its script and its worker)
//   /rnn-wasm/   the package's build (dist/); its one bare import, '@assemblyscript/loader',
//                is rewritten to /loader/index.js, as a bundler or dev server would, because
//                module workers do not read a page's import map
//   /loader/     @assemblyscript/loader
//   /data/       the repository's texts
//
// GET and HEAD only, nothing outside those folders, on 127.0.0.1 unless --host says otherwise.
// usage: node examples/web/serve.js [--port 8080] [--host 127.0.0.1]
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const loader = resolve(dirname(createRequire(import.meta.url).resolve('@assemblyscript/loader')), '..');

const MOUNTS = [
  { prefix: '/rnn-wasm/', dir: join(root, 'dist'), rewrite: true },
  { prefix: '/loader/', dir: loader },
  { prefix: '/data/', dir: join(root, 'data') },
  { prefix: '/', dir: here },
];

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8',
  '.wasm': 'application/wasm', '.safetensors': 'application/octet-stream',
};

/** The file a URL path names, or undefined when it names none (or lies outside the mounts). */
function fileFor(pathname) {
  const mount = MOUNTS.find((m) => pathname.startsWith(m.prefix));
  let rest;
  try {
    rest = decodeURIComponent(pathname.slice(mount.prefix.length)) || 'index.html';
  } catch {
    return undefined;
  }
  const file = resolve(mount.dir, '.' + sep + rest);
  if (!file.startsWith(mount.dir + sep) || !existsSync(file) || !statSync(file).isFile()) return undefined;
  return { file, rewrite: mount.rewrite === true && file.endsWith('.js') };
}

function handle(req, res) {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const found = req.method === 'GET' || req.method === 'HEAD' ? fileFor(pathname) : undefined;
  if (!found) {
    res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`not found: ${pathname}\n`);
    return;
  }
  const headers = {
    'content-type': MIME_TYPES[extname(found.file)] ?? 'application/octet-stream',
    'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
  };
  if (found.rewrite) {
    const body = readFileSync(found.file, 'utf8').replace(/(from\s*['"])@assemblyscript\/loader(['"])/g, '$1/loader/index.js$2');
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': statSync(found.file).size });
  if (req.method === 'HEAD') res.end();
  else createReadStream(found.file).pipe(res);
}

/** Start the server; resolves with it and its address once it listens (port 0: any free port). */
export function startServer({ port = 8080, host = '127.0.0.1' } = {}) {
  if (!existsSync(join(root, 'dist', 'index.js'))) return Promise.reject(new Error('dist/ is missing: build first (npm run build)'));
  const server = createServer(handle);
  return new Promise((done, fail) => {
    server.once('error', fail).listen(port, host, () => {
      const { port: bound } = server.address();
      done({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/` });
    });
  });
}

/** node serve.js [--port N] [--host H]: start, and say where to point the browser. */
function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: process.env.PORT ?? '8080' }, host: { type: 'string', default: '127.0.0.1' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve.js: --port expects a whole number from 0 to 65535, got ${JSON.stringify(values.port)}`);
    process.exit(2);
  }
  startServer({ port, host: values.host }).then(
    ({ url }) => console.log(`rnn-wasm demo: open ${url} (Ctrl-C stops the server)`),
    (e) => {
      console.error(`serve.js: ${e.code === 'EADDRINUSE' ? `port ${port} is in use; try --port ${port + 1}` : e.message}`);
      process.exit(1);
    });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
