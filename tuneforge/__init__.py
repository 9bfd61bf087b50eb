"""tuneforge: fine-tune a pretrained language model on your own labelled data, measured and deployable."""

__version__ = "0.1.0"
