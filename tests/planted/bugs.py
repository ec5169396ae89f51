"""Planted bugs: each class is the correct reimplementation with one mistake that real RNN
code has made (PyTorch issue numbers where the bug happened there).  The suite's default
profile must reject every one; ``PLANTED`` lists them with the kind of mistake."""
import torch
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from .torch_rnn import TorchGRU, TorchLSTM, TorchRNN


class LSTMGateOrderIFOG(TorchLSTM):
    """CS231n's gate order i, f, o, g instead of torch's i, f, g, o."""

    def split(self, gates):
        i, f, o, g = gates.chunk(4, dim=1)
        return i, f, g, o


class LSTMGateOrderONNX(TorchLSTM):
    """ONNX's gate order i, o, f, c read as torch's."""

    def split(self, gates):
        i, o, f, g = gates.chunk(4, dim=1)
        return i, f, g, o


class GRUResetBeforeMatmul(TorchGRU):
    """d2l/ONNX-default GRU: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)."""

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, _ = params
        h = state[0]
        x_r, x_z, x_n = self.split(self.linear(x, w_ih, b_ih))
        h_r, h_z, _ = self.split(self.linear(h, w_hh, b_hh))
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        w_hn = w_hh.chunk(3, dim=0)[2]
        b_hn = None if b_hh is None else b_hh.chunk(3)[2]
        n = torch.tanh(x_n + self.linear(r * h, w_hn, b_hn))
        return [self.blend(z, n, h)]


class GRUUpdateGateInverted(TorchGRU):
    """h' = z * n + (1 - z) * h: the update gate's two sides exchanged."""

    def blend(self, z, n, h):
        return z * n + (1 - z) * h


class GRUResetUpdateSwapped(TorchGRU):
    """Reads the gate blocks as z, r, n instead of r, z, n."""

    def split(self, projection):
        z, r, n = projection.chunk(3, dim=1)
        return r, z, n


class RNNIgnoresReLU(TorchRNN):
    """nonlinearity='relu' accepted but tanh used."""

    def activation(self, a):
        return torch.tanh(a)


class LSTMHiddenBiasIgnored(TorchLSTM):
    """bias_hh never added."""

    def params(self, suffix):
        w_ih, w_hh, b_ih, _, w_hr = super().params(suffix)
        return w_ih, w_hh, b_ih, None, w_hr


class GRUInputBiasTwice(TorchGRU):
    """bias_ih added where bias_hh belongs."""

    def params(self, suffix):
        w_ih, w_hh, b_ih, _, w_hr = super().params(suffix)
        return w_ih, w_hh, b_ih, b_ih, w_hr


class LSTMFirstLayerStateEverywhere(TorchLSTM):
    """Every layer starts from hx[0] (MPS #91694: hidden only when hx is not zeros)."""

    def state_index(self, layer, direction):
        return direction


class GRUStateOrderDirectionMajor(TorchGRU):
    """h_n and hx indexed direction * num_layers + layer instead of layer * D + direction."""

    def state_index(self, layer, direction):
        return direction * self.num_layers + layer


class LSTMDirectionsConcatenatedBackwardFirst(TorchLSTM):
    """Bidirectional output concatenated [backward, forward] (ONNX export #10838)."""

    def concat_directions(self, outputs):
        return torch.cat(outputs[::-1], dim=-1)


class RNNReverseOutputNotFlipped(TorchRNN):
    """The reverse direction's outputs stored in processing order, not time order."""

    def collect_outputs(self, outputs, reverse):
        stacked = torch.stack(outputs)
        return stacked.flip(0) if reverse else stacked


class GRUPackedReverseStartsAtPadding(TorchGRU):
    """Packed input: the reverse direction runs from the padded end, through the padding."""

    def run_direction(self, x, lengths, state, params, reverse):
        return super().run_direction(x, None if reverse else lengths, state, params, reverse)


class GRUPackedReverseFinalAtLastElement(TorchGRU):
    """Packed input: the reverse direction's h_n gathered at each sequence's last element
    (``lengths - 1``, where the reverse direction starts), not at its first, where it ends."""

    def run_direction(self, x, lengths, state, params, reverse):
        output, last = super().run_direction(x, lengths, state, params, reverse)
        if reverse and lengths is not None:
            last = [output[(lengths - 1).to(output.device), torch.arange(output.size(1), device=output.device)]]
        return output, last


class LSTMPaddingUpdatesState(TorchLSTM):
    """Packed input: padded steps still update the state, so h_n is taken at the padded end."""

    def live_mask(self, t, lengths, x):
        return torch.ones(x.size(1), 1, dtype=torch.bool, device=x.device)


