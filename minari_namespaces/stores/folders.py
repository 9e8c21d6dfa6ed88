"""Walking folders from a root descriptor without following symbolic links.

The local store and the ``file://`` driver open every path one segment at a
time, from an open descriptor of the root, with ``O_NOFOLLOW``: a symbolic link
anywhere on the way (even one swapped in while we work) is an error, never a
detour outside the root. POSIX only.
"""

from __future__ import annotations

import os
from types import TracebackType

from minari_namespaces.atomic import DIR_FLAGS, LINK_ERRNOS

__all__ = ["FolderWalk"]


class FolderWalk:
    """Open descriptors from a root folder down, one segment at a time.

    Use as a context manager; every descriptor it opened is closed on exit.

    Args:
        root: The absolute root folder.
        make: Make the root and missing folders on the way (for writes).

    Raises:
        OSError: From :meth:`descend` with an errno in
            :data:`~minari_namespaces.atomic.LINK_ERRNOS` when a segment is a
            file or a symbolic link.
    """

    def __init__(self, root: str, *, make: bool = False) -> None:
        self._root = root
        self._make = make
        self.fds: list[int] = []
        #: Whether the last :meth:`descend` made the folder.
        self.made = False

    def __enter__(self) -> FolderWalk:
        try:
            self.fds.append(os.open(self._root, DIR_FLAGS))
        except FileNotFoundError:
            if not self._make:
                return self
            os.makedirs(self._root, exist_ok=True)
            self.fds.append(os.open(self._root, DIR_FLAGS))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for fd in reversed(self.fds):
            os.close(fd)
        self.fds.clear()

    @property
    def opened(self) -> bool:
        """Whether the root was there (or made)."""
        return bool(self.fds)

    @property
    def fd(self) -> int:
        """The deepest folder opened so far."""
        return self.fds[-1]

    @property
    def parent_fd(self) -> int:
        """The folder above :attr:`fd` (the root's own descriptor at the root)."""
        return self.fds[-2] if len(self.fds) > 1 else self.fds[-1]

    def enter(self, name: str) -> bool:
        """Open the existing folder ``name`` inside :attr:`fd` (never make it).

        Returns:
            ``False`` if it is missing.
        """
        self.made = False
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        self.fds.append(fd)
        return True

    def descend(self, name: str) -> bool:
        """Open the folder ``name`` inside :attr:`fd` (making it if ``make``).

        Opening comes first: a failing ``mkdir`` costs far more than an ``open``.

        Returns:
            ``False`` if it is missing (and not made).
        """
        self.made = False
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            if not self._make:
                return False
            try:
                os.mkdir(name, dir_fd=self.fd)
                self.made = True
            except FileExistsError:
                pass
            fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        self.fds.append(fd)
        return True

    def reach(self, parts: tuple[str, ...] | list[str]) -> bool:
        """:meth:`descend` through each of ``parts``.

        Returns:
            ``False`` if one is missing (and not made), a file or a symbolic link.
        """
        for part in parts:
            try:
                if not self.descend(part):
                    return False
            except OSError as error:
                if error.errno not in LINK_ERRNOS:
                    raise
                return False
        return True
