"""What each method trains, adds and refuses, on the tiny random backbone."""

from __future__ import annotations

import pytest
import torch

from tuneforge.errors import ConfigError
from tuneforge.export.bundle import build_model
from tuneforge.methods import METHODS, count_parameters, get_method
from tuneforge.methods.targets import find, layer_stack
from tuneforge.models.backbones import resolve_backbone
from tuneforge.models.tasks import get_task

SPEC = resolve_backbone("tiny-random")


def _model(task="classification"):
    torch.manual_seed(0)
    return build_model(get_task(task), SPEC, 3, "mean", 0.0)


def _batch():
    ids = torch.tensor([[101, 2000, 2001, 2002, 102], [101, 2003, 102, 0, 0]])
    return {"input_ids": ids, "attention_mask": (ids != 0).long()}


def _trainable(model):
    return [n for n, p in model.backbone.named_parameters() if p.requires_grad]


def test_adapters_start_as_the_identity_and_placement_counts():
    base = _model()
    base.eval()
    with torch.no_grad():
        expected = base(**_batch())
    sizes = {}
    for placement in ("pfeiffer", "houlsby"):
        model = _model()
        get_method("adapter", {"placement": placement}).apply(model, SPEC)
        model.eval()
        with torch.no_grad():
            torch.testing.assert_close(model(**_batch()), expected)
        names = _trainable(model)
        assert names and all(".adapter." in n for n in names)
        sizes[placement] = sum(p.numel() for p in model.backbone.parameters() if p.requires_grad)
    assert sizes["houlsby"] == 2 * sizes["pfeiffer"]


def test_adapter_layers_option_and_range_check():
    model = _model()
    get_method("adapter", {"layers": [1]}).apply(model, SPEC)
    assert all(".layer.1." in n for n in _trainable(model))
    with pytest.raises(ConfigError, match="out of range"):
        get_method("adapter", {"layers": [5]}).apply(_model(), SPEC)


@pytest.mark.parametrize(
    "method",
    [
        {"name": "adapter", "layers": [1]},
        {"name": "lora", "layers": [1]},
        {"name": "adalora", "layers": [1], "init_r": 4, "target_r": 2},
        {"name": "ia3", "layers": [1]},
    ],
    ids=lambda m: m["name"],
)
def test_layers_option_keeps_the_lower_layers_untouched_and_cacheable(method):
    options = {k: v for k, v in method.items() if k != "name"}
    model = _model()
    m = get_method(method["name"], options)
    m.apply(model, SPEC)
    names = _trainable(model)
    assert names and all(".layer.1." in n for n in names), names
    assert m.frozen_prefix(model) == 1
    model.train()
    model(**_batch())
    stack = layer_stack(
        model.backbone.get_base_model() if hasattr(model.backbone, "get_base_model") else model.backbone
    )
    assert not stack[0].training, "the untouched lower layer runs without dropout"
    assert stack[1].training
    whole = get_method(method["name"], {k: v for k, v in options.items() if k != "layers"})
    assert whole.frozen_prefix(_model()) == 0, "without layers nothing is left untouched"
    with pytest.raises(ConfigError, match="out of range"):
        get_method(method["name"], {**options, "layers": [2]}).apply(_model(), SPEC)


def test_adapter_layers_with_trained_layernorms_touch_every_layer():
    method = get_method("adapter", {"layers": [1], "train_layernorm": True})
    model = _model()
    method.apply(model, SPEC)
    assert method.frozen_prefix(model) == 0
    assert any(".layer.0." in n for n in _trainable(model))


def test_bitfit_trains_only_biases_and_layernorm_only_norms():
    model = _model()
    get_method("bitfit").apply(model, SPEC)
    assert _trainable(model) and all(n.endswith(".bias") for n in _trainable(model))
    model = _model()
    get_method("layernorm").apply(model, SPEC)
    assert _trainable(model) and all("LayerNorm" in n for n in _trainable(model))


