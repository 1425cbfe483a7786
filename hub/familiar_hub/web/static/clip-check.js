// A voice clip measured while it is recorded, as the hub measures and judges it after Stop
// (familiar_hub/persona/voice.py: measure() and judge()), with the hub's numbers: `checks` is
// the `guidance.checks` of /api/persona, never a copy. The hub's verdict is still the one that
// counts (it also compares the speaker with the other clips). Used by admin.js.
"use strict";
class LiveClipCheck {
  constructor(checks, rate) {
    this.checks = checks;
    this.rate = rate;
    this.frameSize = Math.max(1, Math.floor(rate * checks.frame_seconds));
    this.levels = [];  // dBFS of each whole frame (30 ms), as voice.frame_levels
    this.frameSum = 0;
    this.frameFill = 0;
    this.samples = 0;
    this.clipped = 0;
    this.peak = 0;
    this.blockPeak = 0;  // the last block's: for the level meter
    this.blockClipped = false;
  }

  db(value) { return 20 * Math.log10(Math.max(value, this.checks.min_db)); }

  feed(block) {
    const full = this.checks.full_scale;
    let peak = 0, clipped = 0;
    for (let i = 0; i < block.length; i++) {
      const x = block[i], a = Math.abs(x);
      if (a > peak) peak = a;
      if (a >= full) clipped++;
      this.frameSum += x * x;
      if (++this.frameFill === this.frameSize) {
        this.levels.push(this.db(Math.sqrt(this.frameSum / this.frameSize)));
        this.frameSum = 0; this.frameFill = 0;
      }
    }
    this.samples += block.length; this.clipped += clipped;
    this.blockPeak = peak; this.blockClipped = clipped > 0;
    if (peak > this.peak) this.peak = peak;
  }

  get seconds() { return this.samples / this.rate; }

  // numpy.percentile's default (linear) on sorted values
  static percentile(sorted, p) {
    const h = (sorted.length - 1) * p / 100, lo = Math.floor(h), hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }

  // What voice.measure() would say of the audio so far.
  measures() {
    const c = this.checks;
    let levels = this.levels;
    if (!levels.length) {  // shorter than a frame: one level for all of it
      levels = [this.db(this.frameFill ? Math.sqrt(this.frameSum / this.frameFill) : 0)];
    }
    const sorted = Float64Array.from(levels).sort();
    const loudFrames = LiveClipCheck.percentile(sorted, c.loud_percentile);
    const threshold = Math.max(Math.min(loudFrames - c.silence_under_loud_db, c.silence_ceiling_dbfs),
      c.silence_floor_dbfs);
    let power = 0, speech = 0;
    for (const l of levels) if (l >= threshold) { power += 10 ** (l / 10); speech++; }
    const loud = speech ? this.db(Math.sqrt(power / speech)) : -100;
    const noise = LiveClipCheck.percentile(sorted, c.noise_percentile);
    return {
      seconds: this.seconds,
      rate: this.rate,
      peak_dbfs: this.db(this.peak),
      clipped_fraction: this.samples ? this.clipped / this.samples : 0,
      loudness_dbfs: loud,
      snr_db: Math.min(c.max_snr_db, loud - noise),
      silence_ratio: (levels.length - speech) / levels.length,
    };
  }

  // What voice.judge() would say if the recording stopped now: [{check, ok, text}].
  verdict(m = this.measures()) {
    const c = this.checks, out = [];
    const add = (check, ok, text) => out.push({ check, ok, text });
    const secs = m.seconds.toFixed(1);
    if (m.seconds < c.min_seconds) add("length", false, `${secs} s: read on (at least ${c.min_seconds} s)`);
    else if (m.seconds > c.max_seconds) add("length", false, `too long: ${secs} s (at most ${c.max_seconds} s)`);
    else add("length", true, `length ${secs} s`);
    if (m.rate < c.min_rate) add("rate", false, `the microphone gives ${m.rate} Hz (at least ${c.min_rate} Hz)`);
    if (m.clipped_fraction > c.max_clipped_fraction) {
      add("clipping", false, `too loud: ${(100 * m.clipped_fraction).toFixed(2)}% of samples clipped`);
    } else add("clipping", true, "not clipped");
    if (m.loudness_dbfs < c.min_loudness_dbfs) {
      add("loudness", false, `too quiet: ${m.loudness_dbfs.toFixed(0)} dBFS (at least ${c.min_loudness_dbfs})`);
    } else add("loudness", true, `loudness ${m.loudness_dbfs.toFixed(0)} dBFS`);
    if (m.snr_db < c.min_snr_db) add("snr", false, `noisy: SNR ${m.snr_db.toFixed(0)} dB (at least ${c.min_snr_db})`);
    else add("snr", true, `SNR ${m.snr_db.toFixed(0)} dB`);
    if (m.silence_ratio > c.max_silence_ratio) {
      add("silence", false, `mostly silence: ${Math.round(100 * m.silence_ratio)}% (at most ${Math.round(100 * c.max_silence_ratio)}%)`);
    } else add("silence", true, `silence ${Math.round(100 * m.silence_ratio)}%`);
    return out;
  }
}
window.LiveClipCheck = LiveClipCheck;
