"""The calling convention the worked examples share with FLA's and Mamba's kernels:
``op(q, k, v, <gates...>, scale=None, initial_state=None, output_final_state=False,
cu_seqlens=None, **options) -> (o, final_state)``, layout (B, T, H, D).

``Operation.__call__`` does what every example does the same way (takes the inputs in the
record's order, computes half precision in float32, repeats query/key heads for grouped value
heads, runs each sequence of a ``cu_seqlens`` batch from its own initial state) and leaves the
recurrence to ``run``: a step loop or a chunked form.  A planted bug overrides one method.
"""
import math

import torch


class Operation:
    """A recurrence operation of ``reference.recurrences``: ``inputs`` its positional names,
    ``grouped`` those over the H query/key heads (repeated to the value heads), ``states`` how
    many tensors its state is, ``scaled`` whether it takes a scale (1/sqrt(K) by default)."""

    rnn_conformance_variant = None
    inputs = ("q", "k", "v")
    grouped = ()
    states = 1
    scaled = True

    def __call__(self, *args, scale=None, initial_state=None, output_final_state=False, cu_seqlens=None, **options):
        if len(args) != len(self.inputs):
            raise TypeError(f"{type(self).__name__} takes {len(self.inputs)} inputs ({', '.join(self.inputs)}), "
                            f"got {len(args)}")
        x = dict(zip(self.inputs, args))
        dtype = args[0].dtype
        x = {name: value.to(self.compute_dtype(dtype)) for name, value in x.items()}
        x = self.broadcast_heads(x)
        if self.scaled and scale is None:
            scale = 1.0 / math.sqrt(x[self.inputs[0]].shape[-1])
        if initial_state is not None:
            initial_state = self.as_states(initial_state, self.compute_dtype(dtype))
        if cu_seqlens is None:
            out, final = self.run(x, scale, initial_state, **options)
        else:
            out, final = self.sequences(x, scale, initial_state, cu_seqlens, **options)
        final = final[0] if self.states == 1 else tuple(final)
        return out.to(dtype), (self.state_out(final, dtype) if output_final_state else None)

    def compute_dtype(self, dtype):
        """float32 for half-precision inputs (as real kernels accumulate), else the input's own."""
        return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype

    def as_states(self, initial_state, dtype):
        parts = (initial_state,) if self.states == 1 else tuple(initial_state)
        return tuple(p.to(dtype) for p in parts)

    def state_out(self, final, dtype):
        """The final state: in float32 for half-precision inputs (FLA's), else the input's dtype."""
        to = self.compute_dtype(dtype)
        return final.to(to) if self.states == 1 else tuple(f.to(to) for f in final)

    def broadcast_heads(self, x):
        """Query/key heads repeated for grouped value heads: head j of v uses head j // groups."""
        if not self.grouped:
            return x
        heads, value_heads = x[self.grouped[0]].shape[2], self.value_heads(x)
        return {name: value.repeat_interleave(value_heads // heads, dim=2) if name in self.grouped else value
                for name, value in x.items()}

    def value_heads(self, x):
        return x["v"].shape[2]

    def sequences(self, x, scale, initial_state, cu_seqlens, **options):
        """A varlen batch (B = 1, sequences concatenated along T): each sequence run alone from
        its own initial state; outputs concatenated, final states stacked."""
        offsets = [int(o) for o in cu_seqlens]
        outs, finals = [], []
        for n, (start, stop) in enumerate(zip(offsets[:-1], offsets[1:])):
            part = {name: value[:, start:stop] if self.per_token(name) else value for name, value in x.items()}
            state = self.sequence_state(initial_state, n, finals[-1] if finals else None)
            out, final = self.run(part, scale, state, **options)
            outs.append(out)
            finals.append(final)
        return torch.cat(outs, dim=1), tuple(torch.cat(parts) for parts in zip(*finals))

    def sequence_state(self, initial_state, n, previous):
        """Sequence n's initial state: its own (``previous``, the state sequence n - 1 ended
        in, is what a leaking kernel would start from)."""
        return None if initial_state is None else tuple(s[n:n + 1] for s in initial_state)

    def per_token(self, name):
        return True

    def run(self, x, scale, state, **options):
        """(o (B, T, ...), final state as a tuple) of equal-length sequences from ``state`` (a
        tuple, or None for zeros)."""
        raise NotImplementedError

