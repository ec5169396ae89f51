"""What the origin notes ask: build an nn.RNN, run it on an input of length 3, compute the
same forward pass by hand with the oracle, and print both side by side."""
import numpy as np
import torch

import reference

torch.manual_seed(1)
rnn = torch.nn.RNN(input_size=5, hidden_size=2, num_layers=1, batch_first=True)
x = torch.randn(1, 3, 5)  # one sequence of length 3
with torch.no_grad():
    output, h_n = rnn(x)

weights = {name: tensor.detach().numpy() for name, tensor in rnn.state_dict().items()}
by_hand, _ = reference.rnn(x.numpy(), weights, mode="RNN_TANH", batch_first=True)

# The same steps written out: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
h = np.zeros(2)
manual = []
for t in range(3):
    h = np.tanh(weights["weight_ih_l0"] @ x[0, t].numpy() + weights["bias_ih_l0"]
                + weights["weight_hh_l0"] @ h + weights["bias_hh_l0"])
    manual.append(h)

print(f"{'t':>2}  {'nn.RNN':>24}  {'reference.rnn':>24}  {'written out':>24}")
for t in range(3):
    row = [output[0, t].numpy(), by_hand[0, t], manual[t]]
    print(f"{t:>2}  " + "  ".join(np.array2string(v, precision=6, floatmode="fixed").rjust(24) for v in row))
print("max |nn.RNN - reference.rnn| =", float(np.max(np.abs(output[0].numpy() - by_hand[0]))))
