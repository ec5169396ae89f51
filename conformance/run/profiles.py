"""Run profiles: how many examples each check draws (the only place example counts live), and
which reach (``checks.support.reach``) a row of so many examples draws with.

Imports nothing heavy: the options (and so the pytest plugin) read PROFILES without
importing Hypothesis.
"""

#: max_examples per check and profile.
PROFILES = {"quick": 8, "default": 25, "thorough": 200}


def base_settings():
    """Settings shared by every property the suite runs (seeded per check by the runner), drawn
    by ``draws.BACKEND`` (whatever the user's source says, a seed draws the same examples).
    No ``explain`` phase: the suite words its own failure messages, and that phase reruns a
    failing example dozens of times after shrinking (most of a failing row's time)."""
    from hypothesis import HealthCheck, Phase

    from ..checks.support import draws
    backend = dict(backend=draws.BACKEND) if draws.register() else {}
    return dict(deadline=None, database=None, report_multiple_bugs=False, print_blob=False,
                suppress_health_check=list(HealthCheck), phases=[p for p in Phase if p != Phase.explain], **backend)


def reach(max_examples):
    """The Reach (``checks.support.reach``) of a row of ``max_examples`` examples: the largest
    profile's whose count it reaches (the quick one's below)."""
    from ..checks.support.reach import REACHES
    reached = [name for name, count in sorted(PROFILES.items(), key=lambda item: item[1]) if max_examples >= count]
    return REACHES[reached[-1] if reached else "quick"]


def max_examples(profile, override=None):
    return override if override is not None else PROFILES[profile]


def register_hypothesis_profiles():
    """Hypothesis profiles for the project's own tests, named like the suite's."""
    from hypothesis import settings
    for name, count in PROFILES.items():
        settings.register_profile(name, max_examples=count, **base_settings())
