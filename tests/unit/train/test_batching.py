import numpy as np

from tuneforge.train.batching import eval_batches, padding_share, train_batches


def test_every_example_once_per_epoch_and_reproducible():
    lengths = np.random.default_rng(0).integers(3, 60, size=1003).tolist()
    a = train_batches(lengths, 32, seed=7, epoch=0)
    assert sorted(i for b in a for i in b) == list(range(1003))
    assert a == train_batches(lengths, 32, seed=7, epoch=0)
    assert a != train_batches(lengths, 32, seed=7, epoch=1)
    assert a != train_batches(lengths, 32, seed=8, epoch=0)


def test_length_grouping_cuts_padding():
    lengths = np.random.default_rng(1).integers(3, 80, size=3000).tolist()
    grouped = padding_share(lengths, train_batches(lengths, 32, 0, 0, group_by_length=True))
    plain = padding_share(lengths, train_batches(lengths, 32, 0, 0, group_by_length=False))
    assert grouped < 0.05 < plain


def test_eval_batches_cover_all_sorted_by_length():
    lengths = [5, 1, 9, 3, 7]
    batches = eval_batches(lengths, 2)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(5))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
