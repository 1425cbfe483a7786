"""The fuzz targets of familiar_testkit.fuzz under Hypothesis: briefly here, longer on demand.

``FAMILIAR_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py`` runs each property that many times;
``python bench/fuzz.py wire`` runs atheris, coverage-guided, until stopped.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from familiar_testkit import fuzz

EXAMPLES = int(os.environ.get("FAMILIAR_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a loaded CI machine is slow; hangs are caught by the test timeout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 60,  # the default suite is reproducible; long runs explore
)

SEEDS = fuzz.seeds()

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "rate",
        "width",
        "channels",
        "text",
        "voice",
        "context",
        "timestamp",
        "language",
        "start_stage",
        "end_stage",
        "id",
        "total_seconds",
        "nonce",
        "proof",
        "wake_word_names",
    ]
)
frames = st.builds(
    fuzz.frame,
    st.sampled_from(fuzz.EVENT_TYPES) | st.text(max_size=20),
    st.dictionaries(field_names | st.text(max_size=8), json_values, max_size=6) | json_values,
    st.binary(max_size=64),
)


@FUZZ
@given(st.lists(frames, min_size=1, max_size=8))
def test_wire_and_edge_accept_or_refuse_cleanly(stream: list[bytes]) -> None:
    fuzz.wire(b"".join(stream))


@FUZZ
@given(st.binary(max_size=512))
def test_wire_survives_any_bytes(data: bytes) -> None:
    fuzz.wire(data)


def mutate(seed: bytes, data: st.DataObject) -> bytes:
    out = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 8))):
        if not out:
            break
        at = data.draw(st.integers(0, len(out) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            out[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del out[at : at + data.draw(st.integers(1, 64))]
        else:
            out[at:at] = data.draw(st.binary(min_size=1, max_size=32))
    return bytes(out)


@pytest.mark.parametrize("suffix", sorted(SEEDS))
@FUZZ
@given(data=st.data())
def test_document_parsers_read_or_skip_cleanly(suffix: str, data: st.DataObject) -> None:
    fuzz.document(mutate(SEEDS[suffix], data), suffix)


@FUZZ
@given(st.binary(max_size=256) | st.text(max_size=200).map(str.encode))
def test_config_reader_reports_instead_of_crashing(data: bytes) -> None:
    fuzz.config_file(data)
