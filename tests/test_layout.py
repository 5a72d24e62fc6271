"""The package's layout rules that a review checks by eye, checked here."""

import pathlib

import pytest

import skae

PACKAGE = pathlib.Path(skae.__file__).parent
MAX_LINES = 500


@pytest.mark.parametrize(
    "path",
    sorted(PACKAGE.rglob("*.py")),
    ids=lambda path: str(path.relative_to(PACKAGE)),
)
def test_no_module_is_longer_than_500_lines(path):
    # One job a file: a module past this length has taken on a second one.
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_LINES, f"{path.name} has {n_lines} lines"
