"""End of speech from VAD decisions; the code is shared: ``familiar.segmenter``."""

from familiar.segmenter import Segment, SpeechSegmenter

__all__ = ["Segment", "SpeechSegmenter"]
