"""PyTorch as a contender in rnn-wasm's benchmarks, driven by bench/torch.js.

A long-lived process: one JSON request per line on stdin, one JSON response per line on stdout,
so a benchmark can interleave PyTorch's rounds with its other contenders'. The thread count is
fixed at start (argv[1]); torch.set_num_threads cannot be changed safely once work has run.

Requests ("op"):
  info                      -> torch version, BLAS, threads, the CPU capability torch uses
  train                     set up W1, a char LM training step on rnn-wasm's weights:
                            one-hot tokens (B, T, vocab) -> nn.RNN / nn.LSTM / nn.GRU (n_a,
                            batch_first) -> nn.Linear(n_a, vocab) on every step -> cross-entropy
                            (mean) -> Adam(lr). The one-hot batch is built once, outside the
                            timing. Returns the loss on the given weights and over `check` steps.
  generate                  set up W2, batch-1 generation: one token in, the state carried,
                            softmax over the head, the next token out. Returns the first `check`
                            greedy tokens after `prime`; the timed steps then draw each token
                            with torch.multinomial ("sample": true) or take the argmax.
  time                      run a set-up workload's step `reps` times per sample, `samples`
                            times; returns milliseconds per step for each sample by the wall
                            clock (ms) and by this process's CPU time, all threads together
                            (cpu_ms).
  close                     exit.

Weights arrive as a raw little-endian float32 file in rnn-wasm's layout order, with the names
and shapes of its layout table: PyTorch's own state_dict names (weight_ih_l0, ...), plus
head.weight / head.bias.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(THREADS)
torch.manual_seed(0)

CELLS = {'rnn': torch.nn.RNN, 'lstm': torch.nn.LSTM, 'gru': torch.nn.GRU}


class CharLM(torch.nn.Module):
    def __init__(self, cell, vocab, n_a):
        super().__init__()
        self.rnn = CELLS[cell](vocab, n_a, batch_first=True)
        self.head = torch.nn.Linear(n_a, vocab)

    def forward(self, x, state=None):
        out, state = self.rnn(x, state)
        return self.head(out), state


def load_weights(model, req):
    """rnn-wasm's flat weights (names, shapes, file) into the module."""
    flat = np.fromfile(req['weights'], dtype='<f4')
    state, offset = {}, 0
    for name, shape in zip(req['names'], req['shapes']):
        n = int(np.prod(shape))
        key = name if name.startswith('head.') else 'rnn.' + name
        state[key] = torch.from_numpy(flat[offset:offset + n].reshape(shape).copy())
        offset += n
    model.load_state_dict(state)


def info(_req):
    config = torch.__config__.show()
    blas = next((line.split('=', 1)[1].split(',')[0] for line in config.split('\n') if 'BLAS_INFO' in line), 'unknown')
    capability = next((line.split(':', 1)[1].strip() for line in config.split('\n') if 'CPU capability' in line), 'unknown')
    try:
        with open('/proc/self/maps') as f:
            libs = sorted({line.split()[-1].split('/')[-1] for line in f if 'blas' in line.lower() and '.so' in line})
    except OSError:
        libs = []
    return {'torch': torch.__version__, 'blas': blas, 'blas_libraries': libs, 'cpu_capability': capability,
            'threads': torch.get_num_threads(), 'python': sys.version.split()[0]}


def train(req):
    V, B, T = req['vocab'], req['B'], req['T']
    model = CharLM(req['cell'], V, req['n_a'])
    load_weights(model, req)
    opt = torch.optim.Adam(model.parameters(), lr=req['lr'])
    x = F.one_hot(torch.tensor(req['x'], dtype=torch.long), V).float()       # (B, T, V)
    y = torch.tensor(req['y'], dtype=torch.long).reshape(-1)                 # (B·T)

    def step():
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(B * T, V), y)
        loss.backward()
        opt.step()
        return loss.item()

    with torch.no_grad():
        initial = F.cross_entropy(model(x)[0].reshape(B * T, V), y).item()
    losses = [step() for _ in range(req.get('check', 5))]
    return step, {'initial_loss': initial, 'losses': losses}


def generate(req):
    V = req['vocab']
    model = CharLM(req['cell'], V, req['n_a'])
    load_weights(model, req)
    model.eval()
    rows = torch.eye(V).reshape(V, 1, 1, V)                                  # the one-hot input of each token
    box = {'state': None, 'token': 0}

    @torch.no_grad()
    def feed(token, draw):
        logits, box['state'] = model(rows[token], box['state'])
        p = torch.softmax(logits[0, -1], dim=-1)
        return int(torch.multinomial(p, 1)) if draw else int(torch.argmax(p))

    # the check: greedy tokens after the prime
    token = None
    for t in req['prime']:
        token = feed(t, False)
    greedy = []
    for _ in range(req.get('check', 50)):
        greedy.append(token)
        token = feed(token, False)
    box['token'] = token
    draw = req.get('sample', False)

    def step():
        box['token'] = feed(box['token'], draw)
    return step, {'tokens': greedy}


def main():
    workloads = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            op = req['op']
            if op == 'close':
                break
            if op == 'info':
                out = info(req)
            elif op in ('train', 'generate'):
                step, out = (train if op == 'train' else generate)(req)
                workloads[req['id']] = step
            elif op == 'time':
                step = workloads[req['id']]
                ms, cpu_ms = [], []
                for _ in range(req['samples']):
                    t0, c0 = time.perf_counter(), time.process_time()
                    for _ in range(req['reps']):
                        step()
                    ms.append((time.perf_counter() - t0) * 1000 / req['reps'])
                    cpu_ms.append((time.process_time() - c0) * 1000 / req['reps'])
                out = {'ms': ms, 'cpu_ms': cpu_ms}
            else:
                raise ValueError(f'unknown op {op!r}')
            print(json.dumps({'ok': True, **out}), flush=True)
        except Exception as e:          # report, keep serving
            print(json.dumps({'ok': False, 'error': f'{type(e).__name__}: {e}'}), flush=True)


if __name__ == '__main__':
    main()
