"""Write a catalog's pages into a folder: Minari's documentation layout and one
offline HTML page.

:func:`write_catalog` writes ``index.md`` at the top, ``<namespace>/index.md`` for
every namespace and ``<namespace>/<NAME-vN>.md`` for every dataset (rendered by
:mod:`minari_namespaces.catalog.markdown`), and ``index.html``, one self-contained
page to browse the tree (:mod:`minari_namespaces.catalog.html`).

Writes are safe: each page goes to a temporary file in its folder and is put in
place with ``os.replace``, so a reader sees the old page or the new one. Folders are
opened one segment at a time without following a symbolic link, so nothing is ever
written outside the output folder. A manifest, ``.catalog-pages.json``, lists the
pages of the last run; the next run removes those it does not write again (a
namespace or dataset that is gone) and the folders this leaves empty, and never
touches any other file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pathlib
from collections.abc import Iterable
from typing import Final

from minari_namespaces.atomic import (
    DIR_FLAGS,
    LINK_ERRNOS,
    is_regular_file,
    read_capped,
    replace_atomic,
)
from minari_namespaces.catalog.html import html_page
from minari_namespaces.catalog.markdown import Page, markdown_pages
from minari_namespaces.catalog.model import Catalog
from minari_namespaces.datasets import DatasetId
from minari_namespaces.errors import InvalidDatasetIdError, InvalidNamespaceError
from minari_namespaces.identifier import NamespaceId

__all__ = ["write_catalog"]

#: The file listing the pages the last run wrote, in the output folder.
MANIFEST: Final = ".catalog-pages.json"
# A manifest larger than this was not written by us; it is ignored.
_MANIFEST_LIMIT: Final = 64 * 1024 * 1024


def write_catalog(catalog: Catalog, outdir: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Write the pages of ``catalog`` into ``outdir``.

    ``outdir`` is created if it is missing and may already hold pages: each page is
    replaced atomically, pages of a previous run that this run does not write again
    are removed (with folders they leave empty), and other files are left alone.

    Args:
        catalog: The catalog to show, from :meth:`NamespaceService.catalog
            <minari_namespaces.service.NamespaceService.catalog>`.
        outdir: The output folder. It may not itself be a symbolic link; nothing
            below it is ever followed.

    Returns:
        The paths of the pages written: ``index.md`` at the top,
        ``<namespace>/index.md`` per namespace, ``<namespace>/<NAME-vN>.md`` per
        dataset (all in tree order), then ``index.html``.

    Raises:
        ValueError: If ``outdir`` is empty (it would mean the current folder).
        NotADirectoryError: If ``outdir``, or a folder a page goes into, is a
            symbolic link or a file.
        IsADirectoryError: If a folder stands where a page belongs.
        OSError: If a folder cannot be created or a page cannot be written.
    """
    if not os.fspath(outdir):
        raise ValueError("the output folder is empty; name one ('.' for the current folder)")
    root = pathlib.Path(outdir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder", str(root)) from None
    pages = [*markdown_pages(catalog), Page((), "index.html", html_page(catalog))]
    # Every page is encoded before the first is written: one that cannot be is an
    # error with nothing written, never a half-updated site.
    encoded = [page.text.encode("utf-8") for page in pages]
    root_fd = _open_folder(None, str(root), root)
    try:
        previous = _read_manifest(root_fd)
        for page, text in zip(pages, encoded, strict=True):
            _write_page(root_fd, root, page, text)
        written = {_relative(page) for page in pages}
        for stale in sorted(previous - written):
            _remove_stale(root_fd, stale)
        manifest = {"written_by": "minari-namespaces", "pages": sorted(written)}
        replace_atomic(root_fd, MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
    finally:
        os.close(root_fd)
    return [root.joinpath(*page.folder, page.name) for page in pages]


def _relative(page: Page) -> str:
    return "/".join((*page.folder, page.name))


def _open_folder(dir_fd: int | None, name: str, shown: pathlib.Path) -> int:
    """Open folder ``name`` (in ``dir_fd``) without following a symbolic link."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in LINK_ERRNOS:
            raise NotADirectoryError(
                errno.ENOTDIR,
                "is a symbolic link or a file, not a folder; catalog pages are never "
                "written through one",
                str(shown),
            ) from None
        raise


def _descend(root_fd: int, root: pathlib.Path, folder: Iterable[str], *, create: bool) -> int:
    """A new descriptor of ``folder`` below the root, each segment opened without
    following a link (and made first if ``create``)."""
    current = os.dup(root_fd)
    shown = root
    try:
        for segment in folder:
            shown = shown / segment
            if create:
                # A folder from an earlier run is fine; a link or a file is refused below.
                with contextlib.suppress(FileExistsError):
                    os.mkdir(segment, dir_fd=current)
            inner = _open_folder(current, segment, shown)
            os.close(current)
            current = inner
    except BaseException:
        os.close(current)
        raise
    return current


def _write_page(root_fd: int, root: pathlib.Path, page: Page, text: bytes) -> None:
    folder_fd = _descend(root_fd, root, page.folder, create=True)
    try:
        # os.replace swaps the name itself: a link planted there is replaced, not followed.
        replace_atomic(folder_fd, page.name, text)
    except IsADirectoryError:
        # Named by the page, not by the temporary file the failed replace moved.
        raise IsADirectoryError(
            errno.EISDIR,
            "is a folder where a catalog page belongs; move it away",
            str(root.joinpath(*page.folder, page.name)),
        ) from None
    finally:
        os.close(folder_fd)


def _read_manifest(root_fd: int) -> set[str]:
    """The pages the last run wrote; nothing if the manifest is missing or unreadable."""
    raw = read_capped(MANIFEST, root_fd, _MANIFEST_LIMIT)
    if raw is None or len(raw) > _MANIFEST_LIMIT:
        return set()
    try:
        pages = json.loads(raw.decode("utf-8")).get("pages")
    except (UnicodeDecodeError, ValueError, AttributeError, RecursionError):
        return set()
    if not isinstance(pages, list):
        return set()
    return {page for page in pages if isinstance(page, str) and _is_page_path(page)}


def _is_page_path(path: str) -> bool:
    """Whether ``path`` is one this module writes: the manifest is a file in a
    folder others may write to, so it may name only pages of valid ids."""
    *folder, name = path.split("/")
    try:
        if folder:
            NamespaceId("/".join(folder))
        if name in ("index.md", "index.html"):
            return name == "index.md" or not folder
        stem, dot, suffix = name.rpartition(".")
        return bool(dot) and suffix == "md" and DatasetId(stem).namespace is None
    except (InvalidNamespaceError, InvalidDatasetIdError):
        return False


def _remove_stale(root_fd: int, path: str) -> None:
    """Remove the page at ``path`` if it is a regular file, then each folder above
    it that this leaves empty (never the output folder itself)."""
    *folder, name = path.split("/")
    opened: list[int] = [os.dup(root_fd)]
    try:
        for segment in folder:
            try:
                opened.append(os.open(segment, DIR_FLAGS, dir_fd=opened[-1]))
            except OSError as error:
                if error.errno in LINK_ERRNOS or error.errno == errno.ENOENT:
                    return  # gone already, or no longer ours
                raise
        if is_regular_file(name, opened[-1]):
            os.unlink(name, dir_fd=opened[-1])
        for depth in range(len(folder), 0, -1):
            try:
                os.rmdir(folder[depth - 1], dir_fd=opened[depth - 1])
            except OSError as error:
                if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    return  # holds other pages or files: kept
                raise
    finally:
        for fd in opened:
            os.close(fd)
