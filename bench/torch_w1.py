"""PyTorch on the W1 workload, for the benchmarks: a character language model (one-hot tokens
in, softmax over the vocabulary at every step, cross-entropy averaged over the T*B steps,
Adam), one nn.RNN / nn.LSTM / nn.GRU layer and an nn.Linear head, as rnn-wasm's sequence
model. Run by bench/torch_w1.js:

    python3 torch_w1.py DIR

DIR/spec.json holds {cell, n_x, n_a, n_y, T, B, lr, threads, warmup, steps, layout}, where
layout lists the rnn-wasm parameter names, shapes and offsets of DIR/weights.f32 (the model's
flat f32 weights); DIR/x.i32 and DIR/y.i32 hold one (B, T) batch of token ids. Prints JSON:
{torch, threads, first_loss (the batch's loss with those weights, before any step), losses
(per step), ms (per step, after the warm-up)}.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn


def main(folder):
    spec = json.load(open(f"{folder}/spec.json"))
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    cell = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[spec["cell"]]
    rnn = cell(spec["n_x"], spec["n_a"], batch_first=True)
    head = nn.Linear(spec["n_a"], spec["n_y"])
    load_weights(folder, spec["layout"], rnn, head)
    B, T = spec["B"], spec["T"]
    x = torch.from_numpy(np.fromfile(f"{folder}/x.i32", dtype=np.int32).reshape(B, T).astype(np.int64))
    y = torch.from_numpy(np.fromfile(f"{folder}/y.i32", dtype=np.int32).reshape(B, T).astype(np.int64))
    onehot = nn.functional.one_hot(x, spec["n_x"]).float()
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=spec["lr"])
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        out, _ = rnn(onehot)
        loss = loss_fn(head(out).reshape(B * T, -1), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    with torch.no_grad():
        out, _ = rnn(onehot)
        first = loss_fn(head(out).reshape(B * T, -1), y.reshape(-1)).item()
    losses, ms = [], []
    for i in range(spec["warmup"] + spec["steps"]):
        t = time.perf_counter()
        losses.append(step())
        if i >= spec["warmup"]:
            ms.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "first_loss": first, "losses": losses, "ms": ms}))


def load_weights(folder, layout, rnn, head):
    """rnn-wasm's flat weights into the modules, by PyTorch name (head.* is the nn.Linear)."""
    flat = np.fromfile(f"{folder}/weights.f32", dtype=np.float32)
    modules = {"head": head}
    with torch.no_grad():
        for e in layout:
            prefix, _, name = e["name"].rpartition(".")
            target = getattr(modules.get(prefix, rnn), name)
            values = flat[e["offset"]:e["offset"] + int(np.prod(e["shape"]))].reshape(e["shape"])
            target.copy_(torch.from_numpy(values.copy()))


if __name__ == "__main__":
    main(sys.argv[1])
