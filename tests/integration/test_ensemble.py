"""Ensembles end to end on the tiny random backbone and the demo data: every strategy, shared-backbone
inference equal to separate inference, save / reload to identical predictions, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

import tuneforge
from tests.conftest import tiny_recipe
from tuneforge.cli import app
from tuneforge.ensemble import (
    BaggingEnsemble,
    BoostingEnsemble,
    LogLinearPool,
    Member,
    NgramMember,
    StackingEnsemble,
    VotingEnsemble,
    distill,
    ensemble_report,
    load_ensemble,
    save_ensemble,
)
from tuneforge.ensemble.member import training_examples
from tuneforge.ensemble.shared import share_plan
from tuneforge.errors import ConfigError

PARTIAL = {"name": "partial", "freeze_layers": 1}


def _recipe(demo_data, task, out, seed=1, method=PARTIAL):
    r = tiny_recipe(demo_data, task, out, epochs=1, seed=seed)
    r["method"] = method
    return r


@pytest.fixture(scope="module")
def fitted(demo_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("ens")
    members = [
        Member(_recipe(demo_data, "classification", root / "a", seed=1), name="a").fit(output=root / "a"),
        Member(
            _recipe(
                demo_data, "classification", root / "b", seed=2, method={"name": "adapter", "layers": [1]}
            ),
            name="b",
        ).fit(output=root / "b"),
    ]
    splits = training_examples(members[0].recipe)
    return root, members, splits


def test_voting_shares_the_backbone_and_reloads_identically(fitted, tmp_path):
    root, members, splits = fitted
    ens = VotingEnsemble(members, weights="learn").fit(splits["validation"])
    assert ens.weights_.sum() == pytest.approx(1.0)
    assert share_plan(members) == [([0, 1], 1)]  # embeddings + layer 0 run once for both
    shared = ens.predict_proba(splits["test"])
    from tuneforge.models.prefix_cache import base_model

    a, b = (base_model(m.predictor_.model.backbone) for m in members)
    assert a.embeddings is b.embeddings and a.encoder.layer[0] is b.encoder.layer[0]  # held once
    assert a.encoder.layer[1] is not b.encoder.layer[1]
    assert share_plan(members) == [([0, 1], 1)]
    separate = VotingEnsemble(members, weights=ens.weights_.tolist(), share_backbone=False).fit()
    assert np.allclose(shared, separate.predict_proba(splits["test"]), atol=1e-6)
    save_ensemble(ens, tmp_path / "ens")
    again = load_ensemble(tmp_path / "ens")
    assert np.array_equal(again.predict_proba(splits["test"]), shared)
    assert [p.label for p in again.predict(splits["test"])] == [p.label for p in ens.predict(splits["test"])]
    report = ensemble_report(ens, splits["test"])
    assert [r["kind"] for r in report["rows"]] == ["member", "member", "ensemble"]
    assert 0.0 <= report["disagreement"]["any"] <= 1.0
    hard = VotingEnsemble(members, voting="hard").fit()
    assert np.allclose(hard.predict_proba(splits["test"][:5]).sum(1), 1.0)


def test_bagging_and_boosting(fitted, demo_data, tmp_path):
    _, members, splits = fitted
    base = Member(_recipe(demo_data, "classification", tmp_path / "x"), name="p")
    bag = BaggingEnsemble(base, n_members=2).fit(out=str(tmp_path / "bag"))
    assert len(bag.members) == 2 and all(sum(c) == len(splits["train"]) for c in bag.counts_)
    assert bag.counts_[0] != bag.counts_[1]
    boost = BoostingEnsemble(base, n_members=2).fit(out=str(tmp_path / "boost"))
    assert 1 <= len(boost.members) <= 2 and (boost.weights_ > 0).all() and boost.stopped_
    assert boost.evaluate(splits["test"]).metrics["accuracy"] >= 0.0
    save_ensemble(boost, tmp_path / "boost")
    again = load_ensemble(tmp_path / "boost")
    assert np.array_equal(again.predict_proba(splits["test"]), boost.predict_proba(splits["test"]))
    assert isinstance(bag.clone(), BaggingEnsemble) and not bag.clone().members


def test_stacking_kfold_and_prefit(fitted, demo_data, tmp_path):
    _, members, splits = fitted
    one = Member(_recipe(demo_data, "classification", tmp_path / "s"), name="s")
    ens = StackingEnsemble([one], cv=2).fit(out=str(tmp_path / "stack"))
    assert len(ens.folds_) == 2 and one.fitted
    probs = ens.predict_proba(splits["test"])
    assert probs.shape == (len(splits["test"]), len(ens.labels)) and np.allclose(probs.sum(1), 1.0)
    prefit = StackingEnsemble(members, cv="prefit").fit(splits["validation"])
    save_ensemble(prefit, tmp_path / "prefit")
    assert (tmp_path / "prefit" / "meta.json").is_file()
    again = load_ensemble(tmp_path / "prefit")
    # the meta-learner is stored as JSON numbers: identical labels, probabilities equal to rounding
    assert np.allclose(
        again.predict_proba(splits["test"]), prefit.predict_proba(splits["test"]), rtol=0, atol=1e-12
    )
    assert [p.label for p in again.predict(splits["test"])] == [
        p.label for p in prefit.predict(splits["test"])
    ]


def test_stacking_with_the_log_linear_pool(fitted, demo_data, tmp_path):
    root, members, splits = fitted
    ens = StackingEnsemble(members, meta=LogLinearPool(), cv="prefit").fit(splits["validation"])
    assert ens.meta_.n_labels == len(ens.labels) and ens.meta_.coef_.shape == (2,)
    # the report gives the pool's weight per member; a logistic meta-learner has none to give
    assert ensemble_report(ens, splits["test"])["weights"] == [round(float(w), 6) for w in ens.meta_.coef_]
    logistic = StackingEnsemble(members, cv="prefit").fit(splits["validation"])
    assert ensemble_report(logistic, splits["test"])["weights"] is None
    probs = ens.predict_proba(splits["test"])
    assert probs.shape == (len(splits["test"]), len(ens.labels)) and np.allclose(probs.sum(1), 1.0)
    save_ensemble(ens, tmp_path / "pool")
    saved = json.loads((tmp_path / "pool" / "meta.json").read_text())
    assert saved["estimator"] == "loglinear" and len(saved["coef"]) == 2
    again = load_ensemble(tmp_path / "pool")
    assert np.allclose(again.predict_proba(splits["test"]), probs, rtol=0, atol=1e-12)
    # from the command line, over finished runs
    result = CliRunner().invoke(
        app,
        ["ensemble", str(root / "a"), str(root / "b"), "--strategy", "stacking", "--meta", "loglinear",
         "--data", str(demo_data["classification"]["validation"]), "--out", str(tmp_path / "cli")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "cli" / "meta.json").read_text())["estimator"] == "loglinear"
    # multi-label has no single distribution per member to pool
    ml = Member(_recipe(demo_data, "multilabel", tmp_path / "ml"), name="ml")
    with pytest.raises(ConfigError, match="multi-label stacking use the logistic"):
        StackingEnsemble([ml], meta=LogLinearPool(), cv="prefit").fit(
            training_examples(ml.recipe)["validation"], out=str(tmp_path / "mlout")
        )


def test_ner_voting_and_distillation(demo_data, tmp_path):
    members = [
        Member(_recipe(demo_data, "ner", tmp_path / f"n{s}", seed=s), name=f"n{s}").fit(
            output=tmp_path / f"n{s}"
        )
        for s in (1, 2)
    ]
    test = training_examples(members[0].recipe)["test"]
    for voting in ("soft", "hard"):
        ens = VotingEnsemble(members, voting=voting).fit()
        preds = ens.predict(test)
        for p in preds:
            for prev, tag in zip(["O", *p.tags], p.tags, strict=False):
                assert not tag.startswith("I-") or prev[2:] == tag[2:]
        assert "f1" in ens.evaluate(test).metrics
    # stacking per word: k-fold over sentences and prefit, decoded to valid IOB2, reloaded identically
    kfold = StackingEnsemble([Member(_recipe(demo_data, "ner", tmp_path / "k"), name="k")], cv=2)
    kfold.fit(out=str(tmp_path / "kstack"))
    assert len(kfold.folds_) == 2 and kfold.meta_ is not None
    prefit = StackingEnsemble(members, cv="prefit").fit(training_examples(members[0].recipe)["validation"])
    pooled = StackingEnsemble(members, meta=LogLinearPool(), cv="prefit").fit(
        training_examples(members[0].recipe)["validation"]
    )
    for ens in (kfold, prefit, pooled):
        probs = ens.predict_proba(test)
        assert [len(p) for p in probs] == [len(e.tokens) for e in test]
        assert all(np.allclose(p.sum(1), 1.0) for p in probs)
        for p in ens.predict(test):
            for prev, tag in zip(["O", *p.tags], p.tags, strict=False):
                assert not tag.startswith("I-") or prev[2:] == tag[2:]
    save_ensemble(prefit, tmp_path / "nstack")
    again = load_ensemble(tmp_path / "nstack")
    assert all(
        np.allclose(a, b, rtol=0, atol=1e-12)
        for a, b in zip(again.predict_proba(test), prefit.predict_proba(test), strict=True)
    )
    assert [p.tags for p in again.predict(test)] == [p.tags for p in prefit.predict(test)]
    student = Member(_recipe(demo_data, "ner", tmp_path / "st", seed=3), name="student")
    distill(VotingEnsemble(members).fit(), student, temperature=2.0, alpha=0.5, output=str(tmp_path / "st"))
    assert student.fitted
    report = ensemble_report(VotingEnsemble(members).fit(), test, student)
    assert [r["kind"] for r in report["rows"]] == ["member", "member", "ensemble", "student"]


def test_cli_recipe_runs_and_evaluate(fitted, demo_data, tmp_path):
    root, members, splits = fitted
    recipe = _recipe(demo_data, "classification", tmp_path / "ens")
    from tuneforge.data.demo import write_demo
    from tuneforge.data.readers import read_texts

    # unlabelled transfer text, one a line, named relative to the recipe file
    other = read_texts(write_demo(tmp_path / "other", task="intent", sizes=(30, 5, 5), seed=7)["train"])
    (tmp_path / "unlabelled.txt").write_text("\n".join(e.text for e in other) + "\n")
    recipe["ensemble"] = {
        "strategy": "soft",
        "n_members": 2,
        "distill": {"temperature": 2.0, "alpha": 0.5, "transfer": "unlabelled.txt", "transfer_limit": 20},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    runner = CliRunner()
    res = runner.invoke(app, ["ensemble", str(tmp_path / "r.yaml"), "--quiet"])
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "ens" / "ensemble.json").read_text())
    assert [m["path"] for m in record["members"]] == ["runs/m1/model", "runs/m2/model"]
    assert record["student"]["path"] == "student/model"
    assert record["student"]["transfer"]["examples"] == 20
    report = (tmp_path / "ens" / "ensemble_report.md").read_text()
    assert "student" in report and "on 20 unlabelled transfer texts" in report
    test_file = demo_data["classification"]["test"]
    res = runner.invoke(app, ["ensemble", "evaluate", str(tmp_path / "ens"), str(test_file)])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())  # the console wraps long lines
    assert "disagree" in said and "on 20 unlabelled transfer texts" in said
    # a transfer file that is not there: the data error names it, and no student is trained
    recipe["output"] = str(tmp_path / "ens2")
    recipe["ensemble"]["distill"]["transfer"] = "missing.txt"
    (tmp_path / "r2.yaml").write_text(yaml.safe_dump(recipe))
    res = runner.invoke(app, ["ensemble", str(tmp_path / "r2.yaml"), "--quiet"])
    assert res.exit_code != 0 and "missing.txt" in str(res.exception) + res.output
    assert not (tmp_path / "ens2" / "student").exists()
    res = runner.invoke(
        app,
        [
            "ensemble",
            str(root / "a"),
            str(root / "b"),
            "--strategy",
            "stacking",
            "--data",
            str(demo_data["classification"]["validation"]),
            "--out",
            str(tmp_path / "runs-ens"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert load_ensemble(tmp_path / "runs-ens").strategy == "stacking"
    # `tuneforge predict` and `tuneforge.load` take an ensemble directory like a run
    res = runner.invoke(app, ["predict", str(tmp_path / "runs-ens"), str(test_file)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    loaded = tuneforge.load(tmp_path / "runs-ens")
    texts = [r["text"] for r in rows]
    assert [r["label"] for r in rows] == [p.label for p in loaded.predict(texts)]
    assert set(rows[0]["probabilities"]) == set(loaded.labels)
    res = runner.invoke(app, ["ensemble", str(root / "a"), str(root / "b")])
    assert isinstance(res.exception, ConfigError) and "--out" in str(res.exception)


def test_multilabel_voting_stacking_bagging_and_distillation(demo_data, tmp_path):
    """Multi-label ensembles: per-label probabilities averaged (soft), per-label majority (hard),
    Bernoulli-likelihood weights, one meta-learner per label, saved and reloaded identically, and a
    student distilled from the per-label probabilities."""
    members = [
        Member(_recipe(demo_data, "multilabel", tmp_path / f"m{i}", seed=i), name=f"m{i}").fit(
            output=tmp_path / f"m{i}"
        )
        for i in (1, 2)
    ]
    splits = training_examples(members[0].recipe)
    test = splits["test"]
    probas = VotingEnsemble(members).fit().member_probas(test)
    soft = VotingEnsemble(members).fit()
    assert np.allclose(soft.combine(probas), (probas[0] + probas[1]) / 2)
    for pred, row in zip(soft.predictions_from(probas, test), soft.combine(probas), strict=True):
        assert pred.label == [lab for lab, v in zip(soft.labels, row, strict=True) if v >= 0.5]
    hard = VotingEnsemble(members, voting="hard").fit()
    votes = ((probas[0] >= 0.5).astype(float) + (probas[1] >= 0.5)) / 2
    assert np.array_equal(hard.combine(probas), votes)
    learnt = VotingEnsemble(members, weights="learn").fit(splits["validation"])
    assert learnt.weights_.sum() == pytest.approx(1.0) and (learnt.weights_ >= 0).all()
    stack = StackingEnsemble(members, cv="prefit").fit(splits["validation"])
    p = stack.predict_proba(test)
    assert p.shape == (len(test), len(stack.labels)) and ((p >= 0) & (p <= 1)).all()
    save_ensemble(stack, tmp_path / "stack")
    assert json.loads((tmp_path / "stack" / "meta.json").read_text())["estimator"] == "per-label"
    again = load_ensemble(tmp_path / "stack")
    assert np.array_equal(again.predict_proba(test), p)
    report = ensemble_report(stack, test)
    assert "micro_f1" in report["rows"][-1]["metrics"] and 0 <= report["disagreement"]["any"] <= 1
    bag = BaggingEnsemble(
        Member(_recipe(demo_data, "multilabel", tmp_path / "b"), name="b"), n_members=2
    ).fit(out=str(tmp_path / "bag"))
    assert len(bag.predict(test)) == len(test)
    student = Member(_recipe(demo_data, "multilabel", tmp_path / "st", seed=3), name="student")
    distill(soft, student, temperature=2.0, alpha=0.5, output=str(tmp_path / "st"))
    assert student.fitted and set(student.labels) <= set(soft.labels)
    with pytest.raises(ConfigError, match="single-label"):
        BoostingEnsemble(Member(_recipe(demo_data, "multilabel", tmp_path / "x"), name="x")).fit()


def _own_vocab_bert(folder, demo_data):
    """A local BERT folder unlike tiny-random: its own word-level vocabulary (the demo words, lowercased),
    another hidden size and depth, so the members differ in backbone and tokenizer."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from tuneforge.data.readers import read_examples

    words: set[str] = set()
    for task in ("classification", "ner"):
        for ex in read_examples(str(demo_data[task]["train"]), task=task):
            words.update(w.lower().strip(".,?!") for w in (ex.tokens or ex.text.split()))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(w for w in words if w)]
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=48, num_hidden_layers=3, num_attention_heads=4, intermediate_size=96,
        max_position_embeddings=128,
    )  # fmt: skip
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("task", ["classification", "ner"])
def test_members_on_different_backbones(demo_data, tmp_path, task):
    other = _own_vocab_bert(tmp_path / "own-bert", demo_data)
    recipes = {
        "tiny": _recipe(demo_data, task, tmp_path / "tiny"),
        "own": _recipe(demo_data, task, tmp_path / "own"),
    }
    recipes["own"]["backbone"] = str(other)
    recipes["own"]["method"] = {"name": "lora", "r": 4}
    members = [Member(r, name=name).fit(output=tmp_path / name) for name, r in recipes.items()]
    assert share_plan(members) == [([0], -1), ([1], -1)]  # nothing shared: each runs its own backbone
    test = training_examples(members[0].recipe)["test"]
    validation = training_examples(members[0].recipe)["validation"]
    for ens in (VotingEnsemble(members).fit(), StackingEnsemble(members, cv="prefit").fit(validation)):
        probs = ens.predict_proba(test)
        if task == "ner":  # one row per word, whatever each member's tokenizer made of the words
            assert [len(p) for p in probs] == [len(e.tokens) for e in test]
            for p in ens.predict(test):
                for prev, tag in zip(["O", *p.tags], p.tags, strict=False):
                    assert not tag.startswith("I-") or prev[2:] == tag[2:]
        else:
            assert probs.shape == (len(test), len(ens.labels))
        metric = "f1" if task == "ner" else "accuracy"
        assert 0.0 <= ens.evaluate(test).metrics[metric] <= 1.0
    save_ensemble(ens, tmp_path / "saved")
    again = load_ensemble(tmp_path / "saved")
    for a, b in zip(again.predict_proba(test), ens.predict_proba(test), strict=True):
        assert np.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("task", ["classification", "ner", "multilabel"])
