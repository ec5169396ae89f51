"""torch's parameter names, written once in ``reference.names``, against torch's own state_dict."""
import pytest
import torch

from reference import names


@pytest.mark.parametrize("cls, kwargs", [
    (torch.nn.LSTM, dict(num_layers=3, bidirectional=True, proj_size=2)),
    (torch.nn.GRU, dict(num_layers=2, bias=False)),
    (torch.nn.RNN, dict(num_layers=1, bidirectional=True)),
])
def test_parameter_names_are_torchs_in_torchs_order(cls, kwargs):
    module = cls(4, 3, **kwargs)
    expected = list(module.state_dict())
    assert names.parameter_names(kwargs["num_layers"], 2 if kwargs.get("bidirectional") else 1,
                                 bias=kwargs.get("bias", True), projections=bool(kwargs.get("proj_size"))) == expected


def test_parse_and_name_round_trip_and_refuse_other_names():
    assert names.parse("bias_hh_l12_reverse") == ("bias_hh", 12, 1)
    assert names.name(*names.parse("weight_hr_l0")) == "weight_hr_l0"
    assert names.parse("weight_p_l1_reverse") == ("weight_p", 1, 1)  # a variant's own kind
    for bad in ("weight_ih_l", "Weight_ih_l0", "weight_ih_l0_forward", "rnn.weight_ih_l0"):
        with pytest.raises(ValueError, match="not a recurrent parameter name"):
            names.parse(bad)


def test_layer_weights_cut_layers_and_directions_out_of_a_stack():
    weights = {n: n for n in names.parameter_names(3, 2)}
    upper = names.layer_weights(weights, 1, 2)
    assert upper == {names.name(k, layer - 1, d): names.name(k, layer, d)
                     for layer in (1, 2) for d in (0, 1) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    reverse = names.layer_weights(weights, 0, direction=1)
    assert reverse == {"weight_ih_l0": "weight_ih_l0_reverse", "weight_hh_l0": "weight_hh_l0_reverse",
                       "bias_ih_l0": "bias_ih_l0_reverse", "bias_hh_l0": "bias_hh_l0_reverse"}
