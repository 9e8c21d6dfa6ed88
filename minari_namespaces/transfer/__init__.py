"""Transfers between two repositories: :class:`Transfer` copies namespaces (one, or a
whole subtree, parents first) and reports what it did in a :class:`TransferReport`
(:mod:`~minari_namespaces.transfer.namespaces`); with datasets, it plans and copies
them whole (:mod:`~minari_namespaces.transfer.datasets`) and reports how far it got
in a :class:`TransferProgress`. Transfers log as ``minari_namespaces.transfer``.
"""

from minari_namespaces.transfer.datasets import DatasetPlan, TransferProgress
from minari_namespaces.transfer.namespaces import ProgressCallback, Transfer, TransferReport

__all__ = ["DatasetPlan", "ProgressCallback", "Transfer", "TransferProgress", "TransferReport"]