def test_partial_freezes_lower_layers_and_keeps_them_in_inference_mode():
    model = _model()
    method = get_method("partial", {"freeze_layers": 1})
    method.apply(model, SPEC)
    names = _trainable(model)
    assert not any(".layer.0." in n or "embeddings" in n for n in names)
    assert any(".layer.1." in n for n in names)
    assert method.frozen_prefix(model) == 1
    model.train()
    model(**_batch())
    assert not layer_stack(model.backbone)[0].training, "frozen layers run without dropout"
    assert layer_stack(model.backbone)[1].training
    with pytest.raises(ConfigError, match="only 2 layers"):
        get_method("partial", {"freeze_layers": 3}).apply(_model(), SPEC)
    default = get_method("partial")
    assert default.frozen_prefix(_model()) == 1, "default: half the layers"
    assert get_method("partial", {"freeze_embeddings": False}).frozen_prefix(_model()) == 0


def test_soft_prompts_drop_their_virtual_tokens():
    for name in ("prompt", "ptuning"):
        model = _model("ner")
        method = get_method(name, {"virtual_tokens": 4})
        method.apply(model, SPEC)
        assert method.extra_positions() == 4 and model.virtual_tokens == 4
        assert model(**_batch()).shape[:2] == (2, 5), "one output per real token"


def test_lora_on_missing_modules_is_a_clear_error():
    with pytest.raises(ConfigError, match="cannot apply to backbone"):
        get_method("lora", {"target_modules": ["q_proj"]}).apply(_model(), SPEC)


def test_ia3_targets_keys_values_and_ffn_output():
    model = _model()
    get_method("ia3").apply(model, SPEC)
    names = _trainable(model)
    assert any("self.key" in n for n in names) and any("self.value" in n for n in names)
    assert any(".output.dense" in n and "attention" not in n for n in names)
    assert not any("query" in n for n in names)


def test_every_parameter_efficient_method_trains_a_small_share():
    for name in ("lora", "adalora", "adapter", "prefix", "prompt", "ptuning", "ia3", "bitfit", "layernorm"):
        model = _model()
        get_method(name).apply(model, SPEC, total_steps=100)
        head = sum(p.numel() for p in model.head.parameters())
        share = (count_parameters(model)["trainable"] - head) / count_parameters(model)["total"]
        assert 0 < share < 0.1, (name, share)


def test_role_lookup_names_the_method_when_missing():
    with pytest.raises(ConfigError, match="method 'x' cannot apply"):
        find(torch.nn.Sequential(torch.nn.Linear(2, 2)), "ffn_out", "x")


def test_method_option_errors_suggest_the_nearest():
    with pytest.raises(ConfigError, match="Did you mean 'placement'"):
        get_method("adapter", {"placment": "houlsby"})


def test_default_learning_rate_is_the_methods_own_times_the_tasks_scale():
    for name in METHODS:
        method = get_method(name)
        assert method.default_lr_for("classification") == method.default_lr()
        assert method.default_lr_for("multilabel") == method.default_lr()
        assert method.default_lr_for("ner") == pytest.approx(2 * method.default_lr())


def test_the_probe_pass_fills_the_frozen_prefix_cache_with_the_same_features():
    from tuneforge.models.inference import extract_features
    from tuneforge.models.prefix_cache import FrozenPrefixCache

    task = get_task("classification")
    model = _model()
    get_method("partial", {"freeze_layers": 1}).apply(model, SPEC)
    rows = [[101, 2000 + i, 2001, 2002 + i, 102][: 3 + i % 3] for i in range(7)]
    feats = [{"input_ids": r, "attention_mask": [1] * len(r), "labels": i % 3} for i, r in enumerate(rows)]
    plain, y = extract_features(model, task, feats, batch_size=4)
    model.prefix_cache = FrozenPrefixCache(1)
    cached, y2 = extract_features(model, task, feats, batch_size=4, training_set=True)
    assert sorted(model.prefix_cache.store) == list(range(7))  # every training example, by its index
    assert [t.shape[0] for _, t in sorted(model.prefix_cache.store.items())] == [len(r) for r in rows]
    torch.testing.assert_close(cached, plain)
    assert torch.equal(y, y2)
    again, _ = extract_features(model, task, feats, batch_size=4, training_set=True)  # served from the store
    torch.testing.assert_close(again, plain)
    other, _ = extract_features(model, task, feats[:2], batch_size=4)  # other splits never touch it
    assert len(model.prefix_cache.store) == 7 and other.shape[0] == 2


