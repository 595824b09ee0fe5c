"""MathJax, served by the site itself: its npm package downloaded once into ``build/cache/``, checked
against a pinned SHA-512, unpacked, and the parts a page loads copied into the site."""

from __future__ import annotations

import base64
import hashlib
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from .book import SiteError

MATHJAX = {
    "version": "3.2.2",
    "url": "https://registry.npmjs.org/mathjax/-/mathjax-3.2.2.tgz",
    # the npm registry's dist.integrity for mathjax 3.2.2
    "sha512": "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
}
# What of MathJax's es5/ folder a page can load: the TeX-to-HTML bundle, its fonts, the TeX
# extensions it autoloads, and the menu's accessibility parts (loaded when a reader asks).
MATHJAX_PARTS = ["tex-chtml.js", "output/chtml", "input/tex", "ui", "a11y", "sre"]


def fetch_mathjax(cache: Path) -> Path:
    """MathJax's es5/ folder, downloaded once into ``cache`` and checked against the pinned SHA-512.

    Safe when two builds fetch at once: each downloads and unpacks into a folder of its own, and
    the first to finish puts its copy in place.
    """
    version = MATHJAX["version"]
    es5 = cache / f"mathjax-{version}" / "es5"
    if (es5 / "tex-chtml.js").is_file():
        return es5
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"mathjax-{version}.tgz"
    if not tarball.is_file():
        with tempfile.NamedTemporaryFile(dir=cache, suffix=".part", delete=False) as out:
            try:
                with urllib.request.urlopen(MATHJAX["url"], timeout=60) as response:
                    shutil.copyfileobj(response, out)
            except OSError as err:
                Path(out.name).unlink(missing_ok=True)
                raise SiteError(
                    f"cannot download MathJax {version} from {MATHJAX['url']} ({err}). The site serves MathJax "
                    f"itself so that it works offline: download that file where there is internet access and "
                    f"put it at {tarball} (its SHA-512 is checked), then build again."
                ) from None
        Path(out.name).replace(tarball)
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != MATHJAX["sha512"]:
        raise SiteError(
            f"{tarball} is not MathJax {version}: its SHA-512 is {digest}, expected {MATHJAX['sha512']}. "
            "Delete it and build again."
        )
    unpacking = Path(tempfile.mkdtemp(dir=cache, prefix="mathjax-unpacking-"))
    try:
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith("package/es5/") and m.isfile()]
            archive.extractall(unpacking, members=members, filter="data")
        es5.parent.mkdir(exist_ok=True)
        try:
            (unpacking / "package" / "es5").rename(es5)
        except OSError:  # another build put its copy in place first
            if not (es5 / "tex-chtml.js").is_file():
                raise
    finally:
        shutil.rmtree(unpacking, ignore_errors=True)
    return es5


def copy_mathjax(es5: Path, target: Path) -> None:
    for part in MATHJAX_PARTS:
        source = es5 / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)
