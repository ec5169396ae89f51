"""Repository-level pytest setup for tests/: Hypothesis profiles and one torch thread per xdist worker."""
import os

from hypothesis import settings

from conformance.run.profiles import register_hypothesis_profiles

register_hypothesis_profiles()
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    # Two xdist workers on two cores each spawning two torch threads thrash: keep one each.
    if hasattr(config, "workerinput"):
        import torch
        torch.set_num_threads(1)
