"""Our Wyoming extensions (familiar.extensions): what goes on the wire and back."""

from __future__ import annotations

import asyncio

import pytest
from wyoming.audio import AudioStop
from wyoming.event import Event
from wyoming.pipeline import PipelineStage, RunPipeline

from familiar.audio import PcmFormat
from familiar.extensions import (
    FOLLOW_UP_KEY,
    PipelineEnded,
    follow_up_flag,
    with_follow_up,
    with_snd_format,
)
from familiar.wire import WYOMING_VERSION, encode_event, read_event


async def _round_trip(event: Event) -> Event:
    reader = asyncio.StreamReader()
    reader.feed_data(encode_event(event))
    reader.feed_eof()
    decoded = await read_event(reader)
    assert decoded is not None
    return decoded


@pytest.mark.parametrize("flag", [None, True, False])
async def test_pipeline_ended_round_trip(flag: bool | None) -> None:
    event = PipelineEnded(follow_up=flag).event()
    assert event.type == "pipeline-ended"
    decoded = await _round_trip(event)
    assert PipelineEnded.is_type(decoded.type)
    assert PipelineEnded.from_event(decoded) == PipelineEnded(flag)


def test_follow_up_rides_on_audio_stop_only_when_asked() -> None:
    assert with_follow_up(AudioStop().event(), True).data[FOLLOW_UP_KEY] is True
    assert FOLLOW_UP_KEY not in with_follow_up(AudioStop().event(), False).data
    assert follow_up_flag({"context": {FOLLOW_UP_KEY: True}}) is True
    assert follow_up_flag({FOLLOW_UP_KEY: "yes"}) is None


def test_snd_format_in_run_pipeline_keeps_the_standard_fields() -> None:
    run = RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS)
    event = with_snd_format(run.event(), PcmFormat(22050, 2, 1))
    assert event.data["snd_format"] == {"rate": 22050, "width": 2, "channels": 1}
    assert RunPipeline.from_event(event).end_stage == PipelineStage.TTS


def test_the_wire_version_is_the_installed_wyomings() -> None:
    from importlib.metadata import version

    assert version("wyoming") == WYOMING_VERSION
