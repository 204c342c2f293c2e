"""Every stdlib test starts from the OpenSIPS default module parameters and probability."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stdlib._modules import reset_modparams
from stdlib.cfgutils import probability


@pytest.fixture(autouse=True)
def _default_modparams() -> Iterator[None]:
    reset_modparams()
    probability.reset()
    yield
    reset_modparams()
    probability.reset()