@pytest.mark.parametrize("placement", ["pfeiffer", "houlsby"])
def test_the_cache_reaches_into_the_first_adapted_layer_with_the_same_outputs_and_gradients(placement):
    import copy

    from tuneforge.models.prefix_cache import FrozenPrefixCache

    method = get_method("adapter", {"placement": placement, "layers": [1], "dropout": 0.2})
    model = _model()
    method.apply(model, SPEC)
    cut = method.frozen_cut(model)
    assert cut is not None and method.frozen_prefix(model) == 1
    with torch.no_grad():  # adapters start as the identity; give them weights that matter
        for p in model.backbone.parameters():
            if p.requires_grad:
                p.normal_(0, 0.3)
    cached = copy.deepcopy(model)
    cached.prefix_cache = FrozenPrefixCache(1, cut)
    batch = {**_batch(), "example_ids": torch.tensor([7, 3])}
    model.train()
    cached.train()
    cached(**batch)  # fills the store
    assert sorted(cached.prefix_cache.store) == [3, 7]
    hidden = model.backbone.config.hidden_size
    assert cached.prefix_cache.store[7].shape == (5, 2 * hidden)
    assert cached.prefix_cache.store[3].shape == (3, 2 * hidden)
    layer = layer_stack(cached.backbone)[1]
    ran = []
    skipped = layer.get_submodule("intermediate" if placement == "pfeiffer" else "attention.self")
    handle = skipped.register_forward_hook(lambda *a: ran.append(1))
    outputs = []
    for m, kwargs in ((model, _batch()), (cached, batch)):
        torch.manual_seed(11)  # the same dropout masks in the trained part
        out = m(**kwargs)
        out.sum().backward()
        grads = {n: p.grad.clone() for n, p in m.backbone.named_parameters() if p.requires_grad}
        outputs.append((out.detach(), grads))
    handle.remove()
    assert not ran, "served from the cache, the frozen start of the layer does not run"
    torch.testing.assert_close(outputs[1][0], outputs[0][0])
    assert outputs[0][1].keys() == outputs[1][1].keys()
    for n, g in outputs[0][1].items():
        torch.testing.assert_close(outputs[1][1][n], g, msg=n)
    model.train()
    model(**_batch())
    first = layer_stack(model.backbone)[1]
    frozen_start = first.attention if placement == "pfeiffer" else first.attention.self
    assert not frozen_start.training, "the frozen start of the first adapted layer runs without dropout"
    assert first.output.training and first.output.dense.adapter.training


def test_no_cut_without_a_frozen_prefix_or_with_trained_layernorms():
    for options in ({}, {"layers": [1], "train_layernorm": True}, {"layers": [0, 1]}):
        method = get_method("adapter", options)
        model = _model()
        method.apply(model, SPEC)
        assert method.frozen_cut(model) is None, options
    assert get_method("lora", {"layers": [1]}).frozen_cut(_model()) is None
    chunked = _model()
    layer_stack(chunked.backbone)[1].chunk_size_feed_forward = 2  # the FFN would see slices only
    method = get_method("adapter", {"layers": [1]})
    method.apply(chunked, SPEC)
    assert method.frozen_cut(chunked) is None
