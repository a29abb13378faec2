"""Audio for the chapter on sequences, made offline: nothing is downloaded.

* :func:`speech_clips` -- ten English sentences spoken by the synthesiser espeak-ng in
  ten voices, 16 kHz mono (committed WAV files, written once by ``tools/make_speech.py``).
* :func:`non_speech_clips` -- sounds that are not speech, generated from a seed: silence,
  white and brown noise, a tone, a chord, a chirp, clicks, a melody of pure notes.
* :func:`add_noise` -- a signal with white noise at a given signal-to-noise ratio.

>>> clips = speech_clips()
>>> len(clips), min(len(a) for a in clips.values()) / RATE > 2
(10, True)
>>> sorted(non_speech_clips())[:3]
['brown noise', 'chirp', 'chord']
"""

from __future__ import annotations

import wave
from importlib import resources

import numpy as np

__all__ = ["RATE", "read_wav", "speech_clips", "non_speech_clips", "add_noise"]

RATE = 16_000  # samples per second


def read_wav(name: str) -> np.ndarray:
    """One committed clip (``"speech_01"`` ...) as float32 samples in [-1, 1]."""
    path = resources.files("convlib.teaching").joinpath("audio", f"{name}.wav")
    if not path.is_file():
        raise ValueError(f"name must be one of the clips in convlib/teaching/audio, "
                         f"got {name!r}")
    with path.open("rb") as raw, wave.open(raw) as f:
        if (f.getframerate(), f.getnchannels(), f.getsampwidth()) != (RATE, 1, 2):
            raise ValueError(f"{name}.wav is not 16 kHz mono 16-bit")
        pcm = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
    return (pcm / 32768.0).astype(np.float32)


def speech_clips() -> dict[str, np.ndarray]:
    """The ten spoken sentences, name -> float32 samples at 16 kHz."""
    return {f"speech_{i:02d}": read_wav(f"speech_{i:02d}") for i in range(1, 11)}


def non_speech_clips(seconds: float = 2.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Eight sounds that are not speech, each ``seconds`` long, float32 at 16 kHz,
    peak level about that of the speech clips (0.3 to 0.5)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    white = rng.standard_normal(n)
    brown = np.cumsum(rng.standard_normal(n))
    brown -= np.convolve(brown, np.ones(801) / 801, mode="same")  # no slow drift
    notes = 440 * 2 ** (np.array([0, 4, 7, 12, 7, 4, 0, -5]) / 12)  # an arpeggio
    note = notes[np.minimum((t * 4).astype(int) % 8, 7)]
    clicks = np.zeros(n)
    clicks[:: RATE // 8] = 1.0
    clicks = np.convolve(clicks, np.exp(-np.arange(80) / 10), mode="same")
    sounds = {
        "silence": np.zeros(n),
        "white noise": 0.1 * white,
        "brown noise": 0.4 * brown / np.abs(brown).max(),
        "tone 440 Hz": 0.3 * np.sin(2 * np.pi * 440 * t),
        "chord": 0.15 * sum(np.sin(2 * np.pi * f * t) for f in (262, 330, 392)),
        "chirp": 0.3 * np.sin(2 * np.pi * (100 * t + 1000 * t**2 / seconds)),
        "clicks": 0.5 * clicks,
        "melody": 0.3 * np.sin(2 * np.pi * np.cumsum(note) / RATE),
    }
    return {k: v.astype(np.float32) for k, v in sorted(sounds.items())}


def add_noise(x: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """``x`` plus white noise whose power is ``snr_db`` decibels below ``x``'s mean power.

    >>> x = np.sin(np.arange(16000) / 5).astype(np.float32)
    >>> y = add_noise(x, 10.0)
    >>> round(10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2)))
    10
    """
    power = float(np.mean(np.asarray(x, dtype=np.float64) ** 2))
    noise = np.random.default_rng(seed).standard_normal(x.shape)
    noise *= np.sqrt(power / 10 ** (snr_db / 10) / np.mean(noise**2))
    return (x + noise).astype(np.float32)
