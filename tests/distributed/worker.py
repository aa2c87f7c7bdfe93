"""Run under mpiexec by tests/distributed/test_mpi.py: one scenario per call, each rank prints ``ok <rank>``."""

import sys

import numpy as np

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn, optim
from chainrule.nn import functional as F

GLOBAL_BATCH = 12  # divides among 2 and 3 processes, so every rank's mean has the same weight


def _model(seed):
    cr.random.seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def _data(steps):
    rng = np.random.default_rng(42)
    return rng.normal(size=(steps, GLOBAL_BATCH, 5)), rng.integers(0, 3, size=(steps, GLOBAL_BATCH))


def ddp_equals_one_process(rank, world):
    """20 steps of DDP on shards equal 20 steps of one process on the global batch, to 1e-10 (float64)."""
    steps = 20
    xs, ys = _data(steps)
    reference = _model(0)
    ref_opt = optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    # rank-dependent initial weights: the wrap must replace them with rank 0's; a tiny bucket cap makes
    # several buckets, so several reductions are in flight during backward
    model = nn.parallel.DistributedDataParallel(_model(rank), bucket_cap_mb=0.0002)
    assert len(model._buckets) > 1 or world == 1, len(model._buckets)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    share = GLOBAL_BATCH // world
    for s in range(steps):
        ref_opt.zero_grad()
        F.cross_entropy(reference(cr.tensor(xs[s])), ys[s]).backward()
        ref_opt.step()
        mine = slice(rank * share, (rank + 1) * share)
        opt.zero_grad()
        F.cross_entropy(model(cr.tensor(xs[s][mine])), ys[s][mine]).backward()
        opt.step()
    for (name, p), q in zip(model.module.named_parameters(), reference.parameters()):
        err = np.abs(p.data - q.data).max()
        assert err < 1e-10, (name, err)
        assert p.data.dtype == np.float64
    # float32 stays float32 on the wire and in .grad
    small = nn.parallel.DistributedDataParallel(nn.Linear(3, 2))
    F.mse_loss(small(cr.tensor(np.full((2, 3), rank + 1.0, dtype=np.float32))),
               cr.tensor(np.zeros((2, 2), dtype=np.float32))).backward()
    assert small.module.weight.grad.dtype == np.float32
    assert small._buckets[0].buffer.dtype == np.float32


def no_sync_accumulates(rank, world):
    """Two micro-batches, the first under no_sync(), give the gradient of one big batch."""
    xs, ys = _data(2)
    x, y = xs.reshape(-1, 5), ys.reshape(-1)  # 2 * GLOBAL_BATCH samples
    reference = _model(0)
    (F.cross_entropy(reference(cr.tensor(x)), y, reduction="sum") / len(y)).backward()
    model = nn.parallel.DistributedDataParallel(_model(0), bucket_cap_mb=0.0002)
    share = len(y) // world
    mine = np.arange(rank * share, (rank + 1) * share)
    halves = np.array_split(mine, 2)
    for k, part in enumerate(halves):
        loss = F.cross_entropy(model(cr.tensor(x[part])), y[part], reduction="sum") * (world / len(y))
        if k == 0:
            with model.no_sync():
                loss.backward()
        else:
            loss.backward()
    for p, q in zip(model.module.parameters(), reference.parameters()):
        err = np.abs(p.grad.data - q.grad.data).max()
        assert err < 1e-12, err


def collectives(rank, world):
    """all_reduce (sum, mean, max; float32 kept), broadcast, buffers broadcast at wrap time."""
    a = np.array([rank + 1.0, 2.0], dtype=np.float32)
    assert dist.all_reduce(a, op="mean") is a and a.dtype == np.float32
    assert np.allclose(a, [(world + 1) / 2, 2.0])
    assert dist.all_reduce(np.array([rank]), op="max").tolist() == [world - 1]
    assert dist.all_reduce(cr.tensor([1.0])).data.tolist() == [float(world)]
    assert dist.broadcast(np.arange(3) * (rank + 1), root=world - 1).tolist() == [0, world, 2 * world]
    bn = nn.BatchNorm1d(2).double()
    bn.running_mean.data[...] = rank
    nn.parallel.DistributedDataParallel(bn)
    assert bn.running_mean.data.tolist() == [0.0, 0.0]
    dist.barrier()


def sampler_partitions(rank, world):
    """The ranks' shares are equal and cover the dataset (padding by wrap-around), the same every rank."""
    for n in (10, 11, 2):
        for epoch in (0, 1):
            sampler = cr.data.DistributedSampler(range(n), shuffle=True, seed=3)
            sampler.set_epoch(epoch)
            mine = np.array(list(sampler), dtype=np.int64)
            everyone = dist.communicator().allgather(mine)
            assert len({len(s) for s in everyone}) == 1
            union = np.concatenate(everyone)
            assert set(union.tolist()) == set(range(n)) and len(union) == -(-n // world) * world


def mismatch(rank, world):
    """Different parameter shapes are refused at wrap time, naming the parameter."""
    nn.parallel.DistributedDataParallel(nn.Linear(3, 2 + (rank == world - 1)))


def fail(rank, world):
    """Rank 1 raises while the others wait in a collective: the job must end, not hang."""
    if rank == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.barrier()
    dist.all_reduce(np.zeros(3))


if __name__ == "__main__":
    scenario = sys.argv[1]
    world = dist.init(require_mpi=True)
    rank = dist.get_rank()
    globals()[scenario](rank, world)
    print(f"ok {rank}", flush=True)