class LSTMStatesLeftInSortedOrder(TorchLSTM):
    """Packed input with enforce_sorted=False: h_n and c_n returned in sorted, not caller, order."""

    def forward(self, input, hx=None):
        output, (h_n, c_n) = super().forward(input, hx)
        if isinstance(input, PackedSequence) and input.sorted_indices is not None:
            order = input.sorted_indices.to(h_n.device)
            h_n, c_n = h_n[:, order], c_n[:, order]
        return output, (h_n, c_n)


class LSTMBatchFirstIgnored(TorchLSTM):
    """batch_first input read as time-major (MPS #80306)."""

    def to_time_major(self, x):
        return x


class GRUInitialStateIgnored(TorchGRU):
    """hx accepted and checked, then zeros used."""

    def initial_states(self, x, hx, batched):
        return [torch.zeros_like(s) for s in super().initial_states(x, hx, batched)]


class LSTMProjectionWithoutOutputGate(TorchLSTM):
    """With proj_size: h = W_hr tanh(c), the output gate forgotten."""

    def output(self, o, c, w_hr):
        return super().output(o, c, w_hr) if w_hr is None else torch.tanh(c) @ w_hr.t()


class LSTMCellStateSquashed(TorchLSTM):
    """c_n returned as tanh(c_n)."""

    def format_state(self, finals):
        return finals[0], torch.tanh(finals[1])


class RNNBatchOfOneSqueezed(TorchRNN):
    """A batch of one loses its batch dimension (an unconditional squeeze)."""

    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        if torch.is_tensor(output) and output.dim() == 3:
            output = output.squeeze(0 if self.batch_first else 1)
        return output, h_n


class GRUHiddenSizeOneBroadcast(TorchGRU):
    """hidden_size 1: the gate split mis-broadcasts the update gate across the batch."""

    def blend(self, z, n, h):
        if self.hidden_size == 1:
            z = z.mean(dim=0, keepdim=True)
        return super().blend(z, n, h)


class RNNLastStepDropped(TorchRNN):
    """Forward direction stops one step early for sequences longer than one."""

    def step_order(self, steps, reverse):
        order = super().step_order(steps, reverse)
        return order if reverse or steps == 1 else range(steps - 1)

    def collect_outputs(self, outputs, reverse):
        return torch.stack([o if o is not None else torch.zeros_like(outputs[0]) for o in outputs])


class LSTMWrongInputSizeAccepted(TorchLSTM):
    """An input of the wrong width is cropped or padded instead of rejected (#114874)."""

    def check_input(self, x, hx):
        if hx is not None:
            super().check_input(x, hx)

    def run_layers(self, x, lengths, states):
        if x.size(-1) != self.input_size:
            x = torch.nn.functional.pad(x, (0, max(0, self.input_size - x.size(-1))))[..., :self.input_size]
        return super().run_layers(x, lengths, states)


class GRUZeroLengthAccepted(TorchGRU):
    """A zero-length sequence returns empty output and hx instead of raising."""

    def check_input(self, x, hx):
        if x.size(0) > 0:
            super().check_input(x, hx)

    def run_layers(self, x, lengths, states):
        if x.size(0) == 0:
            return x.new_zeros(0, x.size(1), self.directions * self.hidden_size), states
        return super().run_layers(x, lengths, states)


class LSTMComputesInFloat32(TorchLSTM):
    """Computes in float32 whatever the dtype, casting back (a precision bug)."""

    def run_layers(self, x, lengths, states):
        saved = {n: p.data for n, p in self.named_parameters()}
        for p in self.parameters():
            p.data = p.data.float()
        try:
            out, finals = super().run_layers(x.float(), lengths, [s.float() for s in states])
        finally:
            for n, p in self.named_parameters():
                p.data = saved[n]
        return out.to(x.dtype), [f.to(x.dtype) for f in finals]


class RNNAssumesContiguousInput(TorchRNN):
    """Reads the input buffer as if it were contiguous (as_strided with dense strides)."""

    def to_time_major(self, x):
        dense = torch.as_strided(x, x.shape, torch.empty(x.shape).stride())
        return super().to_time_major(dense)


class LSTMHardSigmoid(TorchLSTM):
    """A piecewise-linear sigmoid approximation in the gates."""

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, w_hr = params
        h, c = state
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + self.linear(h, w_hh, b_hh))
        hard = torch.nn.functional.hardsigmoid
        i, f, g, o = hard(i), hard(f), torch.tanh(g), hard(o)
        c = f * c + i * g
        return [self.output(o, c, w_hr), c]


class GRUPackedOutputPadded(TorchGRU):
    """Packed input returns a padded tensor instead of a PackedSequence."""

    def pack_like(self, output, packed_input):
        padded, _ = pad_packed_sequence(super().pack_like(output, packed_input))
        return padded