def test_distillation_on_a_transfer_set(fitted, demo_data, tmp_path, task):
    """Unlabelled text joins the student's training on the teacher's soft labels alone; texts of the
    student's own splits and repeats are dropped and counted."""
    from tuneforge.data.demo import write_demo
    from tuneforge.data.readers import read_texts

    if task == "classification":
        members = fitted[1]
    else:
        members = [
            Member(_recipe(demo_data, task, tmp_path / f"n{s}", seed=s), name=f"n{s}").fit(
                output=tmp_path / f"n{s}"
            )
            for s in (1, 2)
        ]
    teacher = VotingEnsemble(members).fit()
    kind = {"classification": "intent", "ner": "ner", "multilabel": "multilabel"}[task]
    other = write_demo(tmp_path / "other", task=kind, sizes=(40, 5, 5), seed=7)  # unseen text
    fresh = read_texts(other["train"])
    own = training_examples(members[0].recipe)
    offered = fresh + fresh[:3] + own["train"][:4] + own["test"][:2]
    student = Member(_recipe(demo_data, task, tmp_path / "st", seed=3), name="student")
    distill(teacher, student, transfer=offered, output=str(tmp_path / "st"))
    ts = student.transfer_

    def key(e):
        return " ".join(e.tokens or e.text.split())

    in_splits = {key(e) for split in own.values() for e in split}
    unique = {key(e) for e in fresh} - in_splits  # the generator may repeat a sentence of the splits
    collide = sum(key(e) in in_splits for e in fresh + fresh[:3])
    assert len(ts.examples) == len(unique)
    assert ts.dropped_duplicate == len(fresh) + 3 - collide - len(unique)
    assert ts.dropped_in_splits == 6 + collide
    assert len(ts.targets) == len(ts.examples)
    if task == "ner":  # one row of tag probabilities per word
        assert [len(t) for t in ts.targets] == [len(e.tokens) for e in ts.examples]
    # the transfer examples made the epochs longer: more optimizer steps than a plain student
    steps = [json.loads(x) for x in (tmp_path / "st" / "metrics.jsonl").read_text().splitlines()]
    plain = Member(_recipe(demo_data, task, tmp_path / "plain", seed=3), name="plain")
    distill(teacher, plain, output=str(tmp_path / "plain"))
    plain_steps = [json.loads(x) for x in (tmp_path / "plain" / "metrics.jsonl").read_text().splitlines()]
    last = max(r.get("step", 0) for r in steps)
    assert last > max(r.get("step", 0) for r in plain_steps)
    assert student.predictor_.evaluate(own["test"]).metrics
    # nothing left after dropping: a clear error, no run
    with pytest.raises(ConfigError, match="transfer set is empty"):
        distill(
            teacher, Member(_recipe(demo_data, task, tmp_path / "e"), name="e"), transfer=own["train"][:5]
        )


