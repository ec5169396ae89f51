"""The public strategies: arguments validated up front, shrinking toward the smallest configuration."""
import re

import pytest
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument


from conformance.checks.support import strategies
from conformance.config import PackingCase, RNNConfig


@pytest.mark.parametrize("call, says", [
    (lambda: strategies.configs(max_layers=0), "max_layers=0: expected an int >= 1"),
    (lambda: strategies.configs(modes=("LSTM2",)), "modes=('LSTM2',)"),
    (lambda: strategies.configs(features=("wings",)), "features=('wings',) contains ['wings']"),
    (lambda: strategies.sizes(max_value=0), "max_value=0"),
    (lambda: strategies.steps(max_steps=-1), "max_steps=-1"),
    (lambda: strategies.steps(max_steps=12, long_steps=5), "long_steps=5: expected 0 (no long sequences) or more than max_steps=12"),
    (lambda: strategies.sequence_lengths(0, 3), "batch=0"),
    (lambda: strategies.configs(max_batch=2, min_batch=3), "max_batch=2: expected an int >= 3"),
    (lambda: strategies.configs(sorted_lengths=True), "sorted_lengths=True: needs packed=True"),
    (lambda: strategies.configs(packed=True, features=("unbatched",)), "'unbatched' with packed=True"),
    (lambda: strategies.configs(min_batch=2, features=("unbatched",)), "min_batch=2 with 'unbatched'"),
    (lambda: strategies.packing_cases("pack_sequence"), "functions='pack_sequence': expected a non-empty tuple"),
    (lambda: strategies.packing_cases(("pad_sequence",), many=2), "many=2: expected an int >= 8"),
    (lambda: strategies.packing_cases(("pad_sequence",), enforce_sorted="yes"), "enforce_sorted='yes'"),
    (lambda: strategies.configs(production=("W",)), "production=('W',): expected True, False or a tuple of"),
    (lambda: strategies.configs(production=True, work_share=0), "work_share=0: expected a number in (0, 1]")])
def test_bad_arguments_raise_invalid_argument_naming_the_argument_and_value(call, says):
    with pytest.raises(InvalidArgument, match=re.escape(says)):
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
    assert smallest.bias and smallest.contiguous and smallest.weight_scale == 1.0 and smallest.seed == 0
    assert minimal(strategies.configs(), lambda c: True).mode == strategies.ALL_MODES[0]


@given(strategies.configs(packed=True) | strategies.configs(min_batch=2))
def test_default_features_are_those_the_input_can_have(config):
    assert config.batch is not None and config.batch >= 1


def test_packed_configurations_shrink_to_one_sequence_of_one_step():
    smallest = minimal(strategies.configs(features=(), packed=True), lambda c: True)
    assert (smallest.lengths, smallest.steps, smallest.batch) == ((1,), 1, 1)


def test_shrinks_only_what_a_property_needs():
    found = minimal(strategies.configs(), lambda c: c.num_layers >= 3 and c.bidirectional)
    assert (found.num_layers, found.hidden_size, found.steps) == (3, 1, 1)


@given(strategies.configs(features=("hx", "bidirectional"), packed=True, sorted_lengths=True))
def test_packed_lengths_fit_the_padded_length_and_are_sorted(config):
    assert len(config.lengths) == config.batch and max(config.lengths) <= config.steps
    assert list(config.lengths) == sorted(config.lengths, reverse=True) and min(config.lengths) >= 1


@given(strategies.configs(features=("hx",), modes=("LSTM",)))
def test_features_left_out_are_never_drawn(config):
    assert config.num_layers == 1 and not config.bidirectional and config.bias and config.batch is not None


def test_config_prints_compactly():
    text = str(RNNConfig(mode="LSTM", input_size=3, hidden_size=5, proj_size=2, num_layers=2, bidirectional=True,
                         steps=4, batch=None, with_hx=True, lengths=None, seed=7))
    assert text == "LSTM(I=3,H=5,P=2,L=2,bi) T=4 unbatched hx scale=1 data_seed=7"


