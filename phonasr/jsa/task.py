"""JSA-SPG training (arXiv 2507.06249): S2P p(h|x), P2G p(y|h) and G2P q(h|y) trained jointly, h latent.

Per batch: the G2P reads the characters of y and K phoneme sequences are drawn from its CTC distribution (or each,
with probability ``jsa.proposal_s2p_weight``, from the S2P's: :mod:`phonasr.jsa.proposal`); each
utterance's Markov chain (started from its cached sample) runs through them with the Metropolis independence
sampler; the chain's final state h is the CTC target of all three models (S2P on (x,h), P2G on (h,y), G2P on
(y,h)) and the three losses are summed for the one optimiser. For the labelled subset the S2P and G2P targets
are the true phonemes; the P2G keeps reading the sampled h, which resembles the S2P output it reads when
decoding. The sampler's weights come from dropout-free passes by default (``jsa.score_mode``, see
:mod:`phonasr.jsa.likelihoods`); oversampled copies of an utterance in one batch continue one chain
(:mod:`phonasr.jsa.step`); under DDP each step's new states are exchanged, so every rank holds the whole cache
and a checkpoint stores it once.

Config (besides the trainer's ``data``/``train``/``optim``/``schedule``)::

    tokenizers: {phone: data/lang_phone_pl, text: data/lang_bpe500_pl, char: data/lang_char_pl}
    init: {s2p: exp/s2p_ft/final.pt, p2g: exp/p2g_init/final.pt, g2p: exp/g2p_init/final.pt}
    jsa: {...}   # see JsaSettings

An ``init`` entry is a checkpoint path or ``{checkpoint: path, model_name: name}``; without a name the model called
like the entry (``p2g`` in a JSA or token-task checkpoint) or the file's only model is used. The models'
architectures are those of these checkpoints, and the tokenizers they record must be the config's.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
from lhotse.cut import Cut

from phonasr.batching.cuts import Batch
from phonasr.batching.padding import pad_ids
from phonasr.ctc import greedy_search, prefix_beam_search
from phonasr.jsa.cache import SampleCache
from phonasr.jsa.data import oversampled_train_entries, read_labelled_subset
from phonasr.jsa.likelihoods import SCORE_MODES
from phonasr.jsa.proposal import check_s2p_weight
from phonasr.jsa.stats import phone_error_rate
from phonasr.jsa.step import StepOutput, jsa_step
from phonasr.models import build_model
from phonasr.models.stored import ModelSpec, load_model_checkpoint, specs_metadata, stored_model
from phonasr.scoring.error_rate import ErrorCounts, align_tokens, tokenize
from phonasr.tokenizers import load_tokenizer
from phonasr.train.settings import parse_section
from phonasr.train.task import Models, PlotPanel, Task
from phonasr.utils.config import ConfigError

log = logging.getLogger(__name__)

MODEL_NAMES = ("s2p", "p2g", "g2p")
# which tokenizer (by its key in ``tokenizers:``) each model reads and writes; the S2P reads features
MODEL_IO = {"s2p": (None, "phone"), "p2g": ("phone", "text"), "g2p": ("char", "phone")}


@dataclasses.dataclass
class JsaSettings:
    """The ``jsa:`` section of the config."""

    num_samples: int = 10             # K proposals per utterance and step (reference: 10)
    weights: str = "exact"            # exact | length_normalised (the reference's approximate weights)
    cache: str = "persistent"         # persistent (chains continue across epochs) | restart (every batch)
    labelled: Optional[str] = None    # cut manifest of the phoneme-labelled subset (true phonemes)
    labelled_weight: int = 1          # visits per epoch of each labelled utterance (others: 1)
    length_margin: Optional[int] = None  # reject candidates unless len(input) > len(output) + margin for the
    #                                      P2G and G2P pairs (reference: 2); null when the models upsample
    ctc_backend: str = "auto"
    score_mode: str = "eval"          # eval: the sampler's weights from eval-mode no-grad passes (exact target);
    #                                   train: S2P/G2P scores from the training pass, as the reference does;
    #                                   no_dropout: S2P and G2P train without dropout, one pass scores (exactly)
    #                                   and trains
    #                                   (see phonasr.jsa.likelihoods)
    decode_beam: int = 0              # validation S2P decoding: 0 = greedy, else prefix beam search width
    proposal_s2p_weight: float = 0.5  # probability that a proposal comes from the S2P's CTC posterior p(h|x) instead
    #                                   of the G2P q(h|y); the weights use the mixture's density. 0 = the reference's
    #                                   G2P-only proposal. 0.5: issue 11, mini recipe 3 seeds (phonasr.jsa.proposal)
    new_chain_start: str = "s2p_greedy"  # s2p_greedy: a new (or restarted) chain starts from the S2P's greedy
    #                                    hypothesis; proposal: it takes its first feasible proposal. Same target;
    #                                    issue 11, mini recipe 3 seeds: the unlabelled cache ends at 3.3% PER, below
    #                                    the SPG-init S2P's 1-best (3.54), with s2p_greedy, at 4.0-4.2 with proposal

    def __post_init__(self) -> None:
        if self.num_samples < 1:
            raise ValueError("jsa.num_samples must be >= 1")
        if self.weights not in ("exact", "length_normalised"):
            raise ValueError(f"jsa.weights must be exact or length_normalised, not '{self.weights}'")
        if self.cache not in ("persistent", "restart"):
            raise ValueError(f"jsa.cache must be persistent or restart, not '{self.cache}'")
        if self.score_mode not in SCORE_MODES:
            raise ValueError(f"jsa.score_mode must be one of {', '.join(SCORE_MODES)}, not '{self.score_mode}'")
        check_s2p_weight(self.proposal_s2p_weight)
        if self.new_chain_start not in ("proposal", "s2p_greedy"):
            raise ValueError(f"jsa.new_chain_start must be proposal or s2p_greedy, not '{self.new_chain_start}'")
        if self.labelled_weight != int(self.labelled_weight) or self.labelled_weight < 1:
            raise ValueError(f"jsa.labelled_weight must be a whole number >= 1, not {self.labelled_weight!r}")


class JsaTask(Task):
    error_rate_name = "WER"

    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        self.settings = parse_section(JsaSettings, config.get("jsa"), "jsa")
        dirs = dict(config.get("tokenizers") or {})
        missing = [k for k in ("phone", "text", "char") if not dirs.get(k)]
        if missing:
            raise ConfigError(f"a jsa config needs tokenizers.{{phone,text,char}} (text: the P2G outputs, BPE or "
                              f"characters); missing: {', '.join(missing)}",
                              "name the three lang dirs, e.g. tokenizers: {phone: data/lang_phone_pl, "
                              "text: data/lang_bpe500_pl, char: data/lang_char_pl}")
        self.tokenizer_dirs = {k: str(dirs[k]) for k in ("phone", "text", "char")}
        self.tokenizers = {k: load_tokenizer(d) for k, d in self.tokenizer_dirs.items()}
        self.phones, self.graphemes, self.chars = (self.tokenizers[k] for k in ("phone", "text", "char"))
        self.cache = SampleCache(persistent=self.settings.cache == "persistent")
        self.true_phones: Dict[str, List[int]] = {}
        if self.settings.labelled:
            for utt, units in read_labelled_subset(self.settings.labelled).items():
                self.true_phones[utt] = self._encode(self.phones, units, utt, "true phonemes")
        elif self.settings.labelled_weight > 1:
            raise ConfigError("jsa.labelled_weight > 1 needs jsa.labelled",
                              "name the labelled-subset cut manifest in jsa.labelled, or drop labelled_weight")
        self.model_configs: Dict[str, Dict[str, Any]] = {}  # the architectures of the init checkpoints
        self._pending_init: Dict[str, Dict[str, torch.Tensor]] = {}

    # ------------------------------------------------------------------------------------------ data
    def train_manifests(self, entries: Any) -> Any:
        """``data.train`` with the labelled subset oversampled to ``jsa.labelled_weight`` visits per epoch."""
        if not self.settings.labelled:
            return entries
        out = oversampled_train_entries(entries, self.settings.labelled, self.settings.labelled_weight)
        log.info("labelled subset %s (%d utterances): %d visits per epoch each", self.settings.labelled,
                 len(self.true_phones), self.settings.labelled_weight)
        return out

    @staticmethod
    def _encode(tokenizer: Any, text: str, utt: str, what: str) -> List[int]:
        try:
            return list(tokenizer.encode(text))
        except Exception as e:
            raise ValueError(f"utterance '{utt}': cannot encode its {what} '{text}': {e}") from e

    def keep_cut(self, cut: Cut) -> bool:
        """Cuts without text give the P2G nothing to predict and the G2P nothing to read."""
        text = cut.supervisions[0].text or ""
        return bool(self.graphemes.encode(text)) and bool(self.chars.encode(text))

    # ------------------------------------------------------------------------------------------ models
    def _init_entry(self, name: str) -> Tuple[str, Optional[str]]:
        entry = (self.config.get("init") or {}).get(name)
        if isinstance(entry, Mapping):
            return str(entry.get("checkpoint")), entry.get("model_name")
        if not entry:
            raise ConfigError(f"a jsa config needs init.{name}",
                              f"name the checkpoint the {name.upper()} starts from, e.g. init.{name}: "
                              f"exp/{name}/final.pt")
        return str(entry), None

    def build_models(self) -> Models:
        """The three models with the architectures of their init checkpoints, whose recorded tokenizers (where
        recorded) must be the config's: a P2G trained on another phoneme inventory would load without error."""
        models: Models = {}
        for name in MODEL_NAMES:
            path, source_name = self._init_entry(name)
            source = stored_model(load_model_checkpoint(path), path, source_name, prefer=name)
            in_key, out_key = MODEL_IO[name]
            source.check_symbols("output", self.tokenizers[out_key].symbols, self.tokenizer_dirs[out_key])
            if in_key is not None:
                source.check_symbols("input", self.tokenizers[in_key].symbols, self.tokenizer_dirs[in_key])
            in_vocab = self.tokenizers[in_key].vocab_size if in_key is not None else None
            models[name] = build_model(dict(source.spec.config), self.tokenizers[out_key].vocab_size, in_vocab)
            self.model_configs[name] = dict(source.spec.config)
            self._pending_init[name] = source.state
        return models

    def initialize(self, models: Models) -> Models:
        for name, state in self._pending_init.items():
            try:
                models[name].load_state_dict(state)
            except RuntimeError as e:
                path, _ = self._init_entry(name)
                raise ValueError(f"{path} does not fit the {name.upper()} built from the jsa config's tokenizers "
                                 f"{self.tokenizer_dirs}: {e}") from e
            log.info("initialised %s from %s", name, self._init_entry(name)[0])
        self._pending_init = {}
        return models

    def checkpoint_metadata(self) -> Dict[str, Any]:
        """The S2P's phoneme lang dir at the top level (what S2P decoding reads), every model's spec below."""
        specs = {}
        for name, (in_key, out_key) in MODEL_IO.items():
            spec = ModelSpec(dict(self.model_configs[name]), self.tokenizer_dirs[out_key],
                             list(self.tokenizers[out_key].symbols))
            if in_key is not None:
                spec.input_dir, spec.input_symbols = self.tokenizer_dirs[in_key], list(self.tokenizers[in_key].symbols)
            specs[name] = spec
        return {"tokenizer_dir": self.tokenizer_dirs["phone"], "symbols": list(self.phones.symbols),
                "tokenizer_dirs": dict(self.tokenizer_dirs), **specs_metadata(specs)}

    # ------------------------------------------------------------------------------------------ loss
    def compute_loss(self, models: Models, batch: Batch) -> Tuple[torch.Tensor, Dict[str, float], int]:
        utt_ids = list(batch["utt_ids"])  # supervision ids: oversampled copies of a cut share one chain
        texts = list(batch["texts"])
        out = jsa_step(models, batch["features"].to(self.device), batch["feature_lens"].to(self.device),
                       graphemes=[self._encode(self.graphemes, t, u, "text") for t, u in zip(texts, utt_ids)],
                       chars=[self._encode(self.chars, t, u, "text") for t, u in zip(texts, utt_ids)],
                       chain_starts=[self.cache.chain_start(u) for u in utt_ids],
                       fixed_targets=[self.true_phones.get(u) for u in utt_ids],
                       num_samples=self.settings.num_samples,
                       length_normalised=self.settings.weights == "length_normalised",
                       length_margin=self.settings.length_margin, ctc_backend=self.settings.ctc_backend,
                       score_mode=self.settings.score_mode, chain_ids=utt_ids,
                       proposal_s2p_weight=self.settings.proposal_s2p_weight,
                       new_chains_from_s2p=self.settings.new_chain_start == "s2p_greedy")
        chains = [utt_ids[r] for r in out.chain_rows]
        cached = [self.cache.get(u) for u in chains]  # the chains' entries before this step
        self._record(chains, out.result.states)
        loss = out.loss()
        stats = {"loss": float(loss.detach()),
                 "loss_s2p": float(out.s2p.per_token().detach()),
                 "loss_p2g": float(out.p2g.per_token().detach()),
                 "loss_g2p": float(out.g2p.per_token().detach()),
                 "chain_init": sum(out.result.initialised) / len(chains),
                 "no_state": float(sum(s is None for s in out.result.states)),
                 "infeasible_targets": float(out.infeasible_targets),
                 **self._chain_stats(chains, cached, [batch["phones"][r] for r in out.chain_rows], out)}
        return loss, stats, int(batch["feature_lens"].sum())

    def _record(self, utt_ids: Sequence[str], states: Sequence[Optional[List[int]]]) -> None:
        """Put this step's chain states into the cache of every rank: each rank's new states, applied in rank
        order everywhere, so all ranks hold the same global cache (an utterance sampled on two ranks in one step
        keeps the higher rank's state) and the next epoch finds every chain wherever the sampler deals it."""
        mine = [(u, s) for u, s in zip(utt_ids, states) if s is not None]
        for updates in self.dist.all_gather_object(mine):
            self.cache.update(updates)

    def _chain_stats(self, utt_ids: Sequence[str], cached: Sequence[Optional[List[int]]],
                     true_phones: Sequence[Optional[str]], out: StepOutput) -> Dict[str, float]:
        """Per-chain health statistics; each is left out of a batch that has nothing to measure it on.

        ``accept_rate``: accept tests passed (chain initialisations are no tests); ``cache_changed``: chains
        whose cached sample was replaced, among those that had one; ``proposal_per``: the proposals against the
        chain's cached sample before the step; ``cache_per``: the chains' new samples against the true phonemes
        (the labelled subset's, and those the data carries), ``cache_per_unlabelled``: the same without the
        labelled subset, whose S2P/G2P targets are the truth: only there are the latent phonemes learnt from
        text alone.
        """
        result = out.result
        stats: Dict[str, float] = {}
        rate = result.acceptance_rate
        if rate is not None:
            stats["accept_rate"] = rate
        had = [(c, s) for c, s in zip(cached, result.states) if c is not None and s is not None]
        if had:
            stats["cache_changed"] = sum(c != s for c, s in had) / len(had)
        pairs = [(c, p) for c, props in zip(cached, out.proposals) if c is not None for p in props]
        per = phone_error_rate([c for c, _ in pairs], [p for _, p in pairs])
        if per is not None:
            stats["proposal_per"] = per
        truth = [(u, self.true_phones.get(u) or self._encode(self.phones, ph, u, "true phonemes"), s)
                 for u, ph, s in zip(utt_ids, true_phones, result.states)
                 if (ph or u in self.true_phones) and s is not None]
        for key, rows in (("cache_per", truth), ("cache_per_unlabelled",
                                                 [t for t in truth if t[0] not in self.true_phones])):
            per = phone_error_rate([t for _, t, _ in rows], [s for _, _, s in rows])
            if per is not None:
                stats[key] = per
        return stats

    def plot_panels(self) -> List[PlotPanel]:
        """The sampler's health beside the losses: is it mixing, and are the latent phonemes being learnt."""
        return [("MIS acceptance rate", [("train", "accept_rate")]),
                ("cache entries changed", [("train", "cache_changed"), ("train", "chain_init")]),
                ("proposal PER vs cache (%)", [("train", "proposal_per")]),
                ("cache PER vs truth (%)", [("train", "cache_per"), ("train", "cache_per_unlabelled")])]

    # ------------------------------------------------------------------------------------------ validation
    def validate(self, models: Models, loader: Iterable[Batch]) -> Dict[str, float]:
        """Dev WER and CER of S2P decoding (greedy or beam) -> P2G greedy decoding, and S2P PER where phonemes
        exist. A character P2G places word boundaries poorly without an LM, so its WER says little of how it
        spells: ``train.metric: cer`` selects checkpoints by the CER instead."""
        words, chars, phones, utts = ErrorCounts(), ErrorCounts(), ErrorCounts(), 0
        for batch in loader:
            log_probs, lens = models["s2p"](batch["features"].to(self.device), batch["feature_lens"].to(self.device))
            if self.settings.decode_beam > 0:
                hyps = [list(nbest[0].tokens) if nbest else []
                        for nbest in prefix_beam_search(log_probs, lens, self.settings.decode_beam, 1)]
            else:
                hyps = [list(h) for h in greedy_search(log_probs, lens)]
            nonempty = [i for i, h in enumerate(hyps) if h]
            texts = [""] * len(hyps)
            if nonempty:
                p2g_lp, p2g_lens = models["p2g"](*pad_ids([hyps[i] for i in nonempty], self.device))
                for i, ids in zip(nonempty, greedy_search(p2g_lp, p2g_lens)):
                    texts[i] = self.graphemes.decode(list(ids))
            for ref, hyp, ref_phones, hyp_phones in zip(batch["texts"], texts, batch["phones"], hyps):
                words += align_tokens(tokenize(ref, "wer"), tokenize(hyp, "wer"))[1]
                chars += align_tokens(tokenize(ref, "cer"), tokenize(hyp, "cer"))[1]
                if ref_phones:
                    phones += align_tokens(ref_phones.split(), self.phones.decode(hyp_phones).split())[1]
                utts += 1
        metrics = {"error_rate": words.rate, "wer": words.rate, "cer": chars.rate, "utts": float(utts)}
        if phones.ref_len:
            metrics["per"] = phones.rate
        return metrics

    # ------------------------------------------------------------------------------------------ state
    def on_epoch_start(self, epoch: int) -> None:
        log.info("epoch %d: sample cache holds %d utterances (%s chains)", epoch, len(self.cache),
                 self.settings.cache)

    def shared_state_dict(self) -> Dict[str, Any]:
        """The sample cache, the same on every rank: saved once, and a resume with any number of processes gives
        each the whole of it."""
        return {"cache": self.cache.state_dict()}

    def load_shared_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume: the chains continue from the checkpoint's cache; the init weights are not needed any more."""
        if "cache" in state:
            self.cache.load_state_dict(state["cache"])
        self._pending_init = {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Checkpoints written before the cache was shared kept one in every rank's state: resume from it."""
        if "cache" in state:
            self.cache.load_state_dict(state["cache"])
