"""Write a small real Minari dataset with Minari's own DataCollector."""

from __future__ import annotations

import gymnasium as gym
import minari


def collect_cartpole(
    env: minari.DataCollector, dataset_id: str, *, episodes: int, seed: int
) -> None:
    """Record ``episodes`` random CartPole episodes into ``dataset_id``."""
    env.reset(seed=seed)
    for _ in range(episodes):
        terminated = truncated = False
        while not (terminated or truncated):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        env.reset()
    env.create_dataset(
        dataset_id=dataset_id,
        algorithm_name="random",
        author="minari-namespaces tests",
        author_email="tests@example.com",
        code_permalink="https://example.com/tests",
        description="A few random CartPole episodes",
    )


def cartpole_collector(data_format: str | None = None) -> minari.DataCollector:
    """A DataCollector over gymnasium's CartPole-v1, writing ``data_format``
    (``hdf5``, ``arrow``; ``None``: Minari's default)."""
    return minari.DataCollector(gym.make("CartPole-v1"), data_format=data_format)
