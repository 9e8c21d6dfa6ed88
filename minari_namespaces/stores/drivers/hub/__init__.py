"""The Hugging Face Hub driver (``hf://ORG``): the driver itself
(:mod:`~minari_namespaces.stores.drivers.hub.driver`), its datasets
(:mod:`~minari_namespaces.stores.drivers.hub.datasets`), one commit
(:mod:`~minari_namespaces.stores.drivers.hub.commits`), Minari's registry of
sub-namespaces (:mod:`~minari_namespaces.stores.drivers.hub.registry`), what a URL
names (:mod:`~minari_namespaces.stores.drivers.hub.urls`), every request bounded by
the store's ``retry_deadline`` (:mod:`~minari_namespaces.stores.drivers.hub.deadline`),
and the one adapter to what the client does not publish
(:mod:`~minari_namespaces.stores.drivers.hub.client`).
"""

from minari_namespaces.stores.drivers.hub.driver import HubDriver

__all__ = ["HubDriver"]
