"""Transfers between two repositories: :class:`Transfer` copies namespaces (one, or a
whole subtree, parents first) and reports what it did in a :class:`TransferReport`
(:mod:`~minari_namespaces.transfer.namespaces`). Transfers log as
``minari_namespaces.transfer``.
"""

from minari_namespaces.transfer.namespaces import (
    DatasetPlan,
    ProgressCallback,
    Transfer,
    TransferProgress,
    TransferReport,
)

__all__ = ["DatasetPlan", "ProgressCallback", "Transfer", "TransferProgress", "TransferReport"]
