// The wake word in the browser, in a worker: openWakeWord's TFLite models (the very files the
// Pi satellite and the hub run, from pyopen-wakeword) on TensorFlow Lite compiled to
// WebAssembly (the TFLite Web API of the npm package @tensorflow/tfjs-tflite, which the hub
// serves under /wakeword/runtime/). It follows pyopen-wakeword's streaming step for step
// (OpenWakeWordFeatures and OpenWakeWord.process_streaming, the hub's OpenWakeWordListener for
// threshold and refractory time), so its scores are the hub's: tests/web/test_browser_wake.py
// compares them on the same audio.
//
// In:  load{config, rate, collect}  audio{seq, pcm: Int16Array at `rate`}  reset  scores
// Out: loaded{simd} | failed{reason}  wake{name, score, seq}
//      scores{scores, chunks, firstMs, busyMs (the blocks after the first)}
"use strict";
const RATE = 16000, CHUNK = 1280, MEL_SAMPLES = 1760, NUM_MELS = 32, EMB_WINDOW = 76,
  EMB_STEP = 8, FEATURES = 96, MAX_SAMPLES = 10 * RATE, MAX_MELS = 10 * 97, MAX_EMB = 10 * 8,
  AUTOFILL = 8 * RATE, FRAME_SECONDS = 0.08;

let mel = null, emb = null, words = [], threshold = 0.5, refractory = 2, quietLeft = 0;
let audio = null, newAudio = 0, mels = null, newMels = 0;
let collect = null, chunks = 0, busyMs = 0, firstMs = 0;
let inRate = RATE, resampleAt = 0, lastSample = 0;

async function runner(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const model = await tfweb.TFLiteWebModelRunner.create(await response.arrayBuffer(), { numThreads: -1 });
  const input = model.getInputs()[0], output = model.getOutputs()[0];
  const windows = Number(input.shape.split(",")[1]);
  return { model, windows, input: () => input.data(), output: () => output.data() };
}

async function load(config, rate, wantScores) {
  self.exports = self.exports || {};  // the client's last line sets exports.tfweb
  importScripts(config.runtime + "tflite_web_api_client.js");
  tfweb.tflite_web_api.setWasmPath(config.runtime);
  const simd = (await tfweb.tflite_web_api.getWasmFeatures()).simd;
  mel = await runner(config.models + "melspectrogram.tflite");
  emb = await runner(config.models + "embedding_model.tflite");
  words = [];
  for (const name of config.words) {
    const word = await runner(config.models + name + ".tflite");
    word.name = name;
    words.push(word);
  }
  threshold = config.threshold; refractory = config.refractory_seconds;
  inRate = rate;
  collect = wantScores ? Object.fromEntries(config.words.map((w) => [w, []])) : null;
  reset();
  return simd;
}

function reset() {
  audio = new Float32Array(MAX_SAMPLES); newAudio = AUTOFILL;
  mels = new Float32Array(MAX_MELS * NUM_MELS); newMels = 0;
  for (const word of words) { word.embeddings = new Float32Array(MAX_EMB * FEATURES); word.fresh = 0; }
}

// The microphone at another rate than 16 kHz (a browser that ignored the asked-for rate):
// linear interpolation, carried from block to block.
function to16k(pcm) {
  if (inRate === RATE) return Float32Array.from(pcm);
  const step = inRate / RATE, out = [];
  let at = resampleAt;
  while (at < pcm.length) {
    const i = Math.floor(at), frac = at - i;
    const a = i === 0 ? lastSample : pcm[i - 1], b = pcm[i];
    out.push(Math.round(a + (b - a) * frac));
    at += step;
  }
  resampleAt = at - pcm.length;
  lastSample = pcm[pcm.length - 1];
  return Float32Array.from(out);
}

// One embedding into one word's model (OpenWakeWord.process_streaming): its scores.
function score(word, embedding, found) {
  const e = word.embeddings;
  e.copyWithin(0, FEATURES);
  e.set(embedding, (MAX_EMB - 1) * FEATURES);
  word.fresh = Math.min(MAX_EMB, word.fresh + 1);
  while (word.fresh >= word.windows) {
    const start = (MAX_EMB - word.fresh) * FEATURES;
    word.input().set(e.subarray(start, start + word.windows * FEATURES));
    word.fresh = Math.max(0, word.fresh - 1);
    if (!word.model.infer()) throw new Error(word.name + ": inference failed");
    const p = word.output()[0];
    if (collect) collect[word.name].push(p);
    if (quietLeft > 0) quietLeft = Math.max(0, quietLeft - FRAME_SECONDS);
    else if (p > threshold) { quietLeft = refractory; found.push({ name: word.name, score: p }); }
  }
}

// Audio in (int16 values as floats), wake words out (OpenWakeWordFeatures.process_streaming).
function process(chunk) {
  const found = [], n = chunk.length;
  audio.copyWithin(0, n);
  audio.set(chunk, MAX_SAMPLES - n);
  newAudio = Math.min(MAX_SAMPLES, newAudio + n);
  while (newAudio >= MEL_SAMPLES) {
    const start = MAX_SAMPLES - newAudio;
    mel.input().set(audio.subarray(start, start + MEL_SAMPLES));
    newAudio = Math.max(0, newAudio - CHUNK);
    if (!mel.model.infer()) throw new Error("melspectrogram: inference failed");
    const out = mel.output(), frames = out.length / NUM_MELS;
    mels.copyWithin(0, frames * NUM_MELS);
    const at = (MAX_MELS - frames) * NUM_MELS;
    for (let i = 0; i < out.length; i++) mels[at + i] = Math.fround(Math.fround(out[i] / 10) + 2);
    newMels = Math.min(MAX_MELS, newMels + frames);
    while (newMels >= EMB_WINDOW) {
      const s = (MAX_MELS - newMels) * NUM_MELS;
      emb.input().set(mels.subarray(s, s + EMB_WINDOW * NUM_MELS));
      newMels = Math.max(0, newMels - EMB_STEP);
      if (!emb.model.infer()) throw new Error("embedding: inference failed");
      const embedding = emb.output().slice(0, FEATURES);
      for (const word of words) score(word, embedding, found);
    }
  }
  return found;
}

self.onmessage = async (event) => {
  const m = event.data;
  try {
    if (m.type === "load") {
      const simd = await load(m.config, m.rate, !!m.collect);
      self.postMessage({ type: "loaded", simd });
    } else if (m.type === "audio") {
      if (!mel) return;
      const began = performance.now();
      const found = process(to16k(m.pcm));
      const took = performance.now() - began;
      if (chunks++ === 0) firstMs = took; else busyMs += took;  // the first fills 8 s of silence
      for (const f of found) self.postMessage({ type: "wake", name: f.name, score: f.score, seq: m.seq });
    } else if (m.type === "reset") {
      reset();
    } else if (m.type === "scores") {
      self.postMessage({ type: "scores", scores: collect, chunks, busyMs, firstMs });
    }
  } catch (err) {
    self.postMessage({ type: "failed", reason: String(err && err.message || err) });
  }
};