class LSTMBiasesZeroedOnLoad(TorchLSTM):
    """load_state_dict keeps the weights but leaves biases at zero (MPS PR #94889)."""

    def load_state_dict(self, state_dict, strict=True, assign=False):
        result = super().load_state_dict(state_dict, strict, assign)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("bias"):
                    p.zero_()
        return result


class LSTMUpperLayersIgnoreDirections(TorchLSTM):
    """Layers >= 1 sized for one direction's output (quantizable LSTM #89357)."""

    def layer_input_size(self, out):
        return out


class LSTMStateDetachedAfterFirstStep(TorchLSTM):
    """Truncated BPTT by accident: the state is detached after the first step; forward exact."""

    def carry(self, state, step):
        return [s.detach() for s in state] if step == 1 else state


class GRUNoGradientToH0(TorchGRU):
    """h0 copied without autograd (a .data copy): no gradient reaches hx; forward exact."""

    def initial_states(self, x, hx, batched):
        return [s.detach() for s in super().initial_states(x, hx, batched)]


class _GatesGradientInWrongOrder(torch.autograd.Function):
    """h @ W_hh.T whose backward writes W_hh's gradient with gate blocks g and o exchanged."""

    @staticmethod
    def forward(ctx, h, weight):
        ctx.save_for_backward(h, weight)
        return h @ weight.t()

    @staticmethod
    def backward(ctx, grad):
        h, weight = ctx.saved_tensors
        i, f, g, o = (grad.t() @ h).chunk(4, dim=0)
        return grad @ weight, torch.cat([i, f, o, g])


class LSTMWeightHHGradientGatesSwapped(TorchLSTM):
    """A fused backward that writes weight_hh's gradient in gate order i, f, o, g; forward exact."""

    def cell(self, x, state, params):
        w_ih, w_hh, b_ih, b_hh, w_hr = params
        h, c = state
        hidden = _GatesGradientInWrongOrder.apply(h, w_hh) + (0 if b_hh is None else b_hh)
        i, f, g, o = self.split(self.linear(x, w_ih, b_ih) + hidden)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        return [self.output(o, c, w_hr), c]


