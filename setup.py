"""phonasr: Kaldi-style recipes for phoneme-based crosslingual ASR (JSA-SPG)."""
from setuptools import find_packages, setup

setup(
    name="phonasr",
    version="0.1.0",
    description="Phoneme-based crosslingual speech recognition with JSA-SPG, Kaldi-style recipes",
    packages=find_packages(include=["phonasr", "phonasr.*"]),
    package_data={"phonasr": ["phonemes/inventories/*.txt"]},
    python_requires=">=3.9",
    entry_points={"console_scripts": ["phonasr=phonasr.command:main", "phonasr-doctor=phonasr.bin.doctor:main"]},
)
