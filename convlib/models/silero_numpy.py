"""silero-vad in NumPy: the same network as :mod:`convlib.models.silero`, every
convolution by ``convlib.conv1d``, the LSTM cell written out.

The weights are read from the same safetensors file, as float32 NumPy arrays; no torch.

>>> w = load_weights()
>>> x = np.zeros((1, CONTEXT + CHUNK), dtype=np.float32)
>>> p, state = forward(w, x)
>>> p.shape, state.shape, p.dtype
((1, 1), (2, 1, 128), dtype('float32'))
"""

from __future__ import annotations

import numpy as np

import convlib

from .silero import CHUNK, CONTEXT, HOP, REFLECT, weights_path

__all__ = ["load_weights", "spectrogram", "forward", "speech_probabilities"]


def load_weights() -> dict[str, np.ndarray]:
    """The weights of silero-vad's 16 kHz model, name -> float32 array."""
    from safetensors.numpy import load_file

    return load_file(str(weights_path()))


def spectrogram(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(N, L) samples -> (N, 129, frames) magnitudes: reflection padding, the STFT as one
    strided convolution, then the magnitude of each (cosine, sine) pair."""
    x = convlib.pad(x[:, None, :], (0, REFLECT), mode="reflect")
    z = convlib.conv1d(x, w["stft_conv.weight"], stride=HOP)
    half = z.shape[1] // 2
    return np.sqrt(z[:, :half] ** 2 + z[:, half:] ** 2)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))  # no overflow for large |z|


def lstm_cell(w: dict[str, np.ndarray], x: np.ndarray, h: np.ndarray, c: np.ndarray,
              name: str = "lstm_cell") -> tuple[np.ndarray, np.ndarray]:
    """torch.nn.LSTMCell's step: gates (input, forget, cell, output) in that order."""
    z = (x @ w[f"{name}.weight_ih"].T + w[f"{name}.bias_ih"]
         + h @ w[f"{name}.weight_hh"].T + w[f"{name}.bias_hh"])
    i, f, g, o = np.split(z, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def forward(w: dict[str, np.ndarray], x: np.ndarray,
            state: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One step on (N, CONTEXT + CHUNK) samples: (probability (N, 1), state (2, N, 128))."""
    if x.ndim != 2 or x.shape[1] != CONTEXT + CHUNK:
        raise ValueError(f"x must be (N, {CONTEXT + CHUNK}) samples, got shape {x.shape}")
    h = spectrogram(w, x)
    for i, stride in enumerate((1, 2, 2, 1), start=1):
        h = convlib.relu(convlib.conv1d(h, w[f"conv{i}.weight"], w[f"conv{i}.bias"],
                                        stride=stride, padding=1))
    h = h[..., 0]  # (N, 128): the one frame left
    if state is None:
        state = np.zeros((2, *h.shape), dtype=h.dtype)
    h, c = lstm_cell(w, h, state[0], state[1])
    z = convlib.conv1d(convlib.relu(h)[..., None], w["final_conv.weight"],
                       w["final_conv.bias"])
    return _sigmoid(z).mean(-1), np.stack([h, c])


def speech_probabilities(w: dict[str, np.ndarray], wav: np.ndarray) -> np.ndarray:
    """Probability of speech for every 512-sample chunk of (N, L) audio, state carried."""
    if wav.ndim != 2:
        raise ValueError(f"wav must be (N, L) samples, got shape {wav.shape}")
    n, length = wav.shape
    steps = -(-length // CHUNK)
    padded = np.pad(wav, ((0, 0), (CONTEXT, steps * CHUNK - length)))
    state, out = None, []
    for t in range(steps):
        p, state = forward(w, padded[:, t * CHUNK: t * CHUNK + CONTEXT + CHUNK], state)
        out.append(p)
    return np.concatenate(out, axis=1)
