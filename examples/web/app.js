// The demo page: the text, the model settings and the buttons, the live learning curve and
// text, and the models saved in this browser. Training runs in worker.js, so the page stays
// responsive; the chart is the same SVG `rnn-wasm train` writes (curve.js). window.demo
// exposes the chart's rows and the worker requests to the tests (tests/demo.test.ts).
import { deleteSaved, downloadModel, listSaved } from '/rnn-wasm/index.js';
import { curveSVG } from '/rnn-wasm/cli/curve.js';

const $ = (id) => document.getElementById(id);
const worker = new Worker('./worker.js', { type: 'module' });
const rows = [];                          // the learning curve: one row per logged step
const pending = new Map();                // request id → { resolve, reject }
let nextId = 1;
let summary;                              // what the worker says of its model

/** Ask the worker; resolves with its answer. */
function call(type, payload = {}) {
  const id = nextId++;
  worker.postMessage({ id, type, ...payload });
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

worker.onmessage = ({ data }) => {
  if (data.id !== undefined) {
    const p = pending.get(data.id);
    pending.delete(data.id);
    if (data.ok) p.resolve(data.result);
    else p.reject(new Error(data.error));
    return;
  }
  events[data.event]?.(data);
};
worker.onerror = (e) => showStatus(`the worker failed: ${e.message || 'it could not load'}`, true);

const events = {
  progress({ step, epoch, loss, tokensPerSecond }) {
    const last = rows.at(-1);
    const held = last ? `, held-out ${(last.heldOutLoss / Math.LN2).toFixed(2)}` : '';
    showStatus(`step ${step} · epoch ${epoch} · loss ${loss.toFixed(3)} · ${(loss / Math.LN2).toFixed(2)} bits/char${held} · ${Math.round(tokensPerSecond).toLocaleString('en')} chars/s`);
  },
  row({ row }) {
    rows.push(row);
    drawChart();
  },
  text({ text, fresh }) {
    const out = $('generated');
    if (fresh) out.textContent = '';
    out.textContent += text;
    out.scrollTop = out.scrollHeight;
  },
  stopped({ reason, steps, threads, error }) {
    setTraining(false);
    const where = threads > 1 ? ` on ${threads} worker threads` : '';
    showStatus(reason === 'error' ? `training failed: ${error}` : `stopped after ${steps} steps${where}; ${describeModel()}`, reason === 'error');
  },
};

function drawChart() {
  const s = summary;
  $('chart').innerHTML = curveSVG(rows, `${s.cell.toUpperCase()} ${s.layers}×${s.hidden} · ${s.numParams.toLocaleString('en')} parameters`, 'character');
}

function showStatus(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function describeModel() {
  return summary ? `${summary.cell.toUpperCase()}, ${summary.layers} × ${summary.hidden}, ${summary.numParams.toLocaleString('en')} parameters, ${summary.vocab} characters` : 'no model';
}

function setTraining(on) {
  $('train').disabled = on;
  $('stop').disabled = !on;
  for (const id of ['generate-more', 'save', 'download', 'upload']) $(id).disabled = on;
}

/** Run an action from a button; show its error instead of throwing. */
const guarded = (action) => async () => {
  try {
    await action();
  } catch (e) {
    showStatus(e.message, true);
  }
};

// --- 1 · text ---

async function loadDefaultText() {
  const response = await fetch('/data/pride-and-prejudice.txt');
  $('text').value = response.ok ? await response.text() : '';
  textChanged();
}

function textChanged() {
  $('text-info').textContent = `${$('text').value.length.toLocaleString('en')} characters`;
}

$('text').addEventListener('input', textChanged);
$('text-file').addEventListener('change', async () => {
  const file = $('text-file').files[0];
  if (!file) return;
  $('text').value = await file.text();
  textChanged();
});

// --- 2 · model and training ---

/** Thread choices up to the machine's cores; by default one core is left for the page. */
function offerThreads() {
  const cores = navigator.hardwareConcurrency || 1;
  const choices = [1, 2, 4, 8].filter((n) => n === 1 || n <= cores);
  $('threads').innerHTML = choices.map((n) => `<option>${n}</option>`).join('');
  $('threads').value = String(choices.filter((n) => n <= Math.max(1, cores - 1)).at(-1));
}
offerThreads();

$('train').addEventListener('click', guarded(async () => {
  rows.length = 0;
  $('chart').innerHTML = '';
  setTraining(true);
  showStatus('preparing…');
  try {
    summary = await call('train', {
      text: $('text').value, cell: $('cell').value, hidden: Number($('hidden').value), layers: Number($('layers').value),
      seq: Number($('seq').value), lr: Number($('lr').value), threads: Number($('threads').value),
    });
  } catch (e) {
    setTraining(false);
    throw e;
  }
  $('save-name').value = `${summary.cell}-${summary.hidden}`;
  const threads = summary.threads > 1 ? `on ${summary.threads} worker threads` : 'in one worker';
  showStatus(`training ${threads}: ${describeModel()}, ${summary.windows.toLocaleString('en')} windows (${summary.heldOut} held out)`);
}));
$('stop').addEventListener('click', () => worker.postMessage({ type: 'stop' }));

// --- 3 · generated text ---

function sendSampling() {
  $('temperature-value').textContent = $('temperature').value;
  worker.postMessage({ type: 'sampling', temperature: Number($('temperature').value), topK: Number($('top-k').value) });
}
$('temperature').addEventListener('input', sendSampling);
$('top-k').addEventListener('change', sendSampling);
$('generate-more').addEventListener('click', guarded(() => call('generate', { length: 500 })));

// --- 4 · save and load ---

async function refreshSaved() {
  const list = $('saved');
  list.textContent = '';
  const saved = await listSaved();
  if (saved.length === 0) list.innerHTML = '<li class="muted">none yet</li>';
  for (const s of saved) {
    const li = document.createElement('li');
    li.dataset.name = s.name;
    const c = s.config;
    li.innerHTML = `<span class="name"></span><span class="meta"></span><button data-action="load">Load</button><button data-action="delete">Delete</button>`;
    li.querySelector('.name').textContent = s.name;
    li.querySelector('.meta').textContent = `${String(c.cell).toUpperCase()} ${c.layers}×${c.n_a} · ${(s.bytes / 1024).toFixed(0)} KiB · ${new Date(s.savedAt).toLocaleString()}`;
    li.querySelector('[data-action=load]').addEventListener('click', guarded(async () => {
      summary = await call('load', { name: s.name });
      $('save-name').value = s.name;
      showStatus(`loaded "${s.name}": ${describeModel()}`);
    }));
    li.querySelector('[data-action=delete]').addEventListener('click', guarded(async () => {
      await deleteSaved(s.name);
      await refreshSaved();
    }));
    list.append(li);
  }
}

$('save').addEventListener('click', guarded(async () => {
  const info = await call('save', { name: $('save-name').value });
  showStatus(`saved "${info.name}" in this browser (${(info.bytes / 1024).toFixed(0)} KiB)`);
  await refreshSaved();
}));
$('download').addEventListener('click', guarded(async () => {
  downloadModel(await call('bytes'), `${$('save-name').value || 'model'}.safetensors`);
}));
$('upload').addEventListener('change', guarded(async () => {
  const file = $('upload').files[0];
  if (!file) return;
  summary = await call('upload', { file });
  $('save-name').value = file.name.replace(/\.safetensors$/i, '');
  showStatus(`opened ${file.name}: ${describeModel()}`);
}));

window.demo = { rows, call, ready: Promise.all([loadDefaultText(), refreshSaved()]) };
