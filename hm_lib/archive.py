"""The raw files as they come from Kaggle: the competition zip, or gzipped CSVs, unpacked once.

``kaggle competitions download -c h-and-m-personalized-fashion-recommendations`` gives one zip with
the three CSVs and ``images/``. :func:`raw_folder` turns ``--data`` (that zip, a folder holding it,
or a folder of ``.csv`` / ``.csv.gz`` files) into a folder of plain CSVs and photos: a plain folder
is used as it is; otherwise the CSVs are streamed out of the archive (with progress) and the photos
extracted once, into ``<work>/raw_unpacked/``. Each file is written atomically and the folder's
manifest last, so a killed unpacking is redone, and a later call reuses it while the archive's size
and modification time are unchanged.
"""
from __future__ import annotations

import gzip
import logging
import shutil
import zipfile
from pathlib import Path
from typing import IO

from hm_lib import schema
from hm_lib.errors import InputError
from hm_lib.layout import unpacked_dir
from hm_lib.io import atomic_path, read_json, write_json
from hm_lib.progress import bar

log = logging.getLogger(__name__)

KAGGLE_ZIP = "h-and-m-personalized-fashion-recommendations.zip"
CSV_FILES = (schema.ARTICLES_FILE, schema.CUSTOMERS_FILE, schema.TRANSACTIONS_FILE)
MANIFEST = "unpacked.json"
CHUNK = 8 << 20


class ArchiveError(InputError):
    """The zip or a gzipped CSV cannot be read, or lacks a competition file."""


def _state(path: Path) -> dict[str, int | str]:
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _find_zip(folder: Path) -> Path | None:
    """The Kaggle zip in ``folder`` (by its name, else the only zip there)."""
    if (folder / KAGGLE_ZIP).is_file():
        return folder / KAGGLE_ZIP
    zips = sorted(folder.glob("*.zip"))
    return zips[0] if len(zips) == 1 else None


def raw_folder(data: str | Path, work_dir: str | Path) -> Path:
    """A folder with the three competition CSVs (and ``images/`` when the source has photos)."""
    data, work_dir = Path(data), Path(work_dir)
    if data.is_file() and data.suffix == ".zip":
        return _unpack_zip(data, unpacked_dir(work_dir))
    if not data.is_dir() or all((data / f).is_file() for f in CSV_FILES):
        return data  # a plain folder (a missing one is reported by the loader, naming the files)
    if all((data / f).is_file() or (data / f"{f}.gz").is_file() for f in CSV_FILES):
        return _unpack_gzip(data, unpacked_dir(work_dir))
    archive = _find_zip(data)
    return _unpack_zip(archive, unpacked_dir(work_dir)) if archive is not None else data


def _fresh(out: Path, sources: dict) -> bool:
    manifest = out / MANIFEST
    return manifest.is_file() and read_json(manifest) == sources and all((out / f).is_file() for f in CSV_FILES)


def _copy(read: IO[bytes], path: Path, size: int, what: str) -> None:
    """Stream ``read`` into ``path`` atomically, with a byte progress bar."""
    with atomic_path(path) as tmp, tmp.open("wb") as out, \
            bar(total=size or None, desc=what, unit="B", unit_scale=True, disable=None) as progress_bar:
        while chunk := read.read(CHUNK):
            out.write(chunk)
            progress_bar.update(len(chunk))


def _unpack_gzip(folder: Path, out: Path) -> Path:
    """Plain CSVs beside gzipped ones: the .gz files decompressed (streamed), the others and images/ linked."""
    sources = {f: _state(folder / f if (folder / f).is_file() else folder / f"{f}.gz") for f in CSV_FILES}
    if _fresh(out, sources):
        return out
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for name in CSV_FILES:
        source = Path(sources[name]["path"])
        (out / name).unlink(missing_ok=True)
        if source.suffix != ".gz":
            (out / name).symlink_to(source)
            continue
        log.info("unpacking %s to %s", source, out)
        try:
            with gzip.open(source, "rb") as read:
                _copy(read, out / name, 0, f"unpacking {source.name}")
        except (OSError, EOFError) as err:
            raise ArchiveError(f"{source}: cannot be decompressed ({err}); re-download it from Kaggle.") from err
    _link_images(folder, out)
    write_json(sources, out / MANIFEST)
    return out


def _clear(path: Path) -> None:
    """Remove what lies at ``path``: a link, a file or a folder (nothing there is fine)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    shutil.rmtree(path, ignore_errors=True)


def _link_images(folder: Path, out: Path) -> None:
    images = out / schema.IMAGES_DIR
    _clear(images)
    if (folder / schema.IMAGES_DIR).is_dir():
        images.symlink_to((folder / schema.IMAGES_DIR).resolve())


def _member(names: list[str], file: str) -> str | None:
    """The zip member of a competition file (at the root, or one folder down)."""
    hits = sorted((n for n in names if n == file or n.endswith(f"/{file}")), key=len)
    return hits[0] if hits else None


def _unpack_zip(archive: Path, out: Path) -> Path:
    """The CSVs streamed out of the Kaggle zip, the photos extracted once (each step with progress)."""
    sources = {"zip": _state(archive)}
    if _fresh(out, sources):
        return out
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            members = {f: _member(list(infos), f) for f in CSV_FILES}
            missing = [f for f, m in members.items() if m is None]
            if missing:
                held = f"{len(infos):,} file{'s' if len(infos) != 1 else ''}"
                raise ArchiveError(f"{archive}: {', '.join(missing)} not in the archive (it holds {held}); "
                                   f"expected the Kaggle download {KAGGLE_ZIP}.")
            out.mkdir(parents=True, exist_ok=True)
            (out / MANIFEST).unlink(missing_ok=True)
            for file, name in members.items():
                log.info("unpacking %s from %s", file, archive)
                with zf.open(name) as read:
                    _copy(read, out / file, infos[name].file_size, f"unpacking {file}")
            _extract_images(zf, [i for n, i in infos.items() if _is_photo(n)], out)
    except zipfile.BadZipFile as err:
        raise ArchiveError(f"{archive}: not a readable zip ({err}); re-download it from Kaggle.") from err
    write_json(sources, out / MANIFEST)
    return out


def _is_photo(name: str) -> bool:
    parts = name.split("/")
    return schema.IMAGES_DIR in parts[:-1] and name.lower().endswith(".jpg")


def _extract_images(zf: zipfile.ZipFile, photos: list[zipfile.ZipInfo], out: Path) -> None:
    """Photos into ``out/images`` (same relative layout), through a partial folder renamed at the end."""
    target, partial = out / schema.IMAGES_DIR, out / f".{schema.IMAGES_DIR}.partial"
    _clear(partial)
    for info in bar(photos, desc="extracting photos", unit="img", disable=None):
        relative = info.filename.split(f"{schema.IMAGES_DIR}/", 1)[1]
        path = partial / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as read, path.open("wb") as write:
            shutil.copyfileobj(read, write, CHUNK)
    _clear(target)
    if photos:
        partial.rename(target)
