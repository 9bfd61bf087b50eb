"""Every example recipe is a valid recipe with a valid method (the runs themselves are in the docs)."""

import re
from pathlib import Path

import pytest

from tuneforge.config import load_recipe
from tuneforge.methods import get_method
from tuneforge.select.space import resolve_space

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_recipe_is_valid(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    command = re.search(r"tuneforge (run|tune|select|ensemble) examples/" + re.escape(path.name), first)
    assert first.startswith("# ") and command, "first line: the command"
    recipe = load_recipe(path)
    get_method(recipe.method.name, recipe.method.options())
    if recipe.tune is not None:  # the search space too: every key and every end of every range
        resolve_space(recipe)
