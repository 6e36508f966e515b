// The agent console of remote help: queue, accept, WebRTC answerer, form fields over the data
// channel, chat and remote acceptance over the signalling socket (docs/remote-help.md).
"use strict";
const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const token = query.get("token") || "";
// ?autoaccept=1: accept the first waiting call at once (bench/assist, the demo)
const autoAccept = query.get("autoaccept") === "1";
const stats = { cameraFrames: 0, screenFrames: 0, audioPackets: 0, state: "idle", fields: {},
                thumbs: 0, chat: [], ended: null, fieldResults: [], connection: "new", errors: [] };
window.assistStats = () => JSON.parse(JSON.stringify(stats));
let ws = null, pc = null, dc = null, callId = null, localStream = null, videoTracks = 0;

function setState(s) { stats.state = s; $("state").textContent = s; }
function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }
function logChat(who, text) {
  stats.chat.push({ who, text });
  const p = document.createElement("div"); p.textContent = who + ": " + text; $("chat-log").appendChild(p);
}
function enableCall(on) {
  for (const id of ["end", "ra-accept", "ra-manual", "chat-send"]) $(id).disabled = !on;
}

function renderQueue(waiting) {
  const body = $("queue"); body.textContent = "";
  for (const c of waiting) {
    const tr = document.createElement("tr");
    for (const v of [c.terminal_id, c.item_id || "-", Math.round(c.waited_s) + " s"]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    const td = document.createElement("td"); const b = document.createElement("button");
    b.textContent = "接听 Accept"; b.id = "accept-" + c.call_id; b.disabled = callId !== null;
    b.onclick = () => send({ type: "accept", call_id: c.call_id });
    td.appendChild(b); tr.appendChild(td); body.appendChild(tr);
  }
  stats.waiting = waiting;
  if (autoAccept && callId === null && waiting.length && !stats.accepting) {
    stats.accepting = true;
    send({ type: "accept", call_id: waiting[0].call_id });
  }
}

let generation = 0;  // one per call: a frame counter of an ended call stops
function renderCallbacks(callbacks) {
  const body = $("callbacks"); body.textContent = "";
  for (const c of callbacks) {
    const tr = document.createElement("tr");
    for (const v of [c.terminal_id, c.item_id || "-", new Date(c.created * 1000).toLocaleTimeString()]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  stats.callbacks = callbacks;
}

function countFrames(video, key) {
  const mine = generation;
  const tick = () => { if (mine !== generation) return; stats[key] += 1; video.requestVideoFrameCallback(tick); };
  video.requestVideoFrameCallback(tick);
}

async function startPeer(msg) {
  pc = new RTCPeerConnection({ iceServers: msg.ice_servers || [],
                               iceTransportPolicy: msg.ice_transport_policy || "all" });
  pc.onconnectionstatechange = () => {
    stats.connection = pc.connectionState;
    if (pc.connectionState === "failed" || pc.connectionState === "disconnected") setState("connection lost");
  };
  pc.ontrack = (ev) => {
    if (ev.track.kind === "audio") { $("remote-audio").srcObject = new MediaStream([ev.track]); return; }
    videoTracks += 1;
    const el = videoTracks === 1 ? $("remote-video") : $("screen-video");
    el.srcObject = new MediaStream([ev.track]);
    countFrames(el, videoTracks === 1 ? "cameraFrames" : "screenFrames");
  };
  pc.ondatachannel = (ev) => { dc = ev.channel; dc.onmessage = (m) => onData(JSON.parse(m.data)); };
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  } catch (err) { stats.errors.push("getUserMedia: " + err); localStream = null; }
}

async function onOffer(msg) {
  // the offer first: the console's camera and microphone then take the offer's first video and
  // audio m-lines (the citizen's camera and microphone), sent both ways
  await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
  if (localStream) {
    for (const t of localStream.getTracks()) pc.addTrack(t, localStream);
  }
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  if (pc.iceGatheringState !== "complete") {
    await new Promise((ok) => {
      const done = () => { if (pc.iceGatheringState === "complete") ok(); };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(ok, 5000);
    });
  }
  send({ type: "answer", sdp: pc.localDescription.sdp });
  setState("in call");
  setInterval(pollAudio, 500);
}

async function pollAudio() {
  if (!pc) return;
  const report = await pc.getStats();
  let pair = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") stats.audioPackets = s.packetsReceived;
    if (s.type === "candidate-pair" && s.state === "succeeded" && (s.nominated || !pair)) pair = s;
  });
  if (pair && report.get(pair.localCandidateId)) {
    stats.localCandidateType = report.get(pair.localCandidateId).candidateType;
    stats.remoteCandidateType = report.get(pair.remoteCandidateId).candidateType;
  }
}

