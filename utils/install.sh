#!/usr/bin/env bash
# Creates everything phonasr needs on a fresh machine, once: system tools, the Python 3.11 environment
# (.venv), kaldifeat built from its sdist where it pays (a CUDA torch, or --kaldifeat true), and optionally the
# Python 3.9 + k2 environment (.venv-k2).
# Idempotent: each part leaves a stamp holding the hash of what it was built from, and a second run with
# unchanged requirements does nothing. path.sh calls this when .venv is missing, so both README commands
# (main job, tests) set the machine up by themselves.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
k2=false          # also build .venv-k2 (Python 3.9.18 + torch 1.12.1 + k2 1.23.2)
# kaldifeat 1.24 has only an sdist: building it takes 10-15 minutes on 2 cores. On a CPU its fbank is ~3x as fast
# as kaldi-native-fbank's (bench/bench_fbank.py, one thread: 545 s of speech in 1.1 s instead of 4.0 s), which
# repays the build only on corpora of tens of hours (~60 h with 2 jobs), not the seconds of a mini recipe; auto
# builds it only where torch has CUDA and kaldifeat computes fbank on the GPU.
kaldifeat=auto    # auto | true | false
retry_kaldifeat=false  # try the kaldifeat build again even though it failed before with the same inputs
kenlm=true        # build KenLM's lmplz, build_binary and query into .venv/bin (~2 min on one core)
kenlm_version=0.3.0
system=true       # install missing system tools with apt (needs root)
python=python3.11 # interpreter for .venv

help_message="Usage: utils/install.sh [options]
Sets up phonasr's environments; a second run with unchanged requirements does nothing.
Options:
  --k2 <true|false>         also build .venv-k2 for the k2 tests (default: $k2)
  --kaldifeat <auto|true|false>  build kaldifeat 1.24 from source into .venv (~10 min on 2 cores); auto: only
                            when .venv's torch has CUDA (default: $kaldifeat)
  --retry-kaldifeat <true|false>  retry a kaldifeat build that failed before (default: $retry_kaldifeat)
  --kenlm <true|false>      build KenLM's lmplz (n-gram LM training) into .venv/bin (~2 min) (default: $kenlm)
  --system <true|false>     apt-install missing espeak-ng, sox, libsox-fmt-mp3, ffmpeg (default: $system)
  --python <exe>            interpreter for .venv (default: $python)"

# shellcheck source=utils/parse_options.sh
. "$root/utils/parse_options.sh"
# shellcheck source=utils/log.sh
. "$root/utils/log.sh"

case $kaldifeat in auto|true|false) ;; *) die "--kaldifeat takes auto, true or false, not '$kaldifeat'" ;; esac
case $kenlm in true|false) ;; *) die "--kenlm takes true or false, not '$kenlm'" ;; esac

cd "$root"
venv=$root/.venv
venv_k2=$root/.venv-k2
cache=$root/.cache/install
mkdir -p "$cache"

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

