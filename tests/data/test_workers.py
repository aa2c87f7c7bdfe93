"""DataLoader with worker processes: the same batches as without, in order, seeded, cleaned up."""

import collections
import multiprocessing
import os
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, TensorDataset, WorkerInfo, get_worker_info

FORK = "fork" in multiprocessing.get_all_start_methods()
needs_fork = pytest.mark.skipif(not FORK, reason="these datasets are local to the tests: they need fork")
Point = collections.namedtuple("Point", "x y")  # at module level: a batch's types must pickle, as in PyTorch


def batches(loader):
    return [tuple(np.array(f, copy=True) for f in b) for b in loader]


def assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w)
        for gf, wf in zip(g, w):
            assert type(gf) is type(wf)
            np.testing.assert_array_equal(np.asarray(gf), np.asarray(wf))
            assert np.asarray(gf).dtype == np.asarray(wf).dtype


def gone(pid):
    """The process ``pid`` has exited and been reaped: no /proc entry, so neither running nor a zombie."""
    if sys.platform != "linux":
        return True
    return not os.path.exists(f"/proc/{pid}")


class Noisy(Dataset):
    """Samples with a random transform drawn from cr.random and NumPy's global generator."""

    def __len__(self):
        return 21

    def __getitem__(self, i):
        return np.float64(i) + cr.random.rand(1).data[0] + np.random.rand(), os.getpid()


class Info(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        w = get_worker_info()
        return np.array([w.id, w.num_workers, w.seed, i, getattr(w.dataset, "offset", 0)])


class Fails(Dataset):
    def __init__(self, bad, kind=ValueError):
        self.bad, self.kind = bad, kind

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.bad:
            raise self.kind(f"sample {i} is broken")
        return np.float64(i), os.getpid()


class Slow(Dataset):
    def __init__(self, slow, seconds):
        self.slow, self.seconds = slow, seconds

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i in self.slow:
            time.sleep(self.seconds)
        return i


@pytest.mark.parametrize("num_workers", [1, 3])
def test_same_batches_as_without_workers(num_workers):
    ds = TensorDataset(cr.tensor(np.arange(30.0).reshape(15, 2)), np.arange(15))
    want = list(DataLoader(ds, batch_size=4, shuffle=True, seed=7))
    got = list(DataLoader(ds, batch_size=4, shuffle=True, seed=7, num_workers=num_workers))
    assert_same(got, want)  # a Tensor field comes back a Tensor, an ndarray field an ndarray
    samples = [{"p": Point(np.ones(2) * i, i), "name": f"s{i}"} for i in range(7)]
    want = list(DataLoader(samples, batch_size=3, drop_last=True))
    got = list(DataLoader(samples, batch_size=3, drop_last=True, num_workers=num_workers))
    assert len(got) == 2 and type(got[0]["p"]) is Point
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g["p"].x, w["p"].x)
        assert g["name"] == w["name"]
    got = list(DataLoader(list(range(5)), batch_size=2, collate_fn=sum, num_workers=num_workers))
    assert got == [1, 5, 4]


@needs_fork
def test_in_order_waits_for_a_slow_batch_and_in_order_false_does_not():
    slow = Slow({0}, 0.3)  # batch 0 is slow; worker 1 has batch 1 ready long before
    got = [b.tolist() for b in DataLoader(slow, batch_size=2, num_workers=2)]
    assert got == [[0, 1], [2, 3], [4, 5], [6, 7]]
    got = [b.tolist() for b in DataLoader(slow, batch_size=2, num_workers=2, in_order=False)]
    assert sorted(got) == [[0, 1], [2, 3], [4, 5], [6, 7]] and got[0] != [0, 1]


