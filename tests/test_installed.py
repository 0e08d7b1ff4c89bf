"""The installed version of a package (CNL401's and CNL403's hints): read from the
`<name>-<version>.dist-info` folder names on sys.path, the metadata lookup deciding otherwise."""

import sys

import pytest

from cnnlint.lint import installed


@pytest.fixture
def site(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setattr(sys, "path", [str(first), str(second)])
    installed._listing.cache_clear()
    installed.installed_version.cache_clear()
    yield first, second
    installed._listing.cache_clear()
    installed.installed_version.cache_clear()


def _dist(folder, dirname, name, version):
    d = folder / dirname
    d.mkdir()
    (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_the_version_comes_from_the_first_dist_info_folder_on_the_path(site):
    first, second = site
    _dist(second, "torch-2.3.1.dist-info", "torch", "2.3.1")
    _dist(second, "Pillow-10.4.0.dist-info", "Pillow", "10.4.0")
    _dist(first, "scikit_learn-1.5.2.dist-info", "scikit-learn", "1.5.2")
    assert installed._from_folder_names("torch") == "2.3.1"
    assert installed._from_folder_names("pillow") == "10.4.0"  # names compare normalized
    assert installed._from_folder_names("scikit-learn") == "1.5.2"
    assert installed._from_folder_names("Scikit.Learn") == "1.5.2"
    assert installed._from_folder_names("torchvision") is None  # a longer name is another package
    _dist(first, "torch-2.5.0.dist-info", "torch", "2.5.0")
    installed._listing.cache_clear()
    assert installed._from_folder_names("torch") == "2.5.0"  # the first on sys.path wins
    assert installed.installed_version("torch") == "2.5.0"


def test_an_egg_info_or_a_missing_package_is_left_to_the_metadata_lookup(site):
    first, second = site
    _dist(first, "legacy_pkg-0.9.egg-info", "legacy-pkg", "0.9")
    _dist(second, "legacy_pkg-1.0.dist-info", "legacy-pkg", "1.0")
    assert installed._from_folder_names("legacy-pkg") is None
    assert installed.installed_version("legacy-pkg") == "0.9"  # what importlib.metadata finds first
    assert installed.installed_version("not-installed-anywhere") is None
