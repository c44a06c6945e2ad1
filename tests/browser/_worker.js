// Module worker: runs the workload and posts { ok, result | error } back to the page.
// Imports are dynamic so that a module that fails to load is reported, not silent.
try {
  const lib = await import('/worker-dist/index.js');
  const { workload } = await import('./_workload.js');
  postMessage({ ok: true, result: await workload(lib) });
} catch (e) {
  postMessage({ ok: false, error: String(e && e.stack || e) });
}
