"""Two LoRA runs (intents and entities) served from one copy of MiniLM-L6.

tuneforge data demo data/demo-intent --task intent
tuneforge data demo data/demo-ner --task ner
python examples/adapter_set.py
"""

import tuneforge

common = {"backbone": "minilm-l6", "method": {"name": "lora", "r": 8}, "train": {"epochs": 3}}
intent = tuneforge.run(
    {
        **common,
        "task": "classification",
        "data": {"train": "data/demo-intent/train.csv", "test": "data/demo-intent/test.csv"},
        "output": "runs/set-intent",
    },
    force=True,
    quiet=True,
)
ner = tuneforge.run(
    {
        **common,
        "task": "ner",
        "data": {"train": "data/demo-ner/train.conll", "test": "data/demo-ner/test.conll"},
        "output": "runs/set-ner",
    },
    force=True,
    quiet=True,
)

aset = tuneforge.load_adapters({"intent": intent.path, "ner": ner.path})
text = "I lost my card in Oslo yesterday"
print(aset.predict([text], adapter="intent")[0].label)
print([(e.type, e.text) for e in aset.predict([text], adapter="ner")[0].entities])
