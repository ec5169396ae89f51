"""A CfC layer (closed-form continuous-time, Hasani et al. 2022) with torch.nn.GRU's contract, in
the default mode of ``ncps.torch.CfC`` with one backbone layer of its own width
(``backbone_units``) and per-step ``timespans`` (forward's keyword: (T, B), (B, T) batch-first,
padded in batch order for packed input too; 1 where not given).  The equations:
``examples/cfc_variant.py``.
"""
import torch
import torch.nn.functional as F

from examples.recurrent import Recurrent

HEADS = ("ff1", "ff2", "ta", "tb")


def lecun_tanh(a):
    return 1.7159 * torch.tanh(0.666 * a)


class CfC(Recurrent):
    rnn_conformance_variant = "examples.cfc_variant:CFC"
    sizes = ("backbone_units",)
    side_inputs = ("timespans",)

    def shapes(self, in_size):
        shapes = {"weight_ih": (self.backbone_units, in_size), "weight_hh": (self.backbone_units, self.hidden_size),
                  "bias_ih": (self.backbone_units,)}
        shapes.update({f"weight_{head}": (self.hidden_size, self.backbone_units) for head in HEADS})
        shapes.update({f"bias_{head}": (self.hidden_size,) for head in HEADS})
        return shapes

    def step(self, x, state, p, side):
        b = lecun_tanh(F.linear(x, p("weight_ih"), p("bias_ih")) + F.linear(state[0], p("weight_hh")))
        head = lambda name: F.linear(b, p(f"weight_{name}"), p(f"bias_{name}"))
        f1, f2 = torch.tanh(head("ff1")), torch.tanh(head("ff2"))
        s = torch.sigmoid(head("ta") * side["timespans"] + head("tb"))
        return (f1 * (1 - s) + s * f2,)
