"""The public strategies: arguments validated up front, shrinking toward the smallest configuration."""
import pytest
from hypothesis import given, settings


from conformance import strategies
from conformance.config import RNNConfig


@pytest.mark.parametrize("call, name", [
    (lambda: strategies.configs(max_layers=0), "max_layers"), (lambda: strategies.configs(modes=("LSTM2",)), "modes"),
    (lambda: strategies.configs(features=("wings",)), "features"), (lambda: strategies.sizes(max_value=0), "max_value"),
    (lambda: strategies.steps(max_steps=-1), "max_steps"), (lambda: strategies.sequence_lengths(0, 3), "batch")])
def test_bad_arguments_raise_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def minimal(strategy, condition):
    """The example Hypothesis reports after shrinking a property that fails when condition holds."""
    seen = []

    @settings(max_examples=200)
    @given(strategy)
    def prop(example):
        if condition(example):
            seen.append(example)
            raise AssertionError

    with pytest.raises(AssertionError):
        prop()
    return seen[-1]


def test_shrinks_to_the_smallest_configuration():
    smallest = minimal(strategies.configs(modes=("GRU",)), lambda c: True)
    assert (smallest.input_size, smallest.hidden_size, smallest.num_layers, smallest.steps, smallest.batch) == (1, 1, 1, 1, 1)
    assert not (smallest.bidirectional or smallest.batch_first or smallest.with_hx or smallest.proj_size)
    assert smallest.bias and smallest.contiguous and smallest.weight_scale == 1.0


def test_shrinks_only_what_a_property_needs():
    found = minimal(strategies.configs(), lambda c: c.num_layers >= 3 and c.bidirectional)
    assert (found.num_layers, found.hidden_size, found.steps) == (3, 1, 1)


@given(strategies.configs(packed=True, sorted_lengths=True))
def test_packed_lengths_fit_the_padded_length_and_are_sorted(config):
    assert len(config.lengths) == config.batch and max(config.lengths) <= config.steps
    assert list(config.lengths) == sorted(config.lengths, reverse=True) and min(config.lengths) >= 1


@given(strategies.configs(features=("hx",), modes=("LSTM",)))
def test_features_left_out_are_never_drawn(config):
    assert config.num_layers == 1 and not config.bidirectional and config.bias and config.batch is not None


def test_config_prints_compactly():
    text = str(RNNConfig(mode="LSTM", input_size=3, hidden_size=5, proj_size=2, num_layers=2, bidirectional=True,
                         steps=4, batch=None, with_hx=True, lengths=None, seed=7))
    assert text == "LSTM(I=3,H=5,P=2,L=2,bi) T=4 unbatched hx scale=1 seed=7"
