"""Training on fbank computed from audio while batching (``data.on_the_fly_fbank``) gives the batches, and so
the losses, of training on the same backend's stored features: real espeak-ng speech, a few cuts per batch."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest
import torch
from lhotse import CutSet, Features, MonoCut, NumpyFilesWriter, Recording, SupervisionSegment
from lhotse.utils import fastcopy

from phonasr.batching.padding import FEATURE_PAD_VALUE
from phonasr.features import FbankConfig, create_backend, load_samples
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.train.ctc_task import CtcTask
from phonasr.train.data import feature_data

BACKEND = "kaldi-native-fbank"


def audio_cuts(espeak_wavs) -> List[MonoCut]:
    """One cut per espeak-ng sentence; its "phonemes" are its first letters (any units will do here)."""
    cuts = []
    for wav, lang, text in espeak_wavs:
        rec = Recording.from_file(wav, recording_id=f"{lang}-{Path(wav).stem}")
        sup = SupervisionSegment(id=rec.id, recording_id=rec.id, start=0.0, duration=rec.duration, text=text,
                                 language=lang, custom={"phones": " ".join(text.replace(" ", "")[:6])})
        cuts.append(MonoCut(id=rec.id, start=0.0, duration=rec.duration, channel=0, recording=rec,
                            supervisions=[sup]))
    return cuts


def with_stored_features(cuts: List[MonoCut], storage: Path) -> List[MonoCut]:
    """The cuts with fbank of ``BACKEND`` stored losslessly (the feature stage's lilcom adds ~0.02 of error)."""
    backend, config = create_backend(BACKEND), FbankConfig()
    out = []
    with NumpyFilesWriter(storage) as writer:
        for cut in cuts:
            feats = backend.compute([load_samples(cut, config.sample_rate)])[0]
            features = Features(type="kaldi-fbank", num_frames=feats.shape[0], num_features=feats.shape[1],
                                frame_shift=config.frame_shift_s, sampling_rate=config.sample_rate, start=0.0,
                                duration=cut.duration, storage_type=writer.name,
                                storage_path=str(writer.storage_path), storage_key=writer.write(cut.id, feats),
                                recording_id=cut.recording_id)
            out.append(fastcopy(cut, features=features))
    return out


@pytest.fixture(scope="module")
def manifests(espeak_wavs, tmp_path_factory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("onthefly")
    cuts = audio_cuts(espeak_wavs)
    paths = {"audio": root / "cuts_audio.jsonl.gz", "stored": root / "cuts_fbank.jsonl.gz"}
    CutSet.from_cuts(cuts).to_file(paths["audio"])
    CutSet.from_cuts(with_stored_features(cuts, root / "feats")).to_file(paths["stored"])
    units = sorted({u for c in cuts for u in c.supervisions[0].custom["phones"].split()})
    save_tokenizer(PhonemeTokenizer.from_units(units), root / "lang")
    paths["lang"] = root / "lang"
    return paths


def ctc_config(manifests: Dict[str, Path], source: str, on_the_fly: str | None, num_workers: int = 0) -> dict:
    return {"task": "ctc", "seed": 3, "tokenizer_dir": str(manifests["lang"]), "target_field": "phones",
            "model": {"type": "conformer", "preset": "tiny", "num_blocks": 1, "dropout": 0.0},
            "data": {"train": str(manifests[source]), "dev": str(manifests[source]), "max_duration": 5.0,
                     "num_buckets": 2, "num_workers": num_workers, "on_the_fly_fbank": on_the_fly}}


def epoch_batches(config: dict) -> tuple:
    task = CtcTask(config, torch.device("cpu"))
    data = feature_data(task, seed=config["seed"], world_size=1, rank=0)
    data.sampler.start_epoch(1)
    return task, list(data.train_loader), list(data.dev_loader)


def test_on_the_fly_fbank_batches_equal_stored_feature_batches(manifests):
    task, stored_train, stored_dev = epoch_batches(ctc_config(manifests, "stored", None))
    # extraction in a DataLoader worker, as in training: the extractor is built there
    _, fly_train, fly_dev = epoch_batches(ctc_config(manifests, "audio", BACKEND, num_workers=1))
    assert len(stored_train) >= 2 and len(fly_train) == len(stored_train) and len(fly_dev) == len(stored_dev)
    assert sum(len(b["cut_ids"]) for b in stored_train) == 5
    torch.manual_seed(0)
    model = task.build_models()[task.model_name].eval()
    for stored, fly in zip(stored_train + stored_dev, fly_train + fly_dev):
        assert fly["cut_ids"] == stored["cut_ids"] and fly["phones"] == stored["phones"]
        assert torch.equal(fly["feature_lens"], stored["feature_lens"])
        torch.testing.assert_close(fly["features"], stored["features"], atol=1e-3, rtol=0)
        for feats, n in zip(fly["features"], fly["feature_lens"]):  # padded like stored features
            assert (feats[int(n):] == FEATURE_PAD_VALUE).all()
        with torch.no_grad():
            losses = [task.compute_loss({task.model_name: model}, b)[0] for b in (stored, fly)]
        torch.testing.assert_close(losses[0], losses[1], atol=1e-4, rtol=1e-4)
    assert any(int(b["feature_lens"].min()) < b["features"].size(1) for b in stored_train)  # padding was compared


def test_audio_only_cuts_need_the_on_the_fly_option_and_a_known_backend(manifests):
    with pytest.raises(ValueError, match="has no features; .*data.on_the_fly_fbank"):
        epoch_batches(ctc_config(manifests, "audio", None))
    with pytest.raises(ValueError, match="unknown fbank backend 'kaldi'"):
        epoch_batches(ctc_config(manifests, "audio", "kaldi"))
