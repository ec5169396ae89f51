"""speechbrain's LSTM, GRU and RNN wrappers take relative lengths (its recipes' float32 ``wav_lens``,
each length over the padded length) and turn them back into steps as ``lengths * x.size(1)``, which
torch's pack_padded_sequence truncates to int64: L / T * T in float32 falls below L for 193 of the
5,050 pairs with T <= 100, and 117 / 150 gives 116: the sequence loses its last step (1 / 61 gives 0:
an error).  The same torch LSTM on the sequence alone, its 117 steps, is the truth."""
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
from speechbrain.nnet.RNN import LSTM  # noqa: E402

torch.manual_seed(0)
layer = LSTM(3, input_size=2)
x = torch.randn(2, 150, 2)
relative = torch.tensor([150, 117], dtype=torch.float32) / 150  # wav_lens
_, (h_n, _) = layer(x, lengths=relative)
_, (alone, _) = layer.rnn(x[1:, :117])
error = (h_n[:, 1] - alone[:, 0]).abs().max().item()
print(f"speechbrain LSTM, lengths 150 and 117 of 150 as wav_lens: h_n of the second off by {error:.3g} "
      f"(117 / 150 * 150 in float32 = {(relative[1] * 150).item()!r})")
sys.exit(1 if error > 1e-6 else 0)
