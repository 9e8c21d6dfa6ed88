"""Hypothesis settings for the property suite.

No deadline: a slow CI machine or an fsync must not fail a property (tests never
assert on wall-clock time). Example counts stay at Hypothesis' default of 100 for
the cheap identifier properties; the state machines set their own, smaller ones.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("minari-namespaces", deadline=None)
settings.load_profile("minari-namespaces")
