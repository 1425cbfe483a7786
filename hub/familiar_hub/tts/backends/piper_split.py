"""A Piper voice that sends its first audio before the rest of the sentence is decoded.

A Piper voice is one ONNX graph: the text encoder, durations and flow make 192-wide latent
frames, then HiFi-GAN (``/dec``) turns each frame into ``hop`` samples (256 at 22.05 kHz,
11.6 ms). The decoder is half the work of a sentence and it is convolutional: a sample depends
only on the frames near it. Cut in two at the decoder's input, the voice decodes the first
:data:`FIRST_FRAMES` frames (with :data:`CONTEXT_FRAMES` of the following ones for context) and
hands them on while the rest is decoded in pieces twice as long each time, each with its
context on both sides, so the pieces join into the very audio the whole graph makes (the same
samples to within 1e-5; measured: exact from 12 frames of context on).

The whole graph normalises each sentence to its own peak, which needs the whole sentence; a
voice decoded in pieces is scaled by one gain instead, measured once at load from the peak of
:data:`CALIBRATION` (a few sentences of different kinds, said without the voice's noise, so
every start gets the same gain): that peak is set to :data:`HEADROOM` of full scale, so
sentences keep their natural level to one another (with ``en_US-joe-medium`` and its noise, 66
sentences peaked at 0.6-1.35 times the calibration's peak); the rare louder peak is rounded off
above :data:`KNEE` (:func:`limited`), not clipped.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_LOGGER = logging.getLogger(__name__)

DECODER_START = "/dec/conv_pre/Conv"
"""The decoder's first node in graphs exported by piper's training code (torch ≥ 2 names
nodes by module; older exports have no such node and are decoded whole)."""
FIRST_FRAMES = 32
"""Frames of the first piece: about 0.37 s of audio at 22.05 kHz."""
CONTEXT_FRAMES = 16
"""Frames either side of a piece that its samples depend on."""
HEADROOM = 0.7
"""Where the calibration's peak is put, as a share of full scale."""
KNEE = 0.85
"""Above this share of full scale, peaks are compressed smoothly into what is left."""
CALIBRATION = (
    "Ready. Good morning! The kitchen light is on now, and the front door is locked. "
    "Are you sure? Well, I never!"
)

SessionFactory = Callable[[bytes | str], Any]


def spans(frames: int, first: int = FIRST_FRAMES) -> list[tuple[int, int]]:
    """Frame ranges of the pieces: ``first`` frames, then each piece twice as long as the one
    before (each is decoded while the one before it plays), a short tail joined to the piece
    before it."""
    out: list[tuple[int, int]] = []
    start, size = 0, max(1, first)
    while start < frames:
        stop = start + size
        if frames - stop < size:
            stop = frames
        out.append((start, stop))
        start, size = stop, size * 2
    return out


def limited(audio: np.ndarray) -> np.ndarray:
    """Samples above :data:`KNEE` bent smoothly towards full scale (never past it); the rest
    unchanged."""
    over = np.abs(audio) > KNEE
    if not over.any():
        return audio
    out = audio.copy()
    room = 1.0 - KNEE
    out[over] = np.sign(audio[over]) * (KNEE + room * np.tanh((np.abs(audio[over]) - KNEE) / room))
    return out


_TEXT_HALF, _DECODER, _NAMES = "text-half.onnx", "decoder.onnx", "names.json"


def _cut(path: Path) -> tuple[bytes, bytes, str, list[str]] | None:
    """The graph at ``path`` cut at its decoder: both halves serialised, the decoder's input
    along time and its other inputs; None when it has no such node or cannot be cut."""
    import onnx
    from onnx.utils import Extractor

    model = onnx.load(str(path))
    graph = model.graph
    nodes = list(graph.node)
    starts = [n for n in nodes if n.name == DECODER_START]
    if not starts:
        _LOGGER.info("%s has no %s node: decoded whole", path.name, DECODER_START)
        return None
    latent = starts[0].input[0]
    constant = {i.name for i in graph.initializer}
    made: set[str] = set()
    needed: list[str] = []
    for node in nodes:
        if not node.name.startswith("/dec/"):
            continue
        for name in node.input:
            if name and name not in made and name not in constant and name not in needed:
                needed.append(name)
        made.update(node.output)
    if latent not in needed:
        return None
    outputs = [o.name for o in graph.output]
    inputs = [i.name for i in graph.input]
    try:
        extractor = Extractor(model)
        text_half = extractor.extract_model(inputs, needed)
        decoder = extractor.extract_model(needed, outputs)
    except Exception as err:  # an export the extractor cannot cut: the voice still speaks
        _LOGGER.warning("cannot cut %s at its decoder (%s): decoded whole", path.name, err)
        return None
    carried = [name for name in needed if name != latent]
    return text_half.SerializeToString(), decoder.SerializeToString(), latent, carried


