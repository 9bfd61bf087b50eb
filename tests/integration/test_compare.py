"""``tuneforge bench methods``: every method on the user's recipe, same seeds, one table; resumable."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import tiny_recipe
from tuneforge.cli import app
from tuneforge.compare import compare_methods, parse_method
from tuneforge.errors import ConfigError


def test_parse_method_specs():
    assert parse_method("lora:r=16,alpha=32") == {"name": "lora", "r": 16, "alpha": 32}
    assert parse_method("adapter:placement=houlsby") == {"name": "adapter", "placement": "houlsby"}
    with pytest.raises(ConfigError, match="unknown method"):
        parse_method("lroa")
    with pytest.raises(ConfigError, match="unknown option"):
        parse_method("lora:rank=4")


def test_compare_methods_table_and_reuse(demo_data, tmp_path):
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(
        yaml.safe_dump(tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=1))
    )
    result = compare_methods(recipe_path, ["lora:r=4", "bitfit"], seeds=[1, 2], output=tmp_path / "cmp")
    assert len(result["cells"]) == 4
    rows = [line for line in result["table"].splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r.split("|")[1].strip() for r in rows] == ["lora-r4", "bitfit"]
    seeds = {c["seed"] for c in result["cells"]}
    assert seeds == {1, 2}
    saved = yaml.safe_load((tmp_path / "cmp" / "lora-r4-seed1" / "recipe.yaml").read_text())
    assert saved["train"]["lr"] == pytest.approx(5e-4), "each method trains with its own learning rate"
    stamp = (tmp_path / "cmp" / "bitfit-seed2" / "run.json").stat().st_mtime_ns

    cli = CliRunner().invoke(
        app,
        [
            "bench",
            "methods",
            str(recipe_path),
            "--methods",
            "lora:r=4 bitfit",
            "--seeds",
            "1 2",
            "-o",
            str(tmp_path / "cmp"),
        ],
    )
    assert cli.exit_code == 0, cli.output
    assert "bitfit" in cli.output
    assert (tmp_path / "cmp" / "bitfit-seed2" / "run.json").stat().st_mtime_ns == stamp, (
        "finished runs are reused"
    )
    assert json.loads((tmp_path / "cmp" / "methods.json").read_text())["metric"] == "accuracy"
