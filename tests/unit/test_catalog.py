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
    known = "known names are minilm-l6, minilm-l3, smollm2-135m, tiny-random"
    with pytest.raises(ConfigError, match=f"unknown backbone 'no such model': {known}"):
        describe("no such model")
    with pytest.raises(ConfigError, match=f"hub downloads are off.*{known}"):  # a hub id, offline (conftest)
        describe("bert-base-uncased")


def test_list_command_shows_every_registered_backbone():
    names = [m["name"] for m in catalog()]
    assert names == ["minilm-l6", "minilm-l3", "smollm2-135m", "tiny-random"]
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0
    assert all(name in result.output for name in names)


def test_every_entry_knows_its_facts(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path))  # describing converts nothing
    keys = {
        "parameters",
        "layers",
        "hidden_size",
        "max_length",
        "languages",
        "license",
        "lora_targets",
        "kind",
    }
    for entry in catalog():
        if "missing" in entry:  # a model package that is not installed
            continue
        assert keys <= set(entry) and entry["parameters"] > 0 and entry["license"] == "Apache-2.0", entry
    assert not (tmp_path / "models").exists()
