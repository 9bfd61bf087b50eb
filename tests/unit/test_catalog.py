"""``tuneforge models list|info``: registered and local backbones described from their files."""

import pytest
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.errors import ConfigError
from tuneforge.models.backbones import build_backbone, load_tokenizer, resolve_backbone
from tuneforge.models.catalog import catalog, describe


def test_tiny_and_local_folder_are_described(tmp_path):
    tiny = describe("tiny-random")
    assert tiny["layers"] == 2 and tiny["hidden_size"] == 32 and tiny["parameters"] > 0
    spec = resolve_backbone("tiny-random")
    build_backbone(spec).save_pretrained(tmp_path / "local")
    load_tokenizer(spec).save_pretrained(tmp_path / "local")
    local = describe(str(tmp_path / "local"))
    assert local["parameters"] == tiny["parameters"] and local["architecture"] == "bert"
    assert local["lora_targets"] == ["query", "value"]


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ConfigError, match="known names are minilm-l6, tiny-random"):
        describe("bert-base-uncased")


def test_list_command_shows_every_registered_backbone():
    names = [m["name"] for m in catalog()]
    assert names[:2] == ["minilm-l6", "tiny-random"]
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0 and "minilm-l6" in result.output and "tiny-random" in result.output
