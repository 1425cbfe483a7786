// The admin page: persona store, uploads, voice clips, chat test, pairing and tokens.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  let csrf = "", guidance = null, promptIndex = 0;
  const admin = window.familiarAdmin = { uploads: [], voice: [], chat: [] };

  // Requests in flight (`pending`), so that a test can wait for a quiet page: a request that
  // ends in 401 sends the page to /login, which would race a navigation of its own.
  // `read` takes the body while the request still counts as in flight.
  admin.pending = 0;
  async function api(path, options = {}, read = (response) => response) {
    admin.pending++;
    try {
      const headers = Object.assign({ "X-CSRF-Token": csrf }, options.headers || {});
      const response = await fetch(path, Object.assign({}, options, { headers }));
      if (response.status === 401) { location.href = "/login"; throw new Error("log in"); }
      if (!response.ok) {
        let message = response.statusText;
        try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
        throw new Error(message);
      }
      return await read(response);
    } finally { admin.pending--; }
  }
  const json = (path, options) => api(path, options, (response) => response.json());

  // --- the store ---------------------------------------------------------------------------
  async function refresh() {
    let p;
    try { p = await json("/api/persona"); } catch (err) {
      $("store-summary").textContent = err.message; return;
    }
    $("persona-name").textContent = "· " + p.name;
    const share = Math.round(p.own_share * 100);
    $("store-summary").textContent = `${p.files.length} files, ${p.chunks} chunks, ${share}% their own writing`;
    $("store-summary").dataset.chunks = p.chunks;
    const style = $("style"); style.replaceChildren();
    if (p.style) {
      const s = p.style, dl = el("dl", { class: "style" });
      const add = (k, v) => { if (v && v.length !== 0) dl.append(el("dt", {}, k), el("dd", {}, v)); };
      add("Greetings", s.greetings.join(", ")); add("Sign-offs", s.sign_offs.join(", "));
      add("Sentences", `${s.mean_sentence_words} words on average`); add("Tone", s.formality);
      add("Languages", s.languages.join(", ")); add("Mixed words", s.mixed_words.join(", "));
      add("Phrases", s.phrases.slice(0, 6).join("; "));
      if (s.examples.length) add("For example", "“" + s.examples[0] + "”");
      style.append(el("p", { class: "muted" }, `Style learned from ${s.evidence_texts} of their own texts:`), dl);
    } else style.append(el("p", { class: "muted" }, "No style learned yet: add mail they wrote."));
    const body = $("files-table").tBodies[0]; body.replaceChildren();
    for (const f of p.files) {
      body.append(el("tr", {}, el("td", { title: f.path }, f.name), el("td", {}, f.kind),
        el("td", { class: "num" }, f.chunks),
        el("td", { class: "num" }, el("button", { class: "danger", onclick: () => forget(f) }, "Forget"))));
    }
    if (!p.files.length) body.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "Nothing yet.")));
    guidance = p.voice.guidance;
    $("voice-guidance").textContent = `Read the text aloud in a quiet room, ${guidance.min_seconds}–` +
      `${guidance.max_seconds} s per clip; about ${guidance.recommended_total_seconds} s in all.`;
    showPrompt();
    const r = p.voice.readiness;
    $("readiness").textContent = `Voice readiness ${r.score}/100 (${r.clips} clips, ${r.seconds} s)` + (r.notes.length ? ": " + r.notes.join("; ") + "." : ".");
    const clips = $("clips").tBodies[0]; clips.replaceChildren();
    for (const c of p.voice.clips) {
      const audio = el("audio", { controls: "", preload: "none", src: `/api/persona/voice/${c.id}/audio` });
      clips.append(el("tr", {}, el("td", {}, c.name, el("br"), audio), el("td", { class: "num" }, c.seconds + " s"),
        el("td", { class: "num" }, Math.round(c.score * 100)),
        el("td", { class: "num" }, el("button", { class: "danger", onclick: () => removeClip(c) }, "Delete"))));
    }
    if (!p.voice.clips.length) clips.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No clips yet.")));
  }
  async function forget(f) {
    if (!confirm(`Forget ${f.name} completely?`)) return;
    await api("/api/persona/documents?path=" + encodeURIComponent(f.path), { method: "DELETE" });
    refresh();
  }
  async function removeClip(c) {
    if (!confirm(`Delete the clip ${c.name}?`)) return;
    await api(`/api/persona/voice/${c.id}`, { method: "DELETE" });
    refresh();
  }

  // --- uploads: upload progress, then one line per file as it is ingested -------------------
  function upload(files) {
    if (!files.length) return;
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    const xhr = new XMLHttpRequest();
    const bar = $("upload-bar"), label = $("upload-label"), rows = $("upload-results").tBodies[0];
    $("upload-progress").hidden = false; $("upload-results").hidden = false; rows.replaceChildren();
    $("upload-summary").textContent = "";
    bar.max = 100; bar.value = 0; label.textContent = `Uploading ${files.length} file(s)…`;
    let seen = 0;
    const consume = () => {
      const lines = xhr.responseText.split("\n");
      for (; seen < lines.length - 1; seen++) {
        const m = JSON.parse(lines[seen]); admin.uploads.push(m);
        if (m.type === "file") {
          bar.max = m.total; bar.value = m.done; label.textContent = `Reading ${m.done} of ${m.total}…`;
          const ok = m.status !== "skipped";
          rows.append(el("tr", {}, el("td", {}, m.name),
            el("td", {}, el("span", { class: "pill " + (ok ? "ok" : "bad") }, m.status), " ", m.reason || ""),
            el("td", { class: "num" }, ok ? `+${m.added}` : "")));
        } else if (m.type === "part") {
          bar.max = m.total; bar.value = m.done + m.fraction;
          label.textContent = `Reading ${m.name}: ${Math.round(100 * m.fraction)} % (${m.chunks} chunks)…`;
        } else if (m.type === "done") {
          label.textContent = "Done.";
          $("upload-summary").textContent = `${m.added} new chunks; the store now holds ${m.chunks}.`;
          refresh();
        } else if (m.type === "error") $("upload-summary").textContent = m.message;
      }
    };
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) { bar.value = (100 * e.loaded) / e.total; } };
    xhr.upload.onload = () => { label.textContent = "Reading the files…"; bar.removeAttribute("value"); };
    xhr.onprogress = consume;
    xhr.onload = () => {
      if (xhr.status !== 200) {
        let message = xhr.statusText;
        try { message = JSON.parse(xhr.responseText).error.message; } catch (e) { /* */ }
        $("upload-summary").textContent = message; label.textContent = "Failed."; return;
      }
      consume();
    };
    xhr.open("POST", "/api/persona/documents");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.send(form);
  }
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); upload([...e.dataTransfer.files]); });
  $("files").addEventListener("change", (e) => { upload([...e.target.files]); e.target.value = ""; });

  // --- voice clips: record in the browser, live level, WAV upload, scores ---------------------
  let recording = null;
  function showPrompt() { if (guidance) $("voice-prompt").textContent = guidance.prompts[promptIndex % guidance.prompts.length]; }
  $("next-prompt").addEventListener("click", () => { promptIndex++; showPrompt(); });
  $("record").addEventListener("click", async () => {
    if (recording) { stopRecording(); return; }
    const ctx = new AudioContext();
    const stream = await navigator.mediaDevices.getUserMedia({ audio: {
      channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    await ctx.audioWorklet.addModule("/static/mic-worklet.js");
    const node = new AudioWorkletNode(ctx, "mic-capture");
    // Live: the level, clipping, loudness, SNR, silence and length as the hub will judge them.
    const check = new LiveClipCheck(guidance.checks, ctx.sampleRate), blocks = [];
    admin.checks = guidance.checks; admin.live = { updates: 0, measures: null, verdict: [] };
    $("voice-result").replaceChildren(); $("live-checks").hidden = false;
    node.port.onmessage = (e) => {
      blocks.push(e.data); check.feed(e.data);
      showLive(check, blocks.length % 4 === 1);
      if (check.seconds >= guidance.max_seconds) stopRecording();
    };
    ctx.createMediaStreamSource(stream).connect(node);
    recording = { ctx, stream, blocks, check };
    $("record").textContent = "Stop";
  });
  // The meter on every block (about 27 ms); the checks a few times a second.
  function showLive(check, judge) {
    const level = check.db(check.blockPeak);  // dBFS: -60 .. 0 fills the bar
    $("level").style.width = Math.max(0, Math.min(100, (level + 60) * 100 / 60)) + "%";
    $("level").style.background = check.blockClipped ? "var(--warn)" : "var(--ok)";
    const g = guidance, secs = check.seconds;
    $("record-time").textContent = `${secs.toFixed(1)} s of ${g.min_seconds}–${g.max_seconds} s`;
    $("record-time").className = secs < g.min_seconds ? "muted" : "ok";
    if (!judge) return;
    const m = check.measures(), verdict = check.verdict(m);
    admin.live.updates++; admin.live.measures = m; admin.live.verdict = verdict; admin.live.level = level;
    $("live-checks").replaceChildren(...verdict.map((v) =>
      el("li", { class: "pill " + (v.ok ? "ok" : "bad"), "data-check": v.check }, (v.ok ? "✓ " : "✗ ") + v.text)));
  }
  async function stopRecording() {
    if (!recording) return;  // blocks still queued after the stop
    const { ctx, stream, blocks, check } = recording; recording = null;
    admin.live.final = check.measures();  // the whole clip, to compare with the hub's
    stream.getTracks().forEach((t) => t.stop()); const rate = ctx.sampleRate; await ctx.close();
    $("record").textContent = "Record"; $("level").style.width = "0"; $("live-checks").hidden = true;
    const wav = encodeWav(blocks, rate);
    const form = new FormData(); form.append("clip", new Blob([wav], { type: "audio/wav" }), "clip.wav");
    $("voice-result").textContent = "Checking the clip…";
    try {
      const r = await json("/api/persona/voice", { method: "POST", body: form });
      admin.voice.push(r);
      const m = r.measures;
      const facts = m ? `${m.seconds.toFixed(1)} s, loudness ${m.loudness_dbfs.toFixed(0)} dBFS, SNR ${m.snr_db.toFixed(0)} dB, ` +
        `silence ${Math.round(m.silence_ratio * 100)}%, clipped ${(m.clipped_fraction * 100).toFixed(2)}%` : "";
      $("voice-result").replaceChildren(
        el("p", {}, el("span", { class: "pill " + (r.passed ? "ok" : "bad") }, r.passed ? `kept · score ${Math.round(r.score * 100)}` : "not kept"), " ", facts),
        el("ul", { class: "plain" }, ...r.problems.map((p) => el("li", { class: "error" }, "✗ " + p)),
          ...r.notes.map((n) => el("li", { class: "muted" }, "• " + n))));
      refresh();
    } catch (err) { $("voice-result").textContent = err.message; }
  }
  function encodeWav(blocks, rate) {
    const n = blocks.reduce((a, b) => a + b.length, 0);
    const buffer = new ArrayBuffer(44 + n * 2), v = new DataView(buffer);
    const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
    str(0, "RIFF"); v.setUint32(4, 36 + n * 2, true); str(8, "WAVEfmt "); v.setUint32(16, 16, true);
    v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true);
    v.setUint16(32, 2, true); v.setUint16(34, 16, true); str(36, "data"); v.setUint32(40, n * 2, true);
    let o = 44;
    for (const b of blocks) for (const s of b) { const x = Math.max(-1, Math.min(1, s)); v.setInt16(o, x < 0 ? x * 0x8000 : x * 0x7fff, true); o += 2; }
    return buffer;
  }

  // --- chat test: typed or spoken; the answer streams in as text and speech -------------------
  let conversation = null, playCtx = null, playAt = 0, playing = [], current = null;
  admin.transcripts = []; admin.playedSeconds = 0; admin.talk = { seconds: 0, sent: 0 };
  admin.stopped = 0; admin.playing = () => playing.length;
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("chat-text").value.trim(); if (!text) return;
    $("chat-text").value = "";
    stopAnswer();
    const speech = wantSpeech();
    ask(el("div", { class: "bubble me" }, text), (signal) => api("/api/interact", { method: "POST",
      headers: { "Content-Type": "application/json" }, signal,
      body: JSON.stringify({ text, conversation_id: conversation, speech }) }));
  });
  // Made during the tap or key press that asks (browsers start audio only after a gesture).
  function wantSpeech() {
    const speech = $("chat-speech").checked;
    if (speech && !playCtx) playCtx = new AudioContext();
    return speech;
  }
  // A new question (typed, or Talk pressed) stops the answer still coming or playing.
  function stopAnswer() {
    if (!current && !playing.length) return;
    if (current) { current.abort(); current = null; }
    for (const src of playing) { try { src.stop(); } catch (e) { /* ended */ } }
    playing = []; playAt = 0; admin.stopped++;
  }
  // One question: `me` shows it (a spoken one gets its transcript), the answer streams in.
  async function ask(me, send) {
    const log = $("chat-log"), asking = current = new AbortController();
    const bubble = el("div", { class: "bubble it" }, "…"); log.append(me, bubble); log.scrollTop = log.scrollHeight;
    try { await answer(me, bubble, await send(asking.signal)); } catch (err) {
      if (asking.signal.aborted) bubble.append(el("span", { class: "muted" }, " (stopped)"));
      else { bubble.replaceChildren(el("span", { class: "error" }, err.message)); admin.chat.push("error"); }
    } finally { if (current === asking) current = null; }
  }
  async function answer(me, bubble, response) {
    const reader = response.body.getReader(), decoder = new TextDecoder(), log = $("chat-log");
    let buffered = "", said = "";
    for (;;) {
      const { value, done } = await reader.read(); if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffered.indexOf("\n")) >= 0) {
        const m = JSON.parse(buffered.slice(0, cut)); buffered = buffered.slice(cut + 1);
        admin.chat.push(m.type);
        if (m.type === "transcript") { admin.transcripts.push(m.text); me.textContent = m.text || "…"; }
        else if (m.type === "sentence") { said = (said + " " + m.text).trim(); bubble.textContent = said; }
        else if (m.type === "audio") playPcm(m);
        else if (m.type === "done") conversation = m.conversation_id;
        else if (m.type === "error") {
          if (!said) bubble.textContent = "";
          bubble.append(el("div", { class: "error" },
            m.code === "stt-no-text-recognized" ? "(didn't catch that: nothing was heard)" : m.message));
        }
      }
      log.scrollTop = log.scrollHeight;
    }
  }

  // Talking: tap, speak, tap again to send; or hold while speaking (push to talk). The
  // recording goes to /api/interact/speech: the same turn as a phone's, the same conversation
  // as the typed questions.
  const talkButton = $("chat-talk");
  let talking = null, pressedAt = 0, maxTalk = 15;
  // A press is timed by its events' own time stamps: starting the microphone blocks the page
  // for a moment, and a tap handled late must not count as held.
  talkButton.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    if (talking) { sendTalk(); return; }  // the second tap
    pressedAt = e.timeStamp;
    stopAnswer();  // talking over the answer stops it
    startTalk();
  });
  talkButton.addEventListener("pointerup", (e) => {
    if (talking && e.timeStamp - pressedAt >= 400) sendTalk();  // held: released
  });
  async function startTalk() {
    const t = talking = { blocks: [], seconds: 0, ready: false, send: false, speech: wantSpeech() };
    talkButton.classList.add("live"); talkButton.textContent = "Send"; admin.talk.seconds = 0;
    try {
      t.ctx = new AudioContext();
      // Echo cancellation (an answer may be playing), but no gain control or noise
      // suppression: with them Whisper heard "What was the boat tour you wanted us to book?"
      // from the fake microphone as "What was the boater you wanted us to boat?" in 2 of 8
      // runs of the real-hub test, without them in none of 8.
      t.stream = await navigator.mediaDevices.getUserMedia({ audio: {
        channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false } });
      await t.ctx.audioWorklet.addModule("/static/mic-worklet.js");
      const node = new AudioWorkletNode(t.ctx, "mic-capture");
      node.port.onmessage = (e) => {
        if (talking !== t) return;
        t.blocks.push(e.data); t.seconds += e.data.length / t.ctx.sampleRate; admin.talk.seconds = t.seconds;
        talkButton.textContent = `Send · ${t.seconds.toFixed(1)} s`;
        if (t.seconds >= maxTalk) sendTalk();
      };
      t.ctx.createMediaStreamSource(t.stream).connect(node);
    } catch (err) {
      talking = null; endTalk(t);
      $("chat-log").append(el("div", { class: "bubble it error" }, "The microphone is not available: " + err.message));
      return;
    }
    t.ready = true;
    if (t.send) sendTalk();  // released (or tapped again) while the microphone was starting
  }
  function endTalk(t) {
    if (t.stream) t.stream.getTracks().forEach((track) => track.stop());
    if (t.ctx) t.ctx.close();
    talkButton.classList.remove("live"); talkButton.textContent = "Talk";
  }
  function sendTalk() {
    const t = talking;
    if (!t.ready) { t.send = true; return; }
    talking = null; endTalk(t);
    admin.talk.sent++; admin.talk.sentSeconds = (admin.talk.sentSeconds || []).concat([t.seconds]);
    const form = new FormData();
    form.append("audio", new Blob([encodeWav(t.blocks, t.ctx.sampleRate)], { type: "audio/wav" }), "talk.wav");
    form.append("speech", t.speech ? "true" : "false");
    if (conversation) form.append("conversation_id", conversation);
    ask(el("div", { class: "bubble me spoken", title: "spoken" }, `(${t.seconds.toFixed(1)} s)…`),
      (signal) => api("/api/interact/speech", { method: "POST", body: form, signal }));
  }
  function playPcm(m) {
    const bytes = Uint8Array.from(atob(m.pcm), (c) => c.charCodeAt(0));
    const pcm = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
    const buf = playCtx.createBuffer(1, pcm.length, m.rate), data = buf.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 0x8000;
    const src = playCtx.createBufferSource(); src.buffer = buf; src.connect(playCtx.destination);
    admin.playedSeconds += buf.duration;
    playAt = Math.max(playAt, playCtx.currentTime + 0.05); src.start(playAt); playAt += buf.duration;
    playing.push(src);
    src.onended = () => { playing = playing.filter((p) => p !== src); };
  }

  // --- pairing, tokens, hub info ---------------------------------------------------------------
  async function tokens() {
    const list = await json("/api/tokens"), body = $("token-table").tBodies[0]; body.replaceChildren();
    for (const t of list) {
      body.append(el("tr", {}, el("td", {}, t.name), el("td", {}, t.kind), el("td", {}, t.created.slice(0, 10)),
        el("td", { class: "num" }, el("button", { class: "danger", onclick: async () => {
          await api(`/api/tokens/${t.id}`, { method: "DELETE" }); tokens(); } }, "Revoke"))));
    }
    const info = await json("/api/admin/info");
    $("fingerprint").textContent = info.fingerprint || "(served without TLS: behind a proxy?)";
    if (info.voice) {  // this hub hears speech: the chat test can be spoken
      maxTalk = info.max_request_seconds; talkButton.hidden = false; $("talk-hint").hidden = false;
    }
    $("connected").textContent = info.phones.length ? "Connected now: " + info.phones.join(", ") : "No phone connected.";
  }
  $("pair").addEventListener("click", async () => {
    const r = await json("/api/tokens", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "phone", name: $("phone-name").value || "phone" }) });
    const qr = $("qr"); qr.innerHTML = r.qr_svg;
    qr.append(el("p", { class: "mono" }, el("a", { href: r.url, id: "pair-link" }, r.url)));
    tokens();
  });
  $("new-api").addEventListener("click", async () => {
    const r = await json("/api/tokens", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "api", name: $("api-name").value || "api" }) });
    $("new-token").textContent = "New token (shown once): " + r.token;
    tokens();
  });
  $("logout").addEventListener("click", async () => { await api("/api/logout", { method: "POST" }); location.href = "/login"; });

  (async () => {
    csrf = (await json("/api/session")).csrf;
    await Promise.all([refresh(), tokens()]);
    document.body.dataset.ready = "1";
  })();
})();
