"""Shared pytest configuration: one deterministic hypothesis profile for the whole suite.

``derandomize=True`` makes every run draw the same examples, so CI is
deterministic; ``deadline=None`` because a shared 2-core CI box has noisy timings.
"""

from hypothesis import settings

settings.register_profile("chainrule", max_examples=40, deadline=None, derandomize=True)
settings.load_profile("chainrule")
