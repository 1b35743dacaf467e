// Verifies a batch's trace steps in the browser, against the public transparency log.
//
// 1. Open the latest checkpoint (a C2SP signed note): one signature line must be by a
//    key published in the page (#log data-keys), checked with WebCrypto Ed25519 over the
//    note text; its key id must be SHA-256(name || 0x0A || 0x01 || public key)[0:4].
// 2. For each step with a leaf index: fetch its entry (the leaf bytes) and its RFC 9162
//    inclusion proof for the checkpoint's tree size; hash the leaf (SHA-256(0x00 || d)),
//    fold the proof (SHA-256(0x01 || left || right)) and compare with the signed root.
// 3. Compare the entry (kind "trace", id, tenant, ts, body) with what the page shows.
// Only then is the step marked verified; otherwise failed, with the reason.
// No external script, no dependency: this file is the whole verifier.
(function () {
  "use strict";

  var enc = new TextEncoder();
  var msgs = JSON.parse(document.getElementById("messages").textContent);
  var log = document.getElementById("log");

  function Fail(code, detail) {
    this.code = code;
    this.detail = detail || "";
  }

  function b64decode(s) {
    var bin;
    try {
      bin = atob(s);
    } catch (e) {
      throw new Fail("proof_malformed", "base64");
    }
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function concat(parts) {
    var n = 0;
    parts.forEach(function (p) { n += p.length; });
    var out = new Uint8Array(n);
    var o = 0;
    parts.forEach(function (p) { out.set(p, o); o += p.length; });
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  async function sha256(parts) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(parts)));
  }

  var LEAF = new Uint8Array([0]);
  var NODE = new Uint8Array([1]);

  async function getJSON(url) {
    var r = await fetch(url, { cache: "no-store" });
    if (!r.ok) throw new Fail("fetch_failed", url + ": " + r.status);
    return r.json();
  }

  // A verifier key: <name>+<8 hex key id>+<base64(0x01 || 32-byte Ed25519 public key)>.
  async function parseKey(vkey) {
    // The name holds no "+", the key id is 8 hex digits; base64 may hold "+".
    var m = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
    if (!m) throw new Fail("bad_key", vkey);
    var name = m[1], id = m[2], raw = b64decode(m[3]);
    if (raw.length !== 33 || raw[0] !== 1) throw new Fail("bad_key", name);
    var digest = await sha256([enc.encode(name), new Uint8Array([0x0a]), raw]);
    if (hex(digest.slice(0, 4)) !== id) throw new Fail("bad_key", name + ": key id");
    var key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, [
      "verify",
    ]);
    return { name: name, id: id, key: key };
  }

  async function openCheckpoint(note, verifiers, origin) {
    var split = note.lastIndexOf("\n\n");
    if (split < 0 || note[note.length - 1] !== "\n") throw new Fail("checkpoint_malformed");
    var text = note.slice(0, split + 1);
    var lines = note.slice(split + 2, -1).split("\n");
    var signer = null;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (line.indexOf("\u2014 ") !== 0) throw new Fail("checkpoint_malformed", line);
      var rest = line.slice(2);
      var sp = rest.lastIndexOf(" ");
      var name = rest.slice(0, sp);
      var blob = b64decode(rest.slice(sp + 1));
      if (blob.length !== 68) continue; // not an Ed25519 signature: not ours to judge
      var id = hex(blob.slice(0, 4));
      var v = verifiers.find(function (k) { return k.name === name && k.id === id; });
      if (!v) continue; // an unknown key's signature is ignored, as C2SP says
      var ok = await crypto.subtle.verify({ name: "Ed25519" }, v.key, blob.slice(4), enc.encode(text));
      if (!ok) throw new Fail("bad_signature", name);
      signer = signer || name;
    }
    if (!signer) throw new Fail("no_known_signature");
    var body = text.slice(0, -1).split("\n");
    if (body.length < 3) throw new Fail("checkpoint_malformed");
    if (body[0] !== origin) throw new Fail("wrong_origin", body[0]);
    if (!/^(0|[1-9][0-9]{0,15})$/.test(body[1])) throw new Fail("checkpoint_malformed", "size");
    var root = b64decode(body[2]);
    if (root.length !== 32) throw new Fail("checkpoint_malformed", "root");
    return { size: Number(body[1]), root: root, signer: signer };
  }

  // RFC 9162 section 2.1.3.2: the root that an inclusion proof leads to.
  async function inclusionRoot(index, size, leafHash, proof) {
    if (index >= size) throw new Fail("not_in_checkpoint");
    var fn = index, sn = size - 1, r = leafHash;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (p.length !== 32) throw new Fail("proof_malformed", "hash length");
      if (sn === 0) throw new Fail("proof_malformed", "too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256([NODE, p, r]);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await sha256([NODE, r, p]);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Fail("proof_malformed", "too short");
    return r;
  }

  function compareEntry(entry, d) {
    var body = entry.body || {};
    var shown = {
      kind: ["trace", entry.kind],
      id: [d.id, entry.id],
      tenant: [d.actor, entry.tenant],
      ts: [d.recordedAt, entry.ts],
      product: [d.product, body.product],
      batch: [d.batch, body.batch],
      step: [d.step, body.step],
      at: [d.at, body.at],
      place: [d.place, body.place],
      actor: [d.actor, body.actor],
      evidence: [d.evidence, (body.evidence || []).slice().sort().join(",")],
    };
    for (var field in shown) {
      if (shown[field][0] !== shown[field][1]) throw new Fail("entry_differs", field);
    }
  }

  async function verifyStep(li, cp) {
    var d = li.dataset;
    var index = Number(d.leafIndex);
    if (!(index < cp.size)) throw new Fail("not_in_checkpoint");
    var page = await getJSON("/api/v1/ledger/entries?start=" + index + "&end=" + (index + 1));
    var found = (page.entries || [])[0];
    if (!found || found.index !== index) throw new Fail("entry_missing");
    var data = b64decode(found.data);
    var proofDoc = await getJSON("/api/v1/ledger/proof/inclusion?index=" + index + "&size=" + cp.size);
    var proof = (proofDoc.proof || []).map(b64decode);
    var leafHash = await sha256([LEAF, data]); // our own hash of the bytes, not the server's
    var root = await inclusionRoot(index, cp.size, leafHash, proof);
    if (!equal(root, cp.root)) throw new Fail("proof_mismatch");
    var entry;
    try {
      entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
    } catch (e) {
      throw new Fail("entry_differs", "not JSON");
    }
    compareEntry(entry, d);
  }

  function show(el, status, text, reason) {
    el.dataset.status = status;
    var mark = el.querySelector('[data-role="mark"]') || el;
    mark.textContent = text;
    var why = el.querySelector('[data-role="reason"]');
    if (why && reason) why.textContent = reason;
  }

  function reasonOf(err) {
    if (err instanceof Fail) return (msgs[err.code] || err.code) + (err.detail ? " (" + err.detail + ")" : "");
    return msgs.fetch_failed + " (" + (err && err.message ? err.message : String(err)) + ")";
  }

  async function main() {
    var steps = Array.prototype.slice.call(document.querySelectorAll("li.step[data-leaf-index]"));
    var status = document.getElementById("checkpoint-status");
    var cp;
    try {
      if (!window.crypto || !crypto.subtle) throw new Fail("no_webcrypto");
      var keys = JSON.parse(log.dataset.keys || "[]");
      if (!keys.length) throw new Fail("log_unavailable");
      var verifiers = [];
      for (var i = 0; i < keys.length; i++) {
        try {
          verifiers.push(await parseKey(keys[i]));
        } catch (e) {
          if (e instanceof Fail) throw e;
          throw new Fail("no_webcrypto", e && e.name);
        }
      }
      var r = await fetch(log.dataset.checkpointUrl, { cache: "no-store" });
      if (!r.ok) throw new Fail("fetch_failed", "checkpoint: " + r.status);
      cp = await openCheckpoint(await r.text(), verifiers, log.dataset.origin);
    } catch (err) {
      var why = reasonOf(err);
      show(status, "failed", msgs.checkpoint_failed, null);
      status.textContent = msgs.checkpoint_failed + ": " + why;
      steps.forEach(function (li) { show(li, "failed", msgs.failed, why); });
      document.documentElement.dataset.verification = "done";
      return;
    }
    show(status, "verified", msgs.checkpoint_ok.replace("{size}", cp.size).replace("{name}", cp.signer));
    for (var j = 0; j < steps.length; j++) {
      try {
        await verifyStep(steps[j], cp);
        show(steps[j], "verified", msgs.verified, null);
      } catch (err) {
        show(steps[j], "failed", msgs.failed, reasonOf(err));
      }
    }
    document.documentElement.dataset.verification = "done";
  }

  main();
})();