def _keep(folder: Path, files: dict[str, bytes], latent: str, carried: list[str]) -> None:
    """The halves written into ``folder``, each file whole or not at all, the names last (they
    say the folder is complete); a folder that cannot be written is only logged."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        names = {_NAMES: json.dumps({"latent": latent, "carried": carried}).encode()}
        for name, data in {**files, **names}.items():
            partial = folder / f"{name}.{os.getpid()}.partial"  # two hubs may start at once
            partial.write_bytes(data)
            os.replace(partial, folder / name)
    except OSError as err:
        _LOGGER.warning(
            "cannot keep the halves in %s (%s): cut again at the next start", folder, err
        )


@dataclass
class SplitVoice:
    """The two halves of one voice's graph, as ONNX Runtime sessions."""

    text_half: Any
    decoder: Any
    latent: str
    """The decoder's input that runs along time (frames on its last axis)."""
    carried: list[str]
    """Other decoder inputs (a multi-speaker voice's speaker embedding), passed whole."""
    gain: float = 1.0

    @classmethod
    def split(
        cls, path: Path, session: SessionFactory, keep: Path | None = None
    ) -> SplitVoice | None:
        """The voice at ``path`` in two halves, or None for a graph with no decoder node to cut
        at (it is then decoded whole). With ``keep`` (a folder), the halves are kept there and
        read back at the next start instead of being cut again (reading and cutting the 60 MB
        graph took 0.47 s of the voice's 1.2 s load)."""
        stat = path.stat()
        kept = None if keep is None else keep / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}"
        if kept is not None and (kept / _NAMES).exists():
            try:
                names = json.loads((kept / _NAMES).read_text(encoding="utf-8"))
                return cls(
                    text_half=session(str(kept / _TEXT_HALF)),
                    decoder=session(str(kept / _DECODER)),
                    latent=str(names["latent"]),
                    carried=[str(name) for name in names["carried"]],
                )
            except Exception as err:  # damaged: cut again below
                _LOGGER.warning("cannot read the kept halves of %s (%s): cut again", path, err)
        halves = _cut(path)
        if halves is None:
            return None
        text_half, decoder, latent, carried = halves
        if kept is not None:
            _keep(kept, {_TEXT_HALF: text_half, _DECODER: decoder}, latent, carried)
        return cls(
            text_half=session(text_half),
            decoder=session(decoder),
            latent=latent,
            carried=carried,
        )

    def pieces(self, inputs: dict[str, np.ndarray]) -> Iterator[np.ndarray]:
        """One sentence's audio (float, scaled by ``gain``), a piece at a time."""
        names = [self.latent, *self.carried]
        values = dict(zip(names, self.text_half.run(names, inputs), strict=True))
        latent = values[self.latent]
        frames = int(latent.shape[-1])
        for start, stop in spans(frames):
            low = max(0, start - CONTEXT_FRAMES)
            high = min(frames, stop + CONTEXT_FRAMES)
            feed = {name: values[name] for name in self.carried}
            feed[self.latent] = latent[..., low:high]
            audio = self.decoder.run(None, feed)[0].reshape(-1)
            hop = audio.size // (high - low)
            yield limited(audio[(start - low) * hop : (stop - low) * hop] * self.gain)

    def calibrate(self, sentences: list[dict[str, np.ndarray]]) -> None:
        """Set ``gain`` so the loudest of these sentences peaks at :data:`HEADROOM`."""
        self.gain = 1.0
        peak = max(
            (float(np.max(np.abs(piece))) for inputs in sentences for piece in self.pieces(inputs)),
            default=0.0,
        )
        self.gain = HEADROOM / peak if peak > 1e-3 else 1.0
        _LOGGER.debug("voice gain %.2f (calibration peak %.2f)", self.gain, peak)