install_system_tools() {
  local pkg probe missing=()
  while read -r pkg probe; do
    case $pkg in ''|'#'*) continue ;; esac
    if [[ $probe == /* ]]; then [ -e "$probe" ] && continue; else command -v "$probe" >/dev/null && continue; fi
    missing+=("$pkg")
  done <requirements/apt.txt
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$system" != true ]; then
    log "missing system packages: ${missing[*]} (--system false: not installing)"
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "$0: missing system packages: ${missing[*]}" >&2
    echo "$0: install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$cache/apt.log" 2>&1 ||
    { tail -n 20 "$cache/apt.log" >&2; echo "$0: apt-get install failed, see $cache/apt.log" >&2; exit 1; }
}

# has_cuda_torch PYTHON: true when PYTHON imports a CUDA build of torch (a GPU machine's).
has_cuda_torch() {
  "$1" -c 'import torch, sys; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null
}

install_venv() {
  local want stamp=$venv/.phonasr-stamp
  want=$(hash_of requirements/base.txt requirements/constraints.txt setup.py)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    log ".venv is up to date"
    return 0
  fi
  # Torch: where the base interpreter already has a CUDA build (a GPU machine), the venv sees it and we keep
  # it; otherwise the CPU wheel pinned in requirements/base.txt is installed.
  local reqs=requirements/base.txt venv_opts=()
  if has_cuda_torch "$python"; then
    log "keeping the CUDA torch of $python (venv with system site-packages)"
    venv_opts+=(--system-site-packages)
    grep -v '^torch==' requirements/base.txt >"$cache/base-no-torch.txt"
    reqs=$cache/base-no-torch.txt
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "${venv_opts[@]}" "$venv"
  log "installing Python packages into .venv"
  "$venv/bin/python" -m pip install -q --upgrade pip setuptools wheel
  "$venv/bin/python" -m pip install -q -r "$reqs" -c requirements/constraints.txt
  "$venv/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
  echo "$want" >"$stamp"
}

# pybind11's sources, unpacked into $1 for kaldifeat's CMake (which would otherwise fetch them from GitHub).
# Returns non-zero on failure; the caller runs it as a condition, where set -e does not apply, hence the &&s.
fetch_pybind11() {
  local src=$1 dl=$cache/pybind11-dl
  [ -f "$src/CMakeLists.txt" ] && return 0
  rm -rf "$dl" "$src" "$src.tmp" && mkdir -p "$dl" "$src.tmp" &&
    "$venv/bin/python" -m pip download -q --no-binary :all: --no-deps -d "$dl" pybind11 &&
    tar -xzf "$dl"/pybind11-*.tar.gz -C "$src.tmp" --strip-components=1 &&
    mv "$src.tmp" "$src"
}

# kaldifeat has only an sdist on PyPI. It builds against the installed torch with pybind11's sources given to
# CMake (no network during the build). A failure anywhere (fetching pybind11 included) is not fatal: the other
# fbank backends give the same numbers, and `python -m phonasr.bin.doctor` reports kaldifeat as missing.
install_kaldifeat() {
  [ "$kaldifeat" != false ] || return 0
  local stamp=$venv/.kaldifeat-stamp failed=$venv/.kaldifeat-failed want src=$cache/pybind11
  local build_log=$cache/kaldifeat.log
  want=$(hash_of requirements/constraints.txt)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import kaldifeat' 2>/dev/null; then
    log "kaldifeat is up to date"
    return 0
  fi
  if [ "$kaldifeat" = auto ] && ! has_cuda_torch "$venv/bin/python"; then
    log "kaldifeat: skipped, .venv's torch is a CPU build (fbank uses kaldi-native-fbank, ~3x slower on a CPU:" \
        "minutes only on corpora of tens of hours); --kaldifeat true builds it anyway"
    return 0
  fi
  if [ -f "$failed" ] && [ "$(cat "$failed")" = "$want" ] && [ "$retry_kaldifeat" != true ]; then
    log "kaldifeat failed to build earlier (see $build_log); not retrying (--retry-kaldifeat true to retry)"
    return 0
  fi
  log "building kaldifeat 1.24 from source (several minutes; log: $build_log)"
  if fetch_pybind11 "$src" >"$build_log" 2>&1 &&
     KALDIFEAT_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=17 -DFETCHCONTENT_SOURCE_DIR_PYBIND11=$src" \
     KALDIFEAT_MAKE_ARGS="-j$(nproc)" \
     "$venv/bin/python" -m pip install --no-build-isolation kaldifeat==1.24 >>"$build_log" 2>&1 &&
     "$venv/bin/python" -c 'import kaldifeat' 2>>"$build_log"; then
    echo "$want" >"$stamp"
    rm -f "$failed"
  else
    echo "$want" >"$failed"
    log "WARNING: kaldifeat did not build ($(tail -n 1 "$build_log")); continuing without it." \
        "Fbank falls back to kaldi-native-fbank; see $build_log"
  fi
}

# KenLM's lmplz (the LM trainer of phonasr.lm), build_binary and query, built with CMake from the kenlm sdist
# (PyPI has no wheel of the programs). Needs cmake and the boost dev packages of requirements/apt.txt. Not fatal:
# only LM training needs it; a failed build leaves .venv/.kenlm-failed and is not retried while that exists.
install_kenlm() {
  [ "$kenlm" = true ] || return 0
  local stamp=$venv/.kenlm-stamp failed=$venv/.kenlm-failed want dl=$cache/kenlm build_log=$cache/kenlm.log
  local programs=(lmplz build_binary query) program
  want=$(echo "kenlm==$kenlm_version ${programs[*]}" | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/lmplz" ]; then
    log "KenLM is up to date"
    return 0
  fi
  if [ -f "$failed" ] && [ "$(cat "$failed")" = "$want" ]; then
    log "KenLM failed to build earlier (see $build_log); not retrying (remove $failed to retry)"
    return 0
  fi
  log "building KenLM $kenlm_version's ${programs[*]} (about 2 min; log: $build_log)"
  rm -rf "$dl" && mkdir -p "$dl/build"
  if "$venv/bin/python" -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$dl" \
       "kenlm==$kenlm_version" >"$build_log" 2>&1 &&
     tar -xzf "$dl/kenlm-$kenlm_version.tar.gz" -C "$dl" >>"$build_log" 2>&1 &&
     (cd "$dl/build" && cmake "../kenlm-$kenlm_version" -DCMAKE_BUILD_TYPE=Release &&
      make -j"$(nproc)" "${programs[@]}") >>"$build_log" 2>&1; then
    for program in "${programs[@]}"; do
      install -m 755 "$dl/build/bin/$program" "$venv/bin/$program"
    done
    echo "$want" >"$stamp"
    rm -f "$failed"
    rm -rf "$dl"
  else
    echo "$want" >"$failed"
    log "WARNING: KenLM did not build ($(tail -n 1 "$build_log")); continuing without it. LM training" \
        "(steps/make_lm.sh) needs lmplz: install cmake and the boost dev packages of requirements/apt.txt," \
        "then rerun utils/install.sh; see $build_log"
  fi
}

install_k2_venv() {
  [ "$k2" = true ] || return 0
  local stamp=$venv_k2/.phonasr-stamp want py39
  want=$(hash_of requirements/k2.txt setup.py)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv_k2/bin/python" ]; then
    log ".venv-k2 is up to date"
    return 0
  fi
  if command -v pyenv >/dev/null && pyenv prefix 3.9.18 >/dev/null 2>&1; then
    py39=$(pyenv prefix 3.9.18)/bin/python
  elif command -v python3.9 >/dev/null; then
    py39=$(command -v python3.9)
  else
    echo "$0: the k2 environment needs Python 3.9 (e.g. 'pyenv install 3.9.18')" >&2
    exit 1
  fi
  log "building .venv-k2 with $py39 (torch 1.12.1 + k2 1.23.2)"
  [ -x "$venv_k2/bin/python" ] || "$py39" -m venv "$venv_k2"
  "$venv_k2/bin/python" -m pip install -q --upgrade pip setuptools wheel
  "$venv_k2/bin/python" -m pip install -q -r requirements/k2.txt
  "$venv_k2/bin/python" -m pip install -q --no-deps -e .
  "$venv_k2/bin/python" -m phonasr.bin.doctor --profile k2
  echo "$want" >"$stamp"
}

install_system_tools
install_venv
install_kaldifeat
install_kenlm
install_k2_venv
log "environment ready: $("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)')"
