// The phone satellite: microphone to the hub over a WebSocket, the answer played as it arrives.
// The wake word runs in this page (wake-worker.js) where the hub serves its runtime: then the
// page sends audio only after it heard one (with a short pre-roll) and while the hub listens.
// Otherwise the page streams all the time and the hub runs the wake word. VAD is on the hub.
// (docs/web.md, "Where the wake word runs")
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const talk = $("talk"), stateEl = $("state"), hint = $("hint");
  const HINT_IDLE = "Say “Hey Jarvis”, or tap and talk. Hold to push-to-talk.";
  const PREROLL_BLOCKS = 2;  // 160 ms before the block that completed the wake word
  // What the page did, for tests and for curious people (window.familiar).
  const stats = window.familiar = { states: [], wakes: [], transcript: "", answer: "",
    playedSamples: 0, playedSeconds: 0, answers: 0, connects: 0, rate: 0,
    wakeWhere: "", wakeReason: "", localWakes: [], sentBytes: 0, sentBytesBeforeWake: null,
    stopped: 0, commands: [] };
  let answerPcm = [];  // the last answer's audio, as played (one answer at most)
  stats.answerAudio = () => {
    const n = answerPcm.reduce((a, b) => a + b.length, 0), all = new Int16Array(n);
    let o = 0; for (const b of answerPcm) { all.set(b, o); o += b.length; }
    let s = ""; const bytes = new Uint8Array(all.buffer);
    for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return btoa(s);
  };

  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("pair")) {
    localStorage.setItem("familiar-token", hash.get("pair"));
    history.replaceState(null, "", location.pathname);
  }
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});

  let ctx = null, ws = null, state = "disconnected", started = false, unpaired = false;
  let outRate = 22050, nextTime = 0, sources = [], retry = 0, pressedAt = null;
  let playedTimer = null;  // says "played" when the answer's last audio has played
  // The page's wake word: the worker, the recent blocks (pre-roll), whether audio flows.
  let wake = null, seq = 0, recent = [], streaming = false, awaitingListen = false;

  function setState(s) {
    state = s; stats.states.push(s);
    talk.dataset.state = s; stateEl.textContent = s;
    stateEl.className = "state pill" + (["disconnected", "reconnecting", "not paired"].includes(s) ? " bad" : "");
    talk.textContent = !started ? "Start" : ({ idle: "Talk", listening: "Listening…",
      thinking: "Thinking…", speaking: "Stop", disconnected: "Offline", reconnecting: "…",
      "not paired": "Retry" })[s] || s;
  }
  function showError(text) { $("error").textContent = text || ""; }

  async function start() {
    started = true;
    ctx = new (window.AudioContext || window.webkitAudioContext)({ sampleRate: 16000 });
    await ctx.resume();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: {
        channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    } catch (err) {
      showError("The microphone is not available: " + err.message +
        (window.isSecureContext ? "" : " (open this page over https)"));
      started = false; setState("disconnected"); return;
    }
    let source;
    try {
      source = ctx.createMediaStreamSource(stream);
    } catch (err) {
      // Firefox cannot connect a microphone to a context at another rate than its own: take
      // the microphone's rate (the hub and the wake word worker resample whatever they get).
      await ctx.close();
      ctx = new (window.AudioContext || window.webkitAudioContext)();
      await ctx.resume();
      source = ctx.createMediaStreamSource(stream);
    }
    await ctx.audioWorklet.addModule("/static/mic-worklet.js");
    const mic = new AudioWorkletNode(ctx, "mic-capture");
    mic.port.onmessage = (e) => onBlock(e.data);
    source.connect(mic);
    hint.textContent = "Loading the wake word…";
    wake = await loadWake();
    hint.textContent = HINT_IDLE;
    connect();
  }

  // The wake word in this page, or null (the hub runs it): says which, and why.
  async function loadWake() {
    let reason = "";
    try {
      const config = await (await fetch("/wakeword/config.json")).json();
      if (config.available) {
        const worker = new Worker("/static/wake-worker.js");
        const loaded = await new Promise((resolve) => {
          worker.onmessage = (e) => resolve(e.data);
          worker.onerror = (e) => resolve({ type: "failed", reason: e.message || "worker error" });
          worker.postMessage({ type: "load", config, rate: ctx.sampleRate });
        });
        if (loaded.type === "loaded") {
          worker.onmessage = (e) => onWorker(e.data);
          stats.wakeWhere = "page";
          $("wake-where").textContent = "Wake word: heard on this phone.";
          return worker;
        }
        worker.terminate();
        reason = loaded.reason;
      } else reason = config.reason;
    } catch (err) { reason = String(err.message || err); }
    stats.wakeWhere = "hub"; stats.wakeReason = reason;
    $("wake-where").textContent = "Wake word: heard by the hub (this phone sends its microphone " +
      "all the time): " + reason;
    return null;
  }

  function onWorker(m) {
    if (m.type === "wake") {
      stats.localWakes.push(m.name);
      if (!ws || !ws.ready || (streaming && state === "listening")) return;  // already listening
      if (state === "speaking") stopAudio();  // barge-in: the hub stops the answer too
      ws.send(JSON.stringify({ type: "wake", name: m.name }));
      if (stats.sentBytesBeforeWake === null) stats.sentBytesBeforeWake = stats.sentBytes;
      streaming = true; awaitingListen = true;
      for (const block of recent.filter((b) => b.seq > m.seq - PREROLL_BLOCKS)) sendPcm(block.pcm);
    } else if (m.type === "failed") {
      // Hand the wake word to the hub: reconnect asking for it (onclose reconnects).
      wake.terminate(); wake = null; streaming = awaitingListen = false;
      stats.wakeWhere = "hub"; stats.wakeReason = m.reason;
      $("wake-where").textContent = "Wake word: heard by the hub (it stopped working on this " +
        "phone: " + m.reason + ")";
      if (ws) ws.close();
    }
  }

  function onBlock(samples) {
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const v = Math.max(-1, Math.min(1, samples[i]));
      pcm[i] = v < 0 ? v * 0x8000 : v * 0x7fff;
    }
    const block = { seq: ++seq, pcm };
    if (wake) {
      recent.push(block);
      if (recent.length > 16) recent.shift();
      wake.postMessage({ type: "audio", seq: block.seq, pcm });
    }
    if (!wake || streaming) sendPcm(pcm);
  }

  function sendPcm(pcm) {
    if (!ws || ws.readyState !== WebSocket.OPEN || !ws.ready) return;
    ws.send(pcm.buffer);
    stats.sentBytes += pcm.byteLength;
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/phone";
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello",
      token: localStorage.getItem("familiar-token") || "", rate: ctx.sampleRate,
      wake: wake ? "page" : "hub" }));
    ws.onmessage = (e) => (typeof e.data === "string" ? onMessage(JSON.parse(e.data)) : play(e.data));
    ws.onclose = () => {
      ws = null; stopAudio(); streaming = awaitingListen = false;
      if (!unpaired) {
        setState("reconnecting");
        const delay = Math.min(5000, 300 * 2 ** retry++) * (0.8 + Math.random() * 0.4);
        setTimeout(connect, delay);
      }
    };
  }

  function onMessage(m) {
    switch (m.type) {
      case "ready": ws.ready = true; retry = 0; stats.connects++; showError(""); break;
      case "state":
        // The page's wake word: audio flows while the hub listens (after a wake word, a tap,
        // or a follow-up question), from the wake word or tap until the hub says so.
        if (m.state === "listening") { streaming = true; awaitingListen = false; }
        else if (!awaitingListen) streaming = false;
        setState(m.state); break;
      case "wake": stats.wakes.push(m.name); break;
      case "transcript": stats.transcript = m.text; $("transcript").textContent = m.text || "…";
        stats.answer = ""; $("answer").textContent = "…"; break;
      case "sentence": stats.answer = (stats.answer + " " + m.text).trim();
        $("answer").textContent = stats.answer; break;
      case "audio-start": outRate = stats.rate = m.rate; nextTime = 0; answerPcm = []; break;
      case "audio-stop": {
        const left = Math.max(0, nextTime - ctx.currentTime);
        playedTimer = setTimeout(() => {
          playedTimer = null; stats.answers++;
          if (ws) ws.send(JSON.stringify({ type: "played" }));
        }, left * 1000 + 50);
        break;
      }
      case "stop-audio": stopAudio(); break;
      case "error":
        if (m.code === "unauthorized") {
          unpaired = true; setState("not paired");
          hint.textContent = "Pair this phone first.";
          showError("This phone is not paired: scan the QR code on the hub's admin page.");
        } else if (m.code === "stt-no-text-recognized") {
          $("transcript").textContent = "(didn't catch that)";
        } else showError(m.text || m.code);
        break;
    }
  }

  function play(buffer) {
    const pcm = new Int16Array(buffer);
    if (!pcm.length) return;
    const audio = ctx.createBuffer(1, pcm.length, outRate);
    const data = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 0x8000;
    const src = ctx.createBufferSource();
    src.buffer = audio; src.connect(ctx.destination);
    nextTime = Math.max(nextTime, ctx.currentTime + 0.03);
    src.start(nextTime); nextTime += audio.duration;
    stats.playedSamples += pcm.length; stats.playedSeconds += audio.duration; answerPcm.push(pcm);
    sources.push(src);
    src.onended = () => { sources = sources.filter((s) => s !== src); };
  }
  function stopAudio() {
    for (const s of sources) { try { s.stop(); } catch (e) { /* ended */ } }
    sources = []; nextTime = 0;
    // A stopped answer was not played to its end: no "played" for it later (it would end
    // the next answer early).
    if (playedTimer !== null) { clearTimeout(playedTimer); playedTimer = null; stats.stopped++; }
  }

  function command(type) {
    if (ws && ws.ready) { ws.send(JSON.stringify({ type })); stats.commands.push(type); }
  }

  talk.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    if (!started) { start(); return; }
    if (unpaired) { location.reload(); return; }
    if (!ws || !ws.ready) return;
    if (state === "speaking") { stopAudio(); command("stop"); streaming = awaitingListen = false; return; }
    if (state !== "listening") { command("listen"); streaming = true; awaitingListen = true; }
    pressedAt = e.timeStamp;
  });
  // A press held 400 ms or more is push-to-talk: its release ends the request. Timed by the
  // events' own time stamps, so a tap whose release is handled late (a busy page) is still a tap.
  talk.addEventListener("pointerup", (e) => {
    if (pressedAt !== null && e.timeStamp - pressedAt >= 400) command("end");
    pressedAt = null;
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && ctx) ctx.resume();
  });
  setState("disconnected");
})();
