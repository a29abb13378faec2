"""silero-vad written out in torch (convlib.models.silero) and in NumPy (silero_numpy)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
import torch

from convlib.models import silero as S
from convlib.models import silero_numpy as SN
from convlib.teaching import audio

pytest.importorskip("safetensors")


@pytest.fixture(scope="module")
def model():
    return S.silero_vad()


def jit_model():
    """The TorchScript model that the silero-vad wheel also ships (written by its authors)."""
    path = resources.files("silero_vad.data").joinpath("silero_vad.jit")
    return torch.jit.load(str(path)).eval()


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_architecture_equals_the_authors_torchscript():
    """Our forward, given the TorchScript model's own weights, gives its outputs chunk by
    chunk (its state and 64-sample context carried by the authors' code)."""
    jit = jit_model()
    names = {"stft.forward_basis_buffer": "stft_conv.weight",
             "decoder.decoder.2.weight": "final_conv.weight",
             "decoder.decoder.2.bias": "final_conv.bias"}
    sd = {}
    for k, v in jit._model.state_dict().items():
        if k.startswith("encoder."):
            k = f"conv{int(k.split('.')[1]) + 1}.{k.split('.')[-1]}"
        elif k.startswith("decoder.rnn."):
            k = "lstm_cell." + k.split(".")[-1]
        sd[names.get(k, k)] = v
    ours = S.SileroVAD()
    ours.load_state_dict(sd, strict=True)
    ours.eval()
    wav = torch.from_numpy(audio.speech_clips()["speech_01"][: 20 * S.CHUNK])[None]
    expected = []
    with torch.no_grad():
        for t in range(0, wav.shape[1], S.CHUNK):
            expected.append(float(jit(wav[:, t: t + S.CHUNK], S.SAMPLE_RATE)))
    got = S.speech_probabilities(ours, wav)[0].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_weights_load_strictly_and_count(model):
    assert sum(p.numel() for p in model.parameters()) == 309_633
    conv = model.stft_conv
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride) == (
        1, 258, (256,), (128,))


def test_stft_kernels_are_hann_windowed_dft(model):
    w = model.stft_conv.weight.detach().double().numpy()[:, 0]
    n = np.arange(256)
    f = np.arange(129)[:, None]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / 256)  # periodic Hann
    np.testing.assert_allclose(w[:129], hann * np.cos(2 * np.pi * f * n / 256), atol=1e-7)
    np.testing.assert_allclose(w[129:], -hann * np.sin(2 * np.pi * f * n / 256), atol=1e-7)


def test_numpy_forward_equals_torch(model):
    rng = np.random.default_rng(0)
    wav = np.stack([audio.speech_clips()["speech_02"][:16_000],
                    (0.1 * rng.standard_normal(16_000)).astype(np.float32)])
    p_np = SN.speech_probabilities(SN.load_weights(), wav)
    p_t = S.speech_probabilities(model, torch.from_numpy(wav)).numpy()
    assert p_np.shape == p_t.shape == (2, 32) and p_np.dtype == np.float32
    np.testing.assert_allclose(p_np, p_t, atol=1e-4)  # float32, 32 LSTM steps
    spec_np = SN.spectrogram(SN.load_weights(), wav)
    with torch.no_grad():
        spec_t = model.spectrogram(torch.from_numpy(wav)).numpy()
    np.testing.assert_allclose(spec_np, spec_t, rtol=1e-4, atol=1e-4)


def test_detects_speech_and_rejects_noise(model):
    speech = torch.from_numpy(audio.speech_clips()["speech_03"])[None]
    noise = torch.from_numpy(audio.non_speech_clips()["white noise"])[None]
    assert S.speech_probabilities(model, speech).mean() > 0.8
    assert S.speech_probabilities(model, noise).max() < 0.2


def test_bad_input(model):
    with pytest.raises(ValueError, match=r"x must be \(N, 576\)"):
        model(torch.zeros(1, 512))
    with pytest.raises(ValueError, match="wav must be"):
        S.speech_probabilities(model, torch.zeros(512))
    with pytest.raises(ValueError, match="x must be"):
        SN.forward(SN.load_weights(), np.zeros((1, 100), np.float32))
    with pytest.raises(ValueError, match="name must be"):
        audio.read_wav("nope")
