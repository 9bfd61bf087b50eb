"""Model classes for tuneforge's Hugging Face-format exports (copied into each ``model/`` folder).

Load a fine-tuned tuneforge model with plain transformers::

    AutoModelForSequenceClassification.from_pretrained(run / "model", trust_remote_code=True)
    AutoModelForTokenClassification.from_pretrained(run / "model", trust_remote_code=True)

The weights are the backbone's (``backbone.*``) and a linear head (``head.out.*``) over the mean or
first-token pooled states (sequence tasks) or over every token (token tasks). Needs only torch and
transformers."""

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput, TokenClassifierOutput


def _backbone(config):
    inner = AutoConfig.for_model(**{k: v for k, v in config.to_dict().items() if k not in _OURS})
    try:
        return AutoModel.from_config(inner, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(inner)


_OURS = ("auto_map", "architectures", "tuneforge", "transformers_version")


class _Head(nn.Module):
    def __init__(self, hidden, n_out, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_out)


class _TuneforgeBase(PreTrainedModel):
    config_class = PretrainedConfig
    base_model_prefix = "backbone"

    def __init__(self, config):
        super().__init__(config)
        extra = getattr(config, "tuneforge", {}) or {}
        self.pooling = extra.get("pooling", "mean")
        self.normalize = extra.get("normalize", False)
        self.backbone = _backbone(config)
        self.head = _Head(config.hidden_size, config.num_labels, extra.get("dropout", 0.1))
        self.post_init()

    def _init_weights(self, module):
        return None  # every weight comes from the checkpoint

    def _hidden(self, input_ids, attention_mask):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return self.backbone(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state, attention_mask


class TuneforgeForSequenceClassification(_TuneforgeBase):
    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        hidden, mask = self._hidden(input_ids, attention_mask)
        if self.pooling == "mean":
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        else:
            pooled = hidden[:, 0]
        if self.normalize:
            pooled = nn.functional.normalize(pooled, dim=-1)
        logits = self.head.out(self.head.dropout(pooled))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TuneforgeForTokenClassification(_TuneforgeBase):
    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        hidden, _ = self._hidden(input_ids, attention_mask)
        logits = self.head.out(self.head.dropout(hidden))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)
