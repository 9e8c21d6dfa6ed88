"""A stand-in for the Hugging Face Hub on 127.0.0.1, for tests and demos: PROVISIONAL.

It imitates someone else's HTTP API, so it follows each change of ``huggingface_hub``
and may change with it in any release; it is not part of the stable
``minari_namespaces.testing`` API (and not in its ``__all__``).

- :mod:`~minari_namespaces.testing.hub.server`: :class:`HubStandIn`, the server to
  start (``python -m minari_namespaces.testing.hub.server --port 8000``);
- :mod:`~minari_namespaces.testing.hub.http`: its routes, answers and faults;
- :mod:`~minari_namespaces.testing.hub.model`: what it stores.
"""

from minari_namespaces.testing.hub.server import HubStandIn

__all__ = ["HubStandIn"]
