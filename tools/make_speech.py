"""Write the book's speech clips, once: short English sentences spoken by the speech
synthesiser espeak-ng, resampled to 16 kHz mono 16-bit WAV files in
convlib/teaching/audio/ (committed; the book reads them and never runs espeak-ng).

    apt-get install espeak-ng      # Debian's package (GPL-3; its output is not covered)
    python tools/make_speech.py

Each clip is cut to its first and last audible sample, with 50 ms of margin. The voices
differ (accents, pitch, a female variant) so that the detector is not measured on one
voice only.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "convlib" / "teaching" / "audio"
RATE = 16_000
# (file name, espeak-ng voice, words per minute, sentence)
CLIPS = [
    ("speech_01", "en-us", 160, "A convolution slides a small kernel along the signal."),
    ("speech_02", "en-gb", 150, "Each output is a weighted sum of a few neighbours."),
    ("speech_03", "en-us+f2", 160, "The stride decides how far the window moves."),
    ("speech_04", "en-gb-scotland", 150, "Padding keeps the borders of the input."),
    ("speech_05", "en-us+m3", 170, "A causal filter never looks into the future."),
    ("speech_06", "en-029", 150, "Speech models listen to sixteen thousand samples a second."),
    ("speech_07", "en-gb-x-rp+f4", 150, "The network learns its kernels from examples."),
    ("speech_08", "en-us-nyc", 160, "Large models still begin with a convolution."),
    ("speech_09", "en-gb-x-gbclan+m2", 150, "Pooling keeps the strongest answer of each window."),
    ("speech_10", "en-us+f3", 165, "Fine tuning adapts a trained network to a new task."),
]


def speak(voice: str, wpm: int, text: str) -> np.ndarray:
    """espeak-ng's 22,050 Hz output as floats in [-1, 1], resampled to 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text],
                       check=True)
        with wave.open(str(path)) as f:
            rate = f.getframerate()
            a = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16) / 32768.0
    if rate != 22_050:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz, expected 22050")
    return resample_poly(a, 320, 441)  # 22,050 * 320 / 441 = 16,000


def trim(a: np.ndarray, level: float = 0.01, margin: float = 0.05) -> np.ndarray:
    loud = np.flatnonzero(np.abs(a) > level)
    m = int(margin * RATE)
    return a[max(loud[0] - m, 0): loud[-1] + m + 1]


def write(path: Path, a: np.ndarray) -> None:
    pcm = np.clip(np.round(a * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(pcm.tobytes())


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, voice, wpm, text in CLIPS:
        a = trim(speak(voice, wpm, text))
        write(OUT / f"{name}.wav", a)
        lines.append(f"{name}\t{voice}\t{text}")
        print(f"{name}: {len(a) / RATE:.2f} s, {voice}")
    (OUT / "speech.tsv").write_text("name\tvoice\ttext\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
