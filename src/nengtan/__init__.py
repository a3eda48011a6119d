"""nengtan (能碳) — digital energy-carbon management center for industrial enterprises and parks."""

__version__ = "0.1.0"