@needs_fork
@pytest.mark.parametrize("num_workers", [1, 2])
def test_seeded_run_repeats_its_random_transforms(num_workers):
    def run(seed):
        loader = DataLoader(Noisy(), batch_size=4, shuffle=True, seed=seed, num_workers=num_workers)
        return [[b[0] for b in batches(loader)] for _ in range(2)]  # two epochs

    first = run(3)
    cr.random.seed(99)  # the main process's generators do not reach the workers' draws
    np.random.seed(1)
    again, other = run(3), run(4)
    for a, b in zip(first[0] + first[1], again[0] + again[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.concatenate(first[0]), np.concatenate(other[0]))
    # a new base seed each epoch: the transforms differ between epochs
    e0, e1 = np.concatenate(first[0]), np.concatenate(first[1])
    assert not np.allclose(np.sort(e0), np.sort(e1))


class FirstDraw(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return get_worker_info().seed, cr.random.rand(1).data[0], np.random.rand()


@needs_fork
def test_workers_seed_cr_random_and_numpy_with_base_seed_plus_id():
    rows = list(DataLoader(FirstDraw(), batch_size=1, num_workers=2, seed=11))  # one sample per worker
    seeds = [int(seed[0]) for seed, _, _ in rows]
    assert seeds[1] == seeds[0] + 1
    for seed, ours, theirs in rows:
        assert ours[0] == np.random.default_rng(int(seed[0])).random()
        assert theirs[0] == np.random.RandomState(int(seed[0]) % 2**32).rand()


@needs_fork
def test_worker_info_seeds_and_init_fn():
    assert get_worker_info() is None

    def init(worker_id):
        get_worker_info().dataset.offset = 100 + worker_id

    rows = np.concatenate(list(DataLoader(Info(), batch_size=2, num_workers=2, worker_init_fn=init, seed=0)))
    wid, nw, seed, idx, offset = rows.T
    assert idx.tolist() == list(range(8))
    assert wid.tolist() == [0, 0, 1, 1, 0, 0, 1, 1]  # batch k by worker k % num_workers
    assert set(nw.tolist()) == {2}
    assert offset.tolist() == (100 + wid).tolist()
    base = seed - wid
    assert len(set(base.tolist())) == 1  # worker seed = base_seed + worker_id
    again = np.concatenate(list(DataLoader(Info(), batch_size=2, num_workers=2, seed=0)))
    np.testing.assert_array_equal(again[:, 2], seed)
    info = WorkerInfo(0, 1, 5, None)
    with pytest.raises(RuntimeError, match="Cannot assign"):
        info.id = 3


@needs_fork
def test_worker_exception_names_the_worker_and_its_traceback():
    loader = DataLoader(Fails(5), batch_size=2, num_workers=2)
    it = iter(loader)
    pids = {int(p) for _, pid in (next(it), next(it)) for p in pid}
    with pytest.raises(ValueError) as err:
        list(it)
    text = str(err.value)
    assert "Caught ValueError in DataLoader worker process 0" in text  # batch 2 (samples 4, 5): worker 0
    assert "sample 5 is broken" in text and "__getitem__" in text and "Traceback" in text
    assert all(gone(p) for p in pids)

    class Picky(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)

    with pytest.raises(RuntimeError, match="Caught Picky in DataLoader worker process 1"):
        list(DataLoader(Fails(3, lambda msg: Picky(msg, 2)), batch_size=2, num_workers=2))


@needs_fork
def test_break_and_deletion_shut_workers_down():
    loader = DataLoader(Fails(-1), batch_size=2, num_workers=2)
    pids = set()
    for _, pid in loader:
        pids.update(pid.tolist())
        if len(pids) == 2:
            break
    deadline = time.monotonic() + 5
    while not all(gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pids) == 2 and all(gone(p) for p in pids)
    it = iter(loader)
    workers = list(it._pool.workers)
    del it
    assert all(not p.is_alive() and p.exitcode is not None for p in workers)


@needs_fork
def test_persistent_workers_live_across_epochs():
    loader = DataLoader(Fails(-1), batch_size=3, num_workers=2, persistent_workers=True)
    first = {int(p) for _, pid in loader for p in pid}
    it = iter(loader)
    next(it)  # an epoch left early: its remaining results must not leak into the next one
    newer = iter(loader)
    with pytest.raises(RuntimeError, match="ended by a newer iter"):
        next(it)
    del it, newer
    epochs = [[x.tolist() for x, pid in loader] for _ in range(2)]
    assert epochs[0] == epochs[1] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0], [9.0, 10.0, 11.0]]
    assert {int(p) for _, pid in loader for p in pid} == first and len(first) == 2
    workers = loader._pool.workers
    del loader
    assert all(not p.is_alive() for p in workers)
    # without persistent_workers, each epoch starts fresh ones
    loader = DataLoader(Fails(-1), batch_size=3, num_workers=1)
    assert {int(p) for _, pid in loader for p in pid}.isdisjoint({int(p) for _, pid in loader for p in pid})


@needs_fork
def test_prefetch_factor_bounds_the_work_ahead():
    counter = multiprocessing.get_context("fork").Value("i", 0)

    class Counted(Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            with counter.get_lock():
                counter.value += 1
            return i

    it = iter(DataLoader(Counted(), batch_size=1, num_workers=2, prefetch_factor=1))
    next(it)
    time.sleep(0.3)
    assert counter.value <= 3  # the batch taken and one ahead per worker
    del it


@needs_fork
def test_dead_worker_and_timeout_raise():
    class Dies(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*\) exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=2, num_workers=1))
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Slow({0}, 1.0), batch_size=2, num_workers=1, timeout=0.2))


def test_spawned_workers_give_the_same_batches():
    ds = TensorDataset(np.arange(10.0), np.arange(10) % 3)
    want = batches(DataLoader(ds, batch_size=4, shuffle=True, seed=1))
    got = batches(DataLoader(ds, batch_size=4, shuffle=True, seed=1, num_workers=1, multiprocessing_context="spawn"))
    assert_same(got, want)


def test_bad_worker_arguments_get_pytorchs_errors():
    ds = list(range(4))
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(ds, num_workers=1, timeout=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor option should be non-negative"):
        DataLoader(ds, num_workers=1, prefetch_factor=-1)
    with pytest.raises(ValueError, match="valid start method"):
        DataLoader(ds, num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(ValueError, match="multiprocessing_context can only be used with multi-process loading"):
        DataLoader(ds, multiprocessing_context="spawn")
    with pytest.raises(TypeError, match="num_workers must be an int"):
        DataLoader(ds, num_workers=1.5)
    with pytest.raises(TypeError, match="worker_init_fn must be callable"):
        DataLoader(ds, num_workers=1, worker_init_fn=3)


def test_a_workers_key_error_reads_as_text():
    # KeyError's str is the repr of its argument: the traceback carried over would show as one line of "\n"s
    with pytest.raises(KeyError) as err:
        list(DataLoader(Fails(5, KeyError), batch_size=2, num_workers=2))
    text = str(err.value)
    assert "\\n" not in text and "\nOriginal Traceback" in text and "sample 5 is broken" in text
    assert text.startswith("Caught KeyError in DataLoader worker process 0")


def test_a_workers_stop_iteration_does_not_end_the_epoch_quietly():
    # raised again as StopIteration in __next__, it would end the for loop early with no error; without workers
    # the loader's generator turns it into a RuntimeError (PEP 479)
    with pytest.raises(RuntimeError, match="StopIteration"):
        list(DataLoader(Fails(5, StopIteration), batch_size=2))
    with pytest.raises(RuntimeError, match="Caught StopIteration in DataLoader worker process 0"):
        list(DataLoader(Fails(5, StopIteration), batch_size=2, num_workers=2))
