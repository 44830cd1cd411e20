"""Media engine on PyAV: probe files, decode frames (sequential and exact random access),
encode H.264 at the source's timestamps with its audio, atomically."""

from anonnet_studio.core.media.info import AudioStreamInfo, MediaInfo, VideoStreamInfo
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.media.reader import DecodedFrame, VideoReader
from anonnet_studio.core.media.transcode import transcode
from anonnet_studio.core.media.writer import OUTPUT_FORMATS, VideoWriter

__all__ = [
    "OUTPUT_FORMATS",
    "AudioStreamInfo",
    "DecodedFrame",
    "MediaInfo",
    "VideoReader",
    "VideoStreamInfo",
    "VideoWriter",
    "probe",
    "transcode",
]
