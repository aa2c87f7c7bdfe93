"""Datasets, mini-batch loading and small bundled/standard-format data readers."""

from chainrule.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from chainrule.data.digits import load_digits
from chainrule.data.idx import load_idx
from chainrule.data.loader import DataLoader
from chainrule.data.sampler import DistributedSampler
from chainrule.data.worker import WorkerInfo, get_worker_info

__all__ = ["DataLoader", "Dataset", "DistributedSampler", "TensorDataset", "load_digits", "load_idx",
           "Subset",
           "ConcatDataset",
           "random_split",
           "WorkerInfo",
           "get_worker_info"]
