"""silero-vad, a small pretrained speech detector, written out in torch.

silero-vad (Silero Team, MIT licence) answers, for every 32 ms of 16 kHz audio, the
probability that someone is speaking. Its PyPI wheel ``silero-vad`` ships the weights of
its 16 kHz model as a safetensors file (``silero_vad/data/silero_vad_16k.safetensors``,
309,633 parameters); :func:`silero_vad` builds the architecture here and loads that file
strictly (every key used, every shape checked). Nothing is downloaded.

The network, for one chunk of 512 new samples plus the 64 before them:

- ``stft_conv``: a ``Conv1d(1, 258, 256, stride=128)`` whose kernels are Hann-windowed
  cosines and sines: a short-time Fourier transform; the magnitude of its 129 frequency
  bins is the "spectrogram" the rest reads;
- four ``Conv1d`` of kernel 3 (strides 1, 2, 2, 1) with ReLU: 4 frames in, 1 frame out;
- an ``LSTMCell`` of 128 units that carries a state from chunk to chunk, and a 1x1
  convolution and a sigmoid: the probability of speech.

>>> model = silero_vad()
>>> sum(p.numel() for p in model.parameters())
309633
>>> prob, state = model(torch.zeros(1, CONTEXT + CHUNK))
>>> tuple(prob.shape), tuple(state.shape)
((1, 1), (2, 1, 128))
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
from torch import nn

__all__ = ["SAMPLE_RATE", "CHUNK", "CONTEXT", "weights_path", "SileroVAD", "silero_vad",
           "speech_probabilities"]

SAMPLE_RATE = 16_000  # Hz
CHUNK = 512  # new samples per step: 32 ms
CONTEXT = 64  # samples of the previous chunk seen again with each chunk
N_FFT, HOP = 256, 128  # the STFT's window and hop (16 ms and 8 ms)
REFLECT = 64  # reflection padding on the right of each chunk


def weights_path() -> Path:
    """The safetensors file inside the installed ``silero-vad`` wheel."""
    try:
        files = resources.files("silero_vad.data")
    except ModuleNotFoundError as err:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "silero-vad is not installed: pip install -r requirements-student.txt "
            "-c constraints.txt (or pip install --no-deps silero-vad safetensors)"
        ) from err
    return Path(str(files.joinpath("silero_vad_16k.safetensors")))


class SileroVAD(nn.Module):
    """silero-vad's 16 kHz network; names and shapes are those of its safetensors file."""

    def __init__(self) -> None:
        super().__init__()
        self.stft_conv = nn.Conv1d(1, 2 * (N_FFT // 2 + 1), N_FFT, stride=HOP, bias=False)
        self.conv1 = nn.Conv1d(N_FFT // 2 + 1, 128, 3, stride=1, padding=1)
        self.conv2 = nn.Conv1d(128, 64, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(64, 64, 3, stride=2, padding=1)
        self.conv4 = nn.Conv1d(64, 128, 3, stride=1, padding=1)
        self.lstm_cell = nn.LSTMCell(128, 128)
        self.final_conv = nn.Conv1d(128, 1, 1)

    def spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L) samples -> (N, 129, frames) STFT magnitudes, as the network sees them."""
        x = nn.functional.pad(x.unsqueeze(1), (0, REFLECT), mode="reflect")
        z = self.stft_conv(x)
        half = z.shape[1] // 2
        return torch.sqrt(z[:, :half] ** 2 + z[:, half:] ** 2)

    def forward(
        self, x: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: ``x`` is (N, CONTEXT + CHUNK) samples in [-1, 1], ``state`` the
        (2, N, 128) LSTM state of the previous step (``None``: zeros). Returns the
        probability of speech (N, 1) and the new state."""
        if x.ndim != 2 or x.shape[1] != CONTEXT + CHUNK:
            raise ValueError(
                f"x must be (N, {CONTEXT + CHUNK}) samples (64 of context, 512 new), "
                f"got {tuple(x.shape)}"
            )
        h = self.spectrogram(x)
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            h = torch.relu(conv(h))
        h = h.squeeze(-1)  # 4 frames -> 1: (N, 128)
        hc = None if state is None else (state[0], state[1])
        h, c = self.lstm_cell(h, hc)
        p = torch.sigmoid(self.final_conv(torch.relu(h).unsqueeze(-1)))
        return p.mean(-1), torch.stack([h, c])


def silero_vad() -> SileroVAD:
    """The pretrained model, in eval mode, its weights read from the wheel's safetensors
    file with ``strict=True``."""
    from safetensors.torch import load_file

    model = SileroVAD()
    model.load_state_dict(load_file(str(weights_path())), strict=True)
    return model.eval()


def chunks(wav: torch.Tensor) -> torch.Tensor:
    """(N, L) audio -> (N, steps, CONTEXT + CHUNK): zero-padded on the right to whole
    chunks, each with the 64 samples before it (zeros before the start)."""
    n, length = wav.shape
    steps = -(-length // CHUNK)
    wav = nn.functional.pad(wav, (CONTEXT, steps * CHUNK - length))
    return wav.unfold(1, CONTEXT + CHUNK, CHUNK)


@torch.no_grad()
def speech_probabilities(model: SileroVAD, wav: torch.Tensor) -> torch.Tensor:
    """Probability of speech for every 32 ms chunk of a batch of 16 kHz audio (N, L):
    the model run as a stream, its LSTM state carried from chunk to chunk. Returns
    (N, ceil(L / 512)).

    >>> p = speech_probabilities(silero_vad(), torch.zeros(2, 1600))
    >>> tuple(p.shape), bool((p < 0.1).all())   # silence: not speech
    ((2, 4), True)
    """
    if wav.ndim != 2:
        raise ValueError(f"wav must be (N, L) samples, got shape {tuple(wav.shape)}")
    state, out = None, []
    windows = chunks(wav)
    for t in range(windows.shape[1]):
        p, state = model(windows[:, t], state)
        out.append(p)
    return torch.cat(out, 1)
