"""Train a character-level LSTM in PyTorch, then hand its weights to rnn-wasm.

The PyTorch end of examples/pytorch/README.md: train where the GPUs are, deploy and fine-tune
in Node or the browser. Run with any Python that has torch (Debian: /usr/bin/python3 with
python3-torch):

    /usr/bin/python3 examples/pytorch/train_torch.py          # writes examples/pytorch/austen-lstm.safetensors
    node examples/pytorch/finetune.js                         # loads it in rnn-wasm

The model is nn.LSTM + nn.Linear, the same equations and tensor names as rnn-wasm's
{ cell: 'lstm', output: 'softmax' } model, so the state_dict loads without conversion.

To train on many GPUs or machines, wrap the module in DistributedDataParallel, exactly as
for any PyTorch model, and save the unwrapped module's state_dict (ddp.module.state_dict(),
whose names have no 'module.' prefix) on rank 0:

    torch.distributed.init_process_group("nccl")
    ddp = torch.nn.parallel.DistributedDataParallel(model.cuda(rank), device_ids=[rank])
    ...  # the same training loop, with a DistributedSampler over the sequences
    if rank == 0:
        save_file({k: v.float().cpu().contiguous() for k, v in ddp.module.state_dict().items()}, path)
"""
import json, os, struct
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

# data: the corpus npm start uses, as character ids
text = open(os.path.join(HERE, "..", "..", "data", "pride-and-prejudice.txt"), encoding="utf-8").read()
chars = sorted(set(text))
ids = torch.tensor([chars.index(c) for c in text])
T, B, n_a = 48, 32, 96


class CharLSTM(nn.Module):
    """nn.LSTM over one-hot characters, then nn.Linear to next-character logits."""

    def __init__(self, vocab, hidden):
        super().__init__()
        self.rnn = nn.LSTM(vocab, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        self.vocab = vocab

    def forward(self, x):
        out, _ = self.rnn(nn.functional.one_hot(x, self.vocab).float())
        return self.head(out)


model = CharLSTM(len(chars), n_a)
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
starts = torch.arange(0, len(ids) - T - 1, T)
for step in range(301):  # a few minutes of CPU; on GPUs, train far longer
    pick = starts[torch.randint(len(starts), (B,))]
    x = torch.stack([ids[s:s + T] for s in pick])
    y = torch.stack([ids[s + 1:s + T + 1] for s in pick])
    loss = nn.functional.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    if step % 50 == 0:
        print(f"step {step:4d}  loss {loss.item():.3f}")

# PyTorch's loss on a fixed slice of the text, for the JavaScript side to reproduce
with torch.no_grad():
    x, y = ids[1000:1000 + T].unsqueeze(0), ids[1001:1001 + T].unsqueeze(0)
    reference = nn.functional.cross_entropy(model(x)[0], y[0]).item()
print(f"PyTorch's loss on characters 1000..{1000 + T}: {reference:.6f}")

# the config rnn-wasm needs to rebuild the same model, and the vocabulary to encode text
config = {"cell": "lstm", "n_x": len(chars), "n_a": n_a, "n_y": len(chars), "input": "tokens", "output": "softmax"}
metadata = {"config_hint": json.dumps(config), "vocabulary": json.dumps("".join(chars)),
            "reference_loss": json.dumps({"start": 1000, "length": T, "loss": reference})}
state = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
path = os.path.join(HERE, "austen-lstm.safetensors")
try:
    from safetensors.torch import save_file
    save_file(state, path, metadata=metadata)
except ImportError:
    # safetensors' format, written by hand where the package is not installed: an 8-byte
    # little-endian header length, a JSON header (dtype, shape, byte offsets), then the data
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(state):
        data = state[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(state[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    os.replace(path + ".tmp", path)
print("wrote", path, "with", ", ".join(f"{k} {tuple(v.shape)}" for k, v in state.items()))

