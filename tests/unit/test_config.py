import pytest

from tuneforge.config import apply_overrides, load_recipe, recipe_from_dict
from tuneforge.errors import ConfigError


def test_defaults_fill_in():
    r = recipe_from_dict({"data": {"train": "a.csv"}})
    assert r.task == "classification" and r.backbone == "minilm-l6" and r.method.name == "full"
    assert r.train.early_stopping.patience == 2


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"data": {"train": "a.csv"}, "trian": {}}, "unknown key 'trian'. Did you mean 'train'?"),
        ({"data": {"train": "a.csv"}, "train": {"learning_rate": 1}}, "unknown key 'train.learning_rate'"),
        ({"data": {"train": "a.csv"}, "train": {"lrr": 1}}, "Did you mean 'lr'?"),
        ({"data": {"train": "a.csv", "fromat": "csv"}}, "Did you mean 'format'?"),
        ({"data": {}}, "missing required key 'data.train'"),
        ({"data": {"train": "a.csv"}, "task": "regression"}, "'task'"),
        ({"data": {"train": "a.csv"}, "train": {"epochs": 0}}, "'train.epochs'"),
    ],
)
def test_bad_recipes_say_what_to_fix(data, expected):
    with pytest.raises(ConfigError, match=None) as info:
        recipe_from_dict(data)
    assert expected in str(info.value)


def test_overrides_parse_values_and_nest():
    r = recipe_from_dict(
        {"data": {"train": "a.csv"}, "method": "lora"},
        ["train.lr=3e-5", "train.early_stopping.patience=5", "method.r=16", "model.pooling=cls"],
    )
    assert r.train.lr == pytest.approx(3e-5)
    assert r.train.early_stopping.patience == 5
    assert r.method.name == "lora" and r.method.options() == {"r": 16}
    assert r.model.pooling == "cls"


def test_override_without_equals_is_an_error():
    with pytest.raises(ConfigError, match="key.path=value"):
        apply_overrides({}, ["train.lr"])


def test_load_recipe_resolves_paths_relative_to_the_recipe(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("text,label\na,b\n")
    (tmp_path / "r.yaml").write_text("data:\n  train: data/train.csv\n")
    r = load_recipe(tmp_path / "r.yaml")
    assert r.data.train == str(tmp_path / "data" / "train.csv")


def test_load_recipe_resolves_ensemble_paths_relative_to_the_recipe(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("text,label\na,b\n")
    (tmp_path / "data" / "unlabelled.txt").write_text("some text\n")
    (tmp_path / "runs" / "a").mkdir(parents=True)
    (tmp_path / "r.yaml").write_text(
        "data:\n  train: data/train.csv\nensemble:\n  members:\n    - {run: runs/a}\n    - {run: runs/gone}\n"
        "  distill: {transfer: data/unlabelled.txt}\n"
    )
    r = load_recipe(tmp_path / "r.yaml")
    assert r.ensemble.distill.transfer == str(tmp_path / "data" / "unlabelled.txt")
    assert [m.run for m in r.ensemble.members] == [str(tmp_path / "runs" / "a"), "runs/gone"]  # as given


@pytest.mark.parametrize("content, msg", [("data: [unclosed", "not valid YAML"), ("- a\n- b\n", "mapping")])
def test_load_recipe_rejects_malformed_yaml(tmp_path, content, msg):
    (tmp_path / "r.yaml").write_text(content)
    with pytest.raises(ConfigError, match=msg):
        load_recipe(tmp_path / "r.yaml")


def test_missing_recipe_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_recipe(tmp_path / "nope.yaml")
