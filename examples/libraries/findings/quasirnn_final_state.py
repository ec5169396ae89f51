"""speechbrain's QuasiRNNLayer returns c[-1, :, :] after moving the batch first: the last
sequence's cell state at every step, (T, H), where every sequence's final state, (B, H), is meant;
fed back as the next call's state it is wrong, or the wrong shape.  The output's last step is the
truth (h = o c, so c = h / o is checked through h at the last step)."""
import importlib.util
import sys
import types

import torch

root = importlib.util.find_spec("speechbrain").submodule_search_locations[0]
for name in ("speechbrain", "speechbrain.nnet", "speechbrain.dataio", "speechbrain.utils"):  # skip torchaudio
    package = types.ModuleType(name)
    package.__path__ = [root + name[len("speechbrain"):].replace(".", "/")]
    sys.modules[name] = package
sys.modules["speechbrain.dataio.dataio"] = types.SimpleNamespace(length_to_mask=None)
from speechbrain.nnet.RNN import QuasiRNNLayer  # noqa: E402

torch.manual_seed(0)
layer = QuasiRNNLayer(2, 3, bidirectional=False, output_gate=False).double()  # h = c
x = torch.randn(4, 5, 2, dtype=torch.float64)  # B = 4, T = 5
h, c = layer(x)
print(f"QuasiRNNLayer, B=4 T=5 H=3: returned state {tuple(c.shape)}; every sequence's last step is (4, 3)")
sys.exit(0 if c.shape == h[:, -1].shape and torch.equal(c, h[:, -1]) else 1)
