// Switchyard console: the confirmation dialog for stage changes, clearing
// shadow counters and per-client verifies. Loaded as
// an external script (the Content-Security-Policy forbids inline script);
// pages work read-only without it.
"use strict";

(function () {
  const client = document.getElementById("client");
  const form = document.getElementById("switch-form");
  const dialog = document.getElementById("confirm-dialog");
  if (!client || !form || !dialog) {
    return;
  }
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const id = client.dataset.clientId;
  const current = client.dataset.stage;
  const revision = Number(client.dataset.revision || "0");
  const gatesPassed = client.dataset.gatesPassed === "true";

  const el = (x) => document.getElementById(x);
  const summary = el("confirm-summary");
  const gatesBox = el("confirm-gates");
  const reason = el("confirm-reason");
  const forceRow = el("confirm-force-row");
  const force = el("confirm-force");
  const errorBox = el("confirm-error");
  const submit = el("confirm-submit");
  let pending = null; // {to, mode: "switch" | "rollback" | "clear" | "shadow-reset" | "verify"}

  const servesTarget = (s) => s === "target" || s === "target-shadow";

  function stageBadge(s) {
    const span = document.createElement("span");
    span.className = "stage stage-" + s;
    span.textContent = s;
    return span;
  }

  function failingConditions() {
    return Array.from(document.querySelectorAll("#gates .conditions li.bad strong")).map((n) => n.textContent);
  }

  function showGates(names, heading) {
    gatesBox.replaceChildren();
    const strong = document.createElement("strong");
    strong.textContent = heading;
    gatesBox.append(strong);
    if (names.length) {
      const ul = document.createElement("ul");
      for (const n of names) {
        const li = document.createElement("li");
        li.textContent = n;
        ul.append(li);
      }
      gatesBox.append(ul);
    }
    gatesBox.hidden = false;
    forceRow.hidden = false;
  }

  const verbs = { switch: "Switch ", rollback: "Roll back ", clear: "Return " };

  // actions are the client actions that do not change the stage: what the
  // dialog says and what its button reads.
  const actions = {
    "shadow-reset": { lead: "Clear the shadow read counters of client ", tail: " in every read router, so the shadow gate counts from zero again.", label: "Clear shadow counters" },
    verify: { lead: "Verify the rows of client ", tail: " in the legacy and the target store, in the background.", label: "Start the verify" },
  };

  function submitLabel() {
    if (actions[pending.mode]) {
      return actions[pending.mode].label;
    }
    if (pending.mode === "rollback") {
      return "Roll back to legacy";
    }
    const verb = force.checked ? "Force " : "";
    if (pending.mode === "clear") {
      return verb + (verb ? "return" : "Return") + " to the " + pending.source;
    }
    return verb + (verb ? "switch" : "Switch") + " to " + pending.to;
  }

  function open(to, mode, source) {
    pending = { to, mode, source };
    const action = actions[mode];
    const parts = action ? [
      document.createTextNode(action.lead),
      Object.assign(document.createElement("strong"), { className: "mono", textContent: id }),
      document.createTextNode(action.tail)] : [
      document.createTextNode(verbs[mode] + "client "),
      Object.assign(document.createElement("strong"), { className: "mono", textContent: id }),
      document.createTextNode(" from "), stageBadge(current),
      document.createTextNode(" to "), stageBadge(to)];
    if (action) {
      // the sentence is complete
    } else if (mode === "clear") {
      parts.push(document.createTextNode(" by removing its own stage; it then follows the " + source + "."));
    } else {
      parts.push(document.createTextNode("."));
    }
    summary.replaceChildren(...parts);
    gatesBox.hidden = true;
    forceRow.hidden = true;
    force.checked = false;
    errorBox.hidden = true;
    if (!action && mode !== "rollback" && servesTarget(to) && !servesTarget(current) && !gatesPassed) {
      showGates(failingConditions(), "Promotion gates do not pass:");
    }
    submit.textContent = submitLabel();
    submit.className = mode === "rollback" ? "danger" : "primary";
    dialog.showModal();
    reason.focus();
  }

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = false;
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const to = el("switch-to").value;
    if (!to) {
      el("switch-to").focus();
      return;
    }
    open(to, "switch");
  });
  const rollbackButton = el("rollback-button");
  if (rollbackButton) {
    rollbackButton.addEventListener("click", () => open("legacy", "rollback"));
  }
  const clearButton = el("clear-button");
  if (clearButton) {
    clearButton.addEventListener("click", () =>
      open(clearButton.dataset.fallback, "clear", clearButton.dataset.fallbackSource));
  }
  for (const [button, mode] of [["shadow-reset-button", "shadow-reset"], ["verify-button", "verify"]]) {
    const b = el(button);
    if (b) {
      b.addEventListener("click", () => open(null, mode));
    }
  }
  el("confirm-cancel").addEventListener("click", () => dialog.close());
  reason.addEventListener("input", () => {
    errorBox.hidden = true;
  });
  force.addEventListener("change", () => {
    if (pending) {
      submit.textContent = submitLabel();
    }
  });

  el("confirm-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!pending) {
      return;
    }
    const text = reason.value.trim();
    if (!text) {
      showError("A reason is required.");
      reason.focus();
      return;
    }
    const base = "/api/clients/" + encodeURIComponent(id);
    let url;
    let body;
    switch (pending.mode) {
      case "rollback":
        url = base + "/rollback";
        body = { reason: text, expected_stage: current, expected_revision: revision };
        break;
      case "clear":
        url = base + "/clear";
        body = { reason: text, expected_revision: revision, force: force.checked };
        break;
      case "shadow-reset":
      case "verify":
        url = base + "/" + pending.mode;
        body = { reason: text };
        break;
      default:
        url = base + "/stage";
        body = { to: pending.to, reason: text, expected_stage: current, expected_revision: revision, force: force.checked };
    }
    submit.disabled = true;
    errorBox.hidden = true;
    try {
      const resp = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
      });
      if (resp.ok) {
        const flash = actions[pending.mode] ? "?done=" + pending.mode : "?changed=" + encodeURIComponent(pending.to);
        window.location.assign("/clients/" + encodeURIComponent(id) + flash);
        return;
      }
      if (resp.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        return;
      }
      let msg = "The change failed (HTTP " + resp.status + ").";
      let data = null;
      try {
        data = await resp.json();
      } catch (_) {
        data = null;
      }
      if (data && data.error) {
        msg = data.error.message;
        if (data.error.code === "gate_refused") {
          showGates((data.error.conditions || []).map((c) => c.name + (c.detail ? " (" + c.detail + ")" : "")),
            "Refused by the promotion gates:");
          msg = "The promotion gates refused the change. Tick the override to force it; the reason is recorded.";
        }
      }
      showError(msg);
    } catch (err) {
      showError("The console could not be reached: " + err.message);
    } finally {
      submit.disabled = false;
    }
  });
})();