def test_named_random_streams_are_distinct_repeatable_and_closed():
    from conformance.checks.support import streams
    keys = [streams.key(name) for name in streams.STREAMS]
    assert len(set(keys)) == len(keys)
    first = [streams.rng(7, name).standard_normal(4) for name in streams.STREAMS]
    assert all((a == b).all() for a, b in zip(first, [streams.rng(7, n).standard_normal(4) for n in streams.STREAMS]))
    assert len({tuple(a) for a in first}) == len(first)
    with pytest.raises(KeyError, match="not in streams.STREAMS"):
        streams.rng(7, "wieghts")


def test_packing_cases_shrink_to_one_sequence_of_one_step_with_every_option_off():
    smallest = minimal(strategies.packing_cases(("pad_sequence", "pack_sequence")), lambda c: True)
    assert smallest == PackingCase("pad_sequence", (1,), steps=1)
    assert str(smallest) == "pad_sequence(lengths=[1], T=1) data_seed=0"  # no trailing dimensions: nothing said
    assert "*=(2, 3)" in str(PackingCase("pad_sequence", (1,), steps=1, features=(2, 3)))


def test_a_packed_configuration_says_it_is_packed():
    from conformance.config import RNNConfig
    config = RNNConfig("LSTM", 1, 1, steps=2, batch=2, lengths=(1, 2))
    assert "T=2 B=2 packed lengths=[1, 2]" in str(config)
    assert "packed" not in str(config.with_(lengths=None))


@given(strategies.packing_cases(("pack_padded_sequence",), padding_side=False))
def test_packing_cases_fit_their_padded_length_and_sort_when_enforced(case):
    from conformance.checks.support.reach import current
    assert 1 <= min(case.lengths) and max(case.lengths) <= case.steps and 1 <= case.batch <= current().layer_batch
    assert case.total_length is None or case.total_length >= max(case.lengths)
    assert case.padding_side == "right" and len(case.features) <= 2
    if case.enforce_sorted:
        assert list(case.lengths) == sorted(case.lengths, reverse=True)


def test_packing_cases_draw_many_sequences_sometimes():
    found = minimal(strategies.packing_cases(("pack_sequence",)), lambda c: c.batch > 8)
    assert found.batch == 9 and found.lengths == (1,) * 9


def _drawn(strategy, count=200):
    found = []

    @settings(max_examples=count, database=None)
    @given(strategy)
    def collect(example):
        found.append(example)
    collect()
    return found


def test_production_draws_reach_each_dimension_within_the_budget():
    """One draw in two takes one dimension past where kernels tile (a width of the reach, past
    512 steps, past 64 sequences); its other dimensions are cut to the reach's work."""
    from conformance.checks.support.reach import REACHES
    drawn = _drawn(strategies.configs(modes=("LSTM", "GRU"), production=True))
    default = REACHES["default"]
    assert any(c.hidden_size in default.layer_sizes for c in drawn)
    assert any(c.input_size in default.layer_sizes for c in drawn)
    assert any(c.steps > 512 for c in drawn) and any((c.batch or 0) > 64 for c in drawn)
    for c in drawn:
        if max(c.hidden_size, c.input_size) > 130 or (c.batch or 0) > 64:
            assert strategies._cost(c) <= default.layer_work or (c.steps, c.batch) == (1, 1), c


def test_a_production_size_shrinks_to_the_smallest_that_fails():
    assert minimal(strategies.configs(modes=("GRU",), production=True), lambda c: c.hidden_size > 256).hidden_size == 257
    assert minimal(strategies.configs(modes=("GRU",), production=True), lambda c: c.steps > 512).steps == 513
    assert minimal(strategies.configs(modes=("GRU",), production=True),
                   lambda c: (c.batch or 0) > 64).batch == 65


def test_every_profile_has_a_reach_and_a_row_reaches_by_its_examples():
    from conformance.checks.support.reach import REACHES, current
    from conformance.run.profiles import PROFILES, reach
    assert set(REACHES) == set(PROFILES)
    assert reach(PROFILES["default"]) == REACHES["default"] == current()
    assert reach(PROFILES["thorough"]) == REACHES["thorough"] and reach(1) == REACHES["quick"]
    assert REACHES["thorough"].steps > 1000 and REACHES["default"].steps > 256