class _ReadsGradientAsContiguous(torch.autograd.Function):
    """Identity whose backward reads the incoming gradient's storage as if it were dense (#619)."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        dense = torch.empty_like(grad, memory_format=torch.contiguous_format)
        return grad.as_strided(grad.shape, dense.stride(), grad.storage_offset())


class GRUBackwardAssumesContiguousGradient(TorchGRU):
    """The output's backward assumes a dense incoming gradient (cuDNN #619): wrong only when
    the upstream gradient is non-contiguous; forward exact."""

    def forward(self, input, hx=None):
        output, h_n = super().forward(input, hx)
        if isinstance(output, PackedSequence):
            return output._replace(data=_ReadsGradientAsContiguous.apply(output.data)), h_n
        return _ReadsGradientAsContiguous.apply(output), h_n


class RNNStatefulAcrossCalls(TorchRNN):
    """hx=None continues from the previous call's final state when the batch size matches
    (Keras' stateful=True leaking into torch semantics); every single call looks right."""

    def initial_states(self, x, hx, batched):
        states = super().initial_states(x, hx, batched)
        previous = getattr(self, "_last_state", None)
        if hx is None and previous is not None and previous.shape == states[0].shape:
            states = [previous]
        return states

    def format_state(self, finals):
        self._last_state = finals[0].detach()
        return finals[0]


class LSTMDropoutAfterLastLayer(TorchLSTM):
    """Dropout also applied to the last layer's output (torch applies it between layers only)."""

    def forward(self, input, hx=None):
        output, state = super().forward(input, hx)
        if isinstance(output, PackedSequence):
            return output._replace(data=self.between_layers(output.data)), state
        return self.between_layers(output), state


class GRUDropoutInEvalMode(TorchGRU):
    """Dropout between layers applied in eval mode too (training flag ignored)."""

    def between_layers(self, x):
        return torch.nn.functional.dropout(x, self.dropout, True)


class RNNDropoutOnRecurrentState(TorchRNN):
    """Dropout applied to the recurrent state between steps instead of between layers."""

    def between_layers(self, x):
        return x

    def carry(self, state, step):
        return [torch.nn.functional.dropout(s, self.dropout, self.training) for s in state]


class GRUDropoutNotRescaled(TorchGRU):
    """Dropout between layers zeroes units but forgets to scale the kept ones by 1 / (1 - p)."""

    def between_layers(self, x):
        if not self.training or not self.dropout:
            return x
        return x * torch.bernoulli(torch.full_like(x, 1.0 - self.dropout))


class RNNDropoutRateSquared(TorchRNN):
    """Drops units with probability p * p (a probability applied twice) while scaling the kept
    ones by 1 / (1 - p): right at p = 0 and p = 1, every single unit looks right, the rate does not."""

    def between_layers(self, x):
        if not self.training or not self.dropout:
            return x
        if self.dropout == 1.0:
            return torch.zeros_like(x)
        return x * torch.bernoulli(torch.full_like(x, 1.0 - self.dropout ** 2)) / (1.0 - self.dropout)


class _DropoutWithUnmaskedBackward(torch.autograd.Function):
    """Inverted dropout whose backward lets the gradient through every unit, dropped or not."""

    @staticmethod
    def forward(ctx, x, p):
        return x * torch.bernoulli(torch.full_like(x, 1.0 - p)) / (1.0 - p) if p < 1.0 else torch.zeros_like(x)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class LSTMDropoutBackwardIgnoresMask(TorchLSTM):
    """Dropout between layers whose backward ignores the mask (forward right in every mode)."""

    def between_layers(self, x):
        return _DropoutWithUnmaskedBackward.apply(x, self.dropout) if self.training and self.dropout else x


#: (class, the kind of mistake) for every planted bug.
PLANTED = [
    (LSTMGateOrderIFOG, "gate order"), (LSTMGateOrderONNX, "gate order"),
    (GRUResetBeforeMatmul, "GRU reset placement"), (GRUUpdateGateInverted, "GRU update gate"),
    (GRUResetUpdateSwapped, "gate order"), (RNNIgnoresReLU, "nonlinearity"),
    (LSTMHiddenBiasIgnored, "bias"), (GRUInputBiasTwice, "bias"),
    (LSTMFirstLayerStateEverywhere, "state slicing"), (GRUStateOrderDirectionMajor, "state ordering"),
    (LSTMDirectionsConcatenatedBackwardFirst, "direction ordering"), (RNNReverseOutputNotFlipped, "direction ordering"),
    (GRUPackedReverseStartsAtPadding, "packing"), (LSTMPaddingUpdatesState, "packing"),
    (LSTMStatesLeftInSortedOrder, "packing order"), (LSTMBatchFirstIgnored, "layout"),
    (GRUInitialStateIgnored, "initial state"), (LSTMProjectionWithoutOutputGate, "projection"),
    (LSTMCellStateSquashed, "final state"), (RNNBatchOfOneSqueezed, "edge size"),
    (GRUHiddenSizeOneBroadcast, "edge size"), (RNNLastStepDropped, "sequence length"),
    (LSTMWrongInputSizeAccepted, "input validation"), (GRUZeroLengthAccepted, "input validation"),
    (LSTMComputesInFloat32, "precision"), (RNNAssumesContiguousInput, "strides"),
    (LSTMHardSigmoid, "activation"), (GRUPackedOutputPadded, "packing contract"),
    (LSTMBiasesZeroedOnLoad, "weight loading"), (LSTMUpperLayersIgnoreDirections, "layer sizes"),
    (LSTMStateDetachedAfterFirstStep, "detached state"), (GRUNoGradientToH0, "gradient to h0"),
    (LSTMWeightHHGradientGatesSwapped, "weight gradient"), (GRUBackwardAssumesContiguousGradient, "gradient strides"),
    (RNNStatefulAcrossCalls, "batch composition"), (LSTMDropoutAfterLastLayer, "dropout"),
    (GRUDropoutInEvalMode, "dropout"), (RNNDropoutOnRecurrentState, "dropout"),
    (GRUDropoutNotRescaled, "dropout"), (LSTMDropoutBackwardIgnoresMask, "dropout gradient"),
    (RNNDropoutRateSquared, "dropout rate"), (GRUPackedReverseFinalAtLastElement, "packing"),
]

#: Bugs that every forward check misses: the family that must be the first to reject each.
ONLY_SEEN_BY = {LSTMStateDetachedAfterFirstStep: "gradients", GRUNoGradientToH0: "gradients",
                LSTMWeightHHGradientGatesSwapped: "gradients", GRUBackwardAssumesContiguousGradient: "gradients",
                RNNStatefulAcrossCalls: "metamorphic", LSTMDropoutAfterLastLayer: "metamorphic",
                GRUDropoutInEvalMode: "metamorphic", RNNDropoutOnRecurrentState: "metamorphic",
                GRUDropoutNotRescaled: "metamorphic", LSTMDropoutBackwardIgnoresMask: "metamorphic",
                RNNDropoutRateSquared: "metamorphic"}
