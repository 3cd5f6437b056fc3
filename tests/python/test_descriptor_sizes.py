"""Descriptor sizes within issue 19's targets: median ≤ 700 bytes, largest ≤ 4 KB.

Sizes are deterministic (the same facts give the same descriptors), so they are held here;
bench/descriptor_sizes.py prints them.
"""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "descriptor_sizes.py"
_spec = importlib.util.spec_from_file_location("descriptor_sizes", BENCH)
descriptor_sizes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(descriptor_sizes)

LARGEST_BYTES = 4096
MEDIAN_BYTES = 700


@pytest.mark.parametrize("project", sorted(descriptor_sizes.PROJECTS))
def test_descriptors_stay_small(project):
    sizes = descriptor_sizes.sizes(project)
    assert sizes["largest"] <= LARGEST_BYTES, sizes
    assert sizes["median"] <= MEDIAN_BYTES, sizes