function onData(msg) {
  if (msg.type === "form") {
    const box = $("fields"); box.textContent = "";
    for (const f of msg.fields) {
      stats.fields[f.key] = f.value;
      const row = document.createElement("div"); row.className = "field";
      const label = document.createElement("label"); label.textContent = f.label || f.key;
      const input = document.createElement("input"); input.id = "field-" + f.key; input.value = f.value || "";
      const b = document.createElement("button"); b.textContent = "改"; b.id = "send-" + f.key;
      b.onclick = () => dc.send(JSON.stringify({ type: "field_edit", key: f.key, value: input.value }));
      row.append(label, input, b); box.appendChild(row);
    }
  } else if (msg.type === "materials") {
    const box = $("thumbs"); box.textContent = "";
    for (const p of msg.pages) {
      const img = document.createElement("img"); img.src = "data:image/jpeg;base64," + p.jpeg_b64;
      img.title = p.name; box.appendChild(img);
    }
    stats.thumbs = msg.pages.length;
  } else if (msg.type === "audio_only") {
    stats.audioOnly = msg.on;
    setState(msg.on ? "in call (voice only: poor network)" : "in call");
  } else if (msg.type === "field_result") {
    stats.fieldResults.push(msg);
    $("field-result").textContent = msg.key + ": " + (msg.accepted ? "群众已确认 confirmed" : "群众未同意 declined");
  }
}

function endCall(reason) {
  stats.ended = reason; setState("ended: " + reason); enableCall(false);
  if (pc) pc.close();
  pc = null; dc = null; callId = null; videoTracks = 0; stats.accepting = false; generation += 1;
  stats.cameraFrames = 0; stats.screenFrames = 0;
}

function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
                     "/assist/agent/ws?token=" + encodeURIComponent(token));
  // one message at a time: the offer must wait for the camera opened on acceptance
  let chain = Promise.resolve();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    chain = chain.then(() => onMessage(msg)).catch((err) => stats.errors.push(String(err)));
  };
  ws.onclose = () => setState("signalling closed");
}

async function onMessage(msg) {
  {
    if (msg.type === "hello") $("agent").textContent = msg.agent.name;
    else if (msg.type === "calls") { renderQueue(msg.waiting); renderCallbacks(msg.callbacks || []); }
    else if (msg.type === "accepted") {
      callId = msg.call_id; stats.accepting = false; setState("connecting"); enableCall(true);
      $("call-info").textContent = msg.terminal_id + " · " + (msg.item_id || "");
      await startPeer(msg);
    } else if (msg.type === "offer") await onOffer(msg);
    else if (msg.type === "ice" && pc && msg.candidate) await pc.addIceCandidate(msg.candidate);
    else if (msg.type === "chat") logChat("群众", msg.text);
    else if (msg.type === "ended") endCall(msg.reason);
    else if (msg.type === "error") stats.errors.push(msg.detail);
  }
}

// a click on the kiosk screen points there on the citizen's screen (fractions of the picture)
$("screen-video").addEventListener("click", (ev) => {
  const v = $("screen-video");
  if (!dc || dc.readyState !== "open" || !v.videoWidth) return;
  const box = v.getBoundingClientRect();
  const scale = Math.min(box.width / v.videoWidth, box.height / v.videoHeight);
  const w = v.videoWidth * scale, h = v.videoHeight * scale;
  const x = (ev.clientX - box.left - (box.width - w) / 2) / w;
  const y = (ev.clientY - box.top - (box.height - h) / 2) / h;
  if (x < 0 || x > 1 || y < 0 || y > 1) return;
  dc.send(JSON.stringify({ type: "pointer", x, y }));
  stats.pointers = (stats.pointers || 0) + 1;
});
$("end").onclick = () => send({ type: "end", reason: "hang_up" });
$("chat-send").onclick = () => {
  const text = $("chat-text").value; if (!text) return;
  send({ type: "chat", text }); logChat("坐席", text); $("chat-text").value = "";
};
$("ra-accept").onclick = () => { send({ type: "remote_acceptance", decision: "accept" }); $("ra-result").textContent = "受理"; };
$("ra-manual").onclick = () => { send({ type: "remote_acceptance", decision: "manual_review" }); $("ra-result").textContent = "转人工"; };
connect();
