"""Export formats with their parity check: every format loads in tuneforge.load and predicts as the
trained model did; a failed check writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import tuneforge
from tests.conftest import tiny_recipe
from tuneforge.errors import ConfigError, RunError

TEXTS = {
    "classification": ["my card is lost", "hello there", "refund my order please", "where is my parcel"],
    "multilabel": ["refund for the late parcel", "the parcel is late"],
    "ner": ["Anna Berg flew to Oslo", "Vantage Labs hired Tom"],
}


@pytest.fixture(scope="module")
def runs(demo_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("export-runs")
    out = {}
    for task in TEXTS:
        recipe = tiny_recipe(demo_data, task, root / task, epochs=2)
        out[task] = tuneforge.run(recipe, quiet=True).path
    recipe = tiny_recipe(demo_data, "classification", root / "lora", epochs=2)
    recipe["method"] = {"name": "lora", "r": 4}
    out["lora"] = tuneforge.run(recipe, quiet=True).path
    return out


def _same_predictions(a, b, texts):
    pa, pb = a.predict(texts), b.predict(texts)
    for x, y in zip(pa, pb, strict=True):
        if x.entities is not None:
            assert [(e.type, e.start, e.end) for e in x.entities] == [
                (e.type, e.start, e.end) for e in y.entities
            ]
        else:
            assert x.label == y.label
            for k, v in x.probabilities.items():
                assert y.probabilities[k] == pytest.approx(v, abs=1e-3)


@pytest.mark.parametrize("task", sorted(TEXTS))
@pytest.mark.parametrize("fmt", ["hf", "merged", "onnx"])
def test_fp32_exports_match_the_trained_model(runs, tmp_path, task, fmt):
    parity = tuneforge.export_model(runs[task], fmt, tmp_path / "out")
    assert parity.agreement >= 0.999 and parity.max_prob_diff <= 1e-3
    assert parity.source.endswith(
        "test.conll" if task == "ner" else ("test.jsonl" if task == "multilabel" else "test.csv")
    )
    if task == "ner":
        assert parity.span_agreement == pytest.approx(1.0)
    meta = json.loads((tmp_path / "out" / "tuneforge.json").read_text())
    assert meta["parity"]["examples"] == parity.examples > 0
    if fmt == "onnx":
        assert meta["format"] == "onnx" and (tmp_path / "out" / "model.onnx").is_file()
        # a BERT backbone: attention, embeddings, layer norms and GELU run in fused kernels
        assert meta["fused_operators"]["Attention"] == 2 and meta["fused_operators"]["BiasGelu"] == 2
    _same_predictions(tuneforge.load(runs[task]), tuneforge.load(tmp_path / "out"), TEXTS[task])


def test_unfused_onnx_export_is_the_plain_traced_graph(runs, tmp_path):
    import onnx

    parity = tuneforge.export_model(runs["ner"], "onnx", tmp_path / "plain", fuse=False)
    assert parity.agreement == 1.0 and parity.span_agreement == 1.0
    meta = json.loads((tmp_path / "plain" / "tuneforge.json").read_text())
    assert meta["fused_operators"] == {}
    ops = {n.op_type for n in onnx.load(str(tmp_path / "plain" / "model.onnx")).graph.node}
    assert "MatMul" in ops and not ops & {"Attention", "SkipLayerNormalization", "BiasGelu"}
    _same_predictions(tuneforge.load(runs["ner"]), tuneforge.load(tmp_path / "plain"), TEXTS["ner"])


@pytest.mark.parametrize(
    ("method", "task"), [("adapter", "ner"), ("prefix", "classification"), ("ptuning", "ner")]
)
def test_unmergeable_methods_export_to_fused_onnx(demo_data, tmp_path, method, task):
    """Methods that cannot fold into the weights are traced as they run (adapter modules, virtual
    tokens, prefix key/values); what the fuser recognises around them is fused."""
    recipe = tiny_recipe(demo_data, task, tmp_path / "run", epochs=1)
    recipe["method"] = {"name": method}
    run = tuneforge.run(recipe, quiet=True).path
    parity = tuneforge.export_model(run, "onnx", tmp_path / "onnx")
    assert parity.agreement == 1.0 and parity.max_prob_diff <= 1e-5
    fused = json.loads((tmp_path / "onnx" / "tuneforge.json").read_text())["fused_operators"]
    assert fused["SkipLayerNormalization"] == 4
    _same_predictions(tuneforge.load(run), tuneforge.load(tmp_path / "onnx"), TEXTS[task])


def test_lora_run_exports_merged_to_onnx(runs, tmp_path):
    parity = tuneforge.export_model(runs["lora"], "onnx", tmp_path / "onnx")
    assert parity.agreement == 1.0
    _same_predictions(
        tuneforge.load(runs["lora"]), tuneforge.load(tmp_path / "onnx"), TEXTS["classification"]
    )


def test_int8_export_reports_parity_and_refuses_when_it_is_too_low(runs, tmp_path):
    parity = tuneforge.export_model(runs["classification"], "onnx-int8", tmp_path / "int8", min_agreement=0.0)
    assert 0.0 <= parity.agreement <= 1.0 and parity.max_prob_diff > 0
    size = lambda p: p.stat().st_size  # noqa: E731
    tuneforge.export_model(runs["classification"], "onnx", tmp_path / "fp32")
    assert size(tmp_path / "int8" / "model.onnx") < size(tmp_path / "fp32" / "model.onnx")
    assert tuneforge.load(tmp_path / "int8").predict(["hello"])[0].label
    with pytest.raises(RunError, match="nothing was written"):
        tuneforge.export_model(
            runs["classification"],
            "onnx-int8",
            tmp_path / "refused",
            max_prob_diff=0.0,
            int8_target_agreement=0.0,
        )
    assert not (tmp_path / "refused").exists()
    assert not any(p.name.startswith(".refused") for p in tmp_path.iterdir())


def test_int8_search_keeps_the_most_sensitive_nodes_in_fp32_when_the_target_needs_it(runs, tmp_path):
    parity = tuneforge.export_model(
        runs["classification"], "onnx-int8", tmp_path / "mixed", min_agreement=0.0, int8_target_agreement=1.0
    )
    q = parity.quantization
    assert (
        q["target"] == 1.0 and q["lower_bound"] == q["estimated_agreement"] == 1.0 > q["full_int8_estimate"]
    )
    assert 0 < len(q["fp32_nodes"]) <= q["quantizable_nodes"]
    assert q["source"].endswith("validation.csv") and q["examples"] > 0
    for record in ("parity.json", "tuneforge.json"):
        saved = json.loads((tmp_path / "mixed" / record).read_text())
        assert (saved if record == "parity.json" else saved["parity"])["quantization"]["fp32_nodes"] == q[
            "fp32_nodes"
        ]
    assert tuneforge.load(tmp_path / "mixed").predict(["hello"])[0].label
    full = tuneforge.export_model(
        runs["classification"], "onnx-int8", tmp_path / "full", min_agreement=0.0, int8_target_agreement=0.0
    )
    assert full.quantization["fp32_nodes"] == [] and full.quantization["evaluations"] == 1


class _FakeProbe:
    """Scores a candidate by which nodes it quantised: each costs 0.01 of agreement, more when its name
    sorts later, so the search must keep the latest-sorting nodes in fp32 first."""

    def __init__(self, nodes):
        self.nodes, self.evaluations, self.feats = nodes, 0, [None] * 10

    def score(self, path):
        import onnx

        from tuneforge.export.int8_search import Score

        self.evaluations += 1
        graph = onnx.load(str(path)).graph
        consts = {t.name for t in graph.initializer}
        fp32 = {
            n.name.removesuffix("_MatMul")  # the quantiser turns a Gemm into NAME_MatMul + NAME_Add
            for n in graph.node
            if n.op_type in ("MatMul", "Gemm", "Attention") and n.input[1] in consts
        }
        hurt = [self.nodes.index(n) + 1 for n in self.nodes if n not in fp32]
        est = 1.0 - 0.01 * len(hurt)
        return Score(estimate=est, lower=est, observed=1.0, sensitivity=float(sum(hurt)))


def test_int8_search_keeps_the_fewest_nodes_and_fails_clearly_when_even_fp32_misses(runs, tmp_path):
    from tuneforge.export.int8_search import search_int8, weight_sizes
    from tuneforge.export.onnx_model import quantizable_nodes

    tuneforge.export_model(runs["classification"], "onnx", tmp_path / "fp32")
    src = tmp_path / "fp32" / "model.onnx"
    nodes = sorted(quantizable_nodes(src))
    need = len(nodes) - 3  # three nodes may stay int8: 1 - 0.01 * 3 = 0.97
    result = search_int8(src, tmp_path / "q.onnx", _FakeProbe(nodes), 0.97)
    assert len(result.fp32_nodes) == need and result.estimated_agreement == pytest.approx(0.97)
    sizes = weight_sizes(src)
    assert result.fp32_weight_share == pytest.approx(
        sum(sizes[n] for n in result.fp32_nodes) / sum(sizes.values()), abs=1e-4
    )
    assert sum(sizes[n] for n in result.fp32_nodes) <= sum(sizes[n] for n in nodes[::-1][:need])

    class Equal(_FakeProbe):  # every node alike: only how many stay int8 matters
        def score(self, path):
            s = super().score(path)
            return s.__class__(s.estimate, s.lower, s.observed, sensitivity=1.0)

    result = search_int8(src, tmp_path / "q2.onnx", Equal(nodes), 0.97)
    assert result.ranking == "sensitivity per weight"  # the smallest matrices stay in fp32
    assert sorted(sizes[n] for n in result.fp32_nodes) == sorted(sizes.values())[:need]
    assert result.evaluations < 1 + len(nodes) + 2 * len(nodes)  # two bisections, not one try per count
    assert (tmp_path / "q.onnx").is_file() and not (tmp_path / "q.onnx.search").exists()
    assert search_int8(src, tmp_path / "all.onnx", _FakeProbe(nodes), 0.5).fp32_nodes == []

    class Hopeless(_FakeProbe):
        def score(self, path):
            return super().score(path).__class__(estimate=0.5, lower=0.5, observed=0.5, sensitivity=1.0)

    with pytest.raises(RunError, match="even with all .* in fp32 the agreement's lower bound"):
        search_int8(src, tmp_path / "never.onnx", Hopeless(nodes), 0.9)
    assert not (tmp_path / "never.onnx").exists()


def test_int8_target_is_checked(runs, tmp_path):
    with pytest.raises(ConfigError, match="onnx-int8 only"):
        tuneforge.export_model(runs["classification"], "onnx", tmp_path / "x", int8_target_agreement=0.9)
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        tuneforge.export_model(runs["classification"], "onnx-int8", tmp_path / "x", int8_target_agreement=2)


def test_export_errors(runs, tmp_path):
    with pytest.raises(ConfigError, match="unknown export format"):
        tuneforge.export_model(runs["classification"], "tflite", tmp_path / "x")
    tuneforge.export_model(runs["classification"], "onnx", tmp_path / "x")
    with pytest.raises(ConfigError, match="--force"):
        tuneforge.export_model(runs["classification"], "onnx", tmp_path / "x")
    with pytest.raises(ConfigError, match="already an exported"):
        tuneforge.export_model(tmp_path / "x", "onnx", tmp_path / "y")


def test_export_cli_and_predict_with_the_exported_model(runs, tmp_path):
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "tuneforge.cli"]
    proc = subprocess.run(
        [*cmd, "export", str(runs["ner"]), "-f", "onnx", "-o", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "agreement 1.0000" in proc.stdout and "entity spans" in proc.stdout
    proc = subprocess.run(
        [*cmd, "predict", str(out)], input="Anna Berg flew to Oslo\n", capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "entities" in json.loads(proc.stdout.splitlines()[0])
    proc = subprocess.run(
        [*cmd, "export", str(runs["classification"]), "-f", "onnx-int8", "-o", str(tmp_path / "int8"),
         "--min-agreement", "0", "--int8-target-agreement", "1"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    printed = " ".join(proc.stdout.split())
    assert "weight nodes kept in fp32" in printed and "fp32: /" in printed
