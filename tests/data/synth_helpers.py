"""Helpers to build tiny synthetic corpora (real espeak-ng speech, ffmpeg mp3s) in the data tests."""
from __future__ import annotations

from pathlib import Path

import yaml

from phonasr.bin import synth_corpus

PL_TEXT = """\
Wczoraj wieczorem poszliśmy razem do kina.

Mój brat bardzo lubi czytać stare książki.

Na stole leży świeży chleb i masło.

Jutro rano pojedziemy pociągiem nad morze.

Ta droga prowadzi prosto do lasu.

Kot śpi spokojnie na ciepłym parapecie.

Dzieci bawią się wesoło w ogrodzie.

Proszę zamknąć okno, bo jest zimno.

Zima w górach bywa długa i śnieżna.

Nasza sąsiadka piecze pyszne ciasto.

Rano piję gorącą herbatę z cytryną.

Autobus przyjechał dziesięć minut później.

W sobotę odwiedzimy naszych dziadków na wsi.

Ptaki śpiewają głośno o wschodzie słońca.

Ten obraz wisi w muzeum od wielu lat.

Lekarz kazał mu odpocząć przez tydzień.

Po deszczu na niebie pojawiła się tęcza.

Czy możesz mi podać sól i pieprz?
"""
PL_OTHER = """\
Polecenie wyświetla listę plików w katalogu.

Program kończy działanie po błędzie zapisu.

Ta opcja zmienia sposób wyświetlania daty.

Plik konfiguracyjny jest czytany przy starcie usługi.

Serwer zapisuje komunikaty w dzienniku systemowym.

Polecenie zwraca zero, gdy wszystko się powiodło.

Użytkownik może zmienić hasło w każdej chwili.
"""
ES_TEXT = """\
Mañana vamos a la playa con mis amigos.

El perro duerme debajo de la mesa.

Me gusta mucho leer libros antiguos.

La ciudad está muy tranquila esta noche.

Mi hermana trabaja en un hospital grande.
"""


def tiny_config(text_dir: Path, seed: int = 7) -> dict:
    for name, text in (("pl.txt", PL_TEXT), ("pl_other.txt", PL_OTHER), ("es.txt", ES_TEXT)):
        (text_dir / name).write_text(text, encoding="utf-8")
    return {
        "seed": seed, "batch_size": 4, "dev_fraction": 0.2, "test_fraction": 0.2, "noise_snr_db": [25, 35],
        "other_domain_sentences": 5, "other_domain_test_sentences": 2,
        "speakers": {"variants": ["m1", "f2"], "pitches": [40, 60], "rates": [170], "dev_speakers": 1,
                     "test_speakers": 1},
        "languages": {
            "pl": {"voice": "pl", "minutes": 0.8, "text": [f"file:{text_dir}/pl.txt"],
                   "other_domain_text": [f"file:{text_dir}/pl_other.txt"]},
            "es": {"voice": "es", "minutes": 0.25, "text": [f"file:{text_dir}/es.txt"]},
        },
    }


def build_corpus(config_path: Path, root: Path, num_jobs: int = 2) -> None:
    """plan, render (each job in turn) and finalize, as local/synth/make_corpus.sh runs them."""
    synth_corpus.main(["plan", "--config", str(config_path), str(root)])
    for job in range(1, num_jobs + 1):
        synth_corpus.main(["render", "--config", str(config_path), "--job", str(job), "--num-jobs",
                           str(num_jobs), str(root)])
    synth_corpus.main(["finalize", "--config", str(config_path), str(root)])


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path