def test_ngram_member_beside_fine_tuned_members(fitted, demo_data, tmp_path):
    """An n-gram member trains on the fine-tuned members' split, votes and stacks with them, reloads
    to identical predictions, refits as itself, and refuses what it cannot do."""
    root, members, splits = fitted
    ngram = NgramMember(_recipe(demo_data, "classification", tmp_path / "ng"), name="ng").fit()
    run = tmp_path / "ng"
    assert (run / "model" / "ngram.npz").is_file() and (run / "recipe.yaml").is_file()
    summary = json.loads((run / "run.json").read_text())
    assert summary["kind"] == "ngram" and summary["train_examples"] == len(splits["train"])
    assert set(summary["metrics"]) == {"validation", "test"}
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name], "no temporary folder left"
    assert ngram.labels == members[0].labels
    # the Predictor interface: tuneforge.load, predict, evaluate
    loaded = tuneforge.load(run)
    texts = [e.text for e in splits["test"][:5]]
    assert [p.label for p in loaded.predict(texts)] == [p.label for p in ngram.predictor_.predict(texts)]
    assert loaded.evaluate(splits["test"]).metrics == pytest.approx(summary["metrics"]["test"])
    again = Member.from_run(run)
    assert isinstance(again, NgramMember) and again.options == ngram.options
    assert np.array_equal(again.predict_proba(splits["test"]), ngram.predict_proba(splits["test"]))
    clone = again.clone(output=str(tmp_path / "ng2"))
    assert isinstance(clone, NgramMember) and not clone.fitted
    # with fine-tuned members: the members' shared pass is unchanged, the n-gram member runs alone
    mixed = [*members, ngram]
    assert share_plan(mixed) == [([0, 1], 1), ([2], -1)]
    ens = StackingEnsemble(mixed, meta=LogLinearPool(), cv="prefit").fit(splits["validation"])
    assert ens.meta_.coef_.shape == (3,)
    report = ensemble_report(ens, splits["test"])
    assert [r["name"] for r in report["rows"]] == ["a", "b", "ng", "stacking"]
    save_ensemble(ens, tmp_path / "mixed")
    back = load_ensemble(tmp_path / "mixed")
    assert isinstance(back.members[2], NgramMember)
    assert np.allclose(
        back.predict_proba(splits["test"]), ens.predict_proba(splits["test"]), rtol=0, atol=1e-12
    )
    # k-fold stacking refits it on each fold (weights 0 / 1) like any member
    kfold = StackingEnsemble([clone], cv=2).fit(out=str(tmp_path / "kfold"))
    assert len(kfold.folds_) == 2 and clone.fitted
    # what it cannot do: be exported or served, be a distillation student, or tag tokens
    from tuneforge.export.bundle import load_bundle
    from tuneforge.serve.server import build_app

    with pytest.raises(ConfigError, match="n-gram model"):
        load_bundle(run / "model")
    with pytest.raises(ConfigError, match="nothing to export or serve"):
        build_app(run, None)
    with pytest.raises(ConfigError, match="cannot be a distillation student"):
        distill(
            VotingEnsemble(members).fit(), NgramMember(_recipe(demo_data, "classification", tmp_path / "s"))
        )
    with pytest.raises(ConfigError, match="n-gram member classifies texts"):
        NgramMember(_recipe(demo_data, "ner", tmp_path / "n")).fit()


