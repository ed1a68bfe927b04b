"""Reading and writing the invoice archives of batch sessions and exports (ZIP or tar.gz).

:func:`read_archive` lists the regular files of an archive without trusting its
declared sizes: a member larger than ``max_member_bytes`` is reported with
``data=None`` (the caller rejects it) instead of being decompressed, so a
"zip bomb" cannot exhaust memory.  Corrupt archives raise :class:`ArchiveError`.
"""

import io
import tarfile
import zipfile

ZIP = "Zip"
TARGZ = "TarGz"


class ArchiveError(Exception):
    """The archive cannot be decompressed (wrong format, corrupt data)."""


class Member:
    """One file of an archive: ``name``, ``size`` (declared) and ``data`` (None when too large)."""

    __slots__ = ("data", "name", "size")

    def __init__(self, name, size, data):
        self.name = name
        self.size = size
        self.data = data


def _read_limited(fh, limit):
    data = fh.read(limit + 1)
    return None if len(data) > limit else data


def _zip_members(blob, max_member_bytes):
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError("not a ZIP archive: %s" % exc)
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.file_size > max_member_bytes:
                yield Member(info.filename, info.file_size, None)
                continue
            try:
                with archive.open(info) as fh:
                    data = _read_limited(fh, max_member_bytes)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                raise ArchiveError("corrupt ZIP member: %s" % exc)
            yield Member(info.filename, info.file_size, data)


def _tar_members(blob, max_member_bytes):
    try:
        archive = tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError("not a tar.gz archive: %s" % exc)
    with archive:
        while True:
            try:
                info = archive.next()
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise ArchiveError("corrupt tar.gz archive: %s" % exc)
            if info is None:
                return
            if not info.isfile():
                continue
            if info.size > max_member_bytes:
                yield Member(info.name, info.size, None)
                continue
            try:
                fh = archive.extractfile(info)
                data = _read_limited(fh, max_member_bytes)
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise ArchiveError("corrupt tar.gz member: %s" % exc)
            yield Member(info.name, info.size, data)


def read_archive(blob, compression=ZIP, max_member_bytes=3 * 1000 * 1000):
    """All regular files of ``blob`` as a list of :class:`Member` (raises :class:`ArchiveError`)."""
    reader = _tar_members if compression == TARGZ else _zip_members
    return list(reader(blob, max_member_bytes))


def build_archive(files, compression=ZIP):
    """An archive (bytes) of ``files`` = iterable of ``(name, bytes)``."""
    buf = io.BytesIO()
    if compression == TARGZ:
        with tarfile.open(fileobj=buf, mode="w:gz") as archive:
            for name, data in files:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                archive.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files:
                archive.writestr(name, data)
    return buf.getvalue()