def test_ngram_member_in_a_recipe(demo_data, tmp_path):
    recipe = _recipe(demo_data, "multilabel", tmp_path / "ens")
    recipe["ensemble"] = {
        "strategy": "stacking",
        "members": [{"method": PARTIAL}, {"kind": "ngram", "ngram": {"c": 5.0}}],
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    res = CliRunner().invoke(app, ["ensemble", str(tmp_path / "r.yaml"), "--quiet"])
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "ens" / "ensemble.json").read_text())
    assert [m["path"] for m in record["members"]] == ["runs/m1/model", "runs/m2/model"]
    ens = load_ensemble(tmp_path / "ens")
    assert ens.members[1].options.c == 5.0 and ens.task == "multilabel"
    report = (tmp_path / "ens" / "ensemble_report.md").read_text()
    assert "m2" in report
    # finished runs combine from the command line, the n-gram run among them
    runs = [str(tmp_path / "ens" / "runs" / m) for m in ("m1", "m2")]
    res = CliRunner().invoke(app, ["ensemble", *runs, "--strategy", "soft", "--out", str(tmp_path / "cli")])
    assert res.exit_code == 0, res.output
    assert isinstance(load_ensemble(tmp_path / "cli").members[1], NgramMember)
    bad = dict(recipe, output=str(tmp_path / "bad"))
    bad["ensemble"] = {"strategy": "soft", "members": [{"kind": "ngram", "method": "lora"}]}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    res = CliRunner().invoke(app, ["ensemble", str(tmp_path / "bad.yaml"), "--quiet"])
    assert res.exit_code != 0 and "n-gram member has no method" in str(res.exception) + res.output
    assert not (tmp_path / "bad").exists()
