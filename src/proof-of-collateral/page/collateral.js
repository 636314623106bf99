/* global document, window, location, URLSearchParams, fetch */
// The public proof-of-collateral page: shows the latest attestation in plain words, draws the history and
// runs the independent verification (verify-attestation.js) in the visitor's browser.
import { verifyAttestation } from "/collateral/assets/verify-attestation.js";

const $ = (id) => document.getElementById(id);

function kzt(tiyn) {
  const value = BigInt(tiyn);
  const whole = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  return `${whole}.${(value % 100n).toString().padStart(2, "0")} KZT`;
}

function percent(ratio) {
  return ratio === null ? "no coins issued" : `${(Number(ratio) * 100).toFixed(2)}%`;
}

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} seconds ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} minutes ago`;
  return `${Math.round(seconds / 3600)} hours ago`;
}

function showAttestation(document_) {
  const attestation = document_.attestation;
  $("collateral").textContent = kzt(attestation.collateral.balance);
  $("supply").textContent = kzt(attestation.supply.totalSupply);
  $("ratio").textContent = percent(attestation.ratio);
  const status = $("status");
  if (attestation.status.state === "healthy") {
    status.className = "banner healthy";
    status.textContent = "Fully backed: the DT collateral covers every stablecoin in circulation.";
  } else {
    status.className = "banner alert";
    status.textContent = `Alert: ${attestation.status.alerts.map((alert) => alert.message).join("; ")}`;
  }
  status.dataset.state = attestation.status.state;
  // A gateway that stopped attesting keeps serving its last document: say so instead of looking healthy.
  const ageMinutes = (Date.now() - Date.parse(attestation.issuedAt)) / 60_000;
  if (ageMinutes > 10) {
    status.className = "banner alert";
    status.textContent += ` Note: this attestation is ${Math.round(ageMinutes)} minutes old; the gateway may have stopped updating it.`;
    status.dataset.state = "outdated";
  }
  const statementTime = new Date(Number(attestation.collateral.timestamp) * 1000);
  $("updated").textContent =
    `Attestation issued ${new Date(attestation.issuedAt).toLocaleString()} (${ago(attestation.issuedAt)}). ` +
    `DT ledger statement signed ${statementTime.toLocaleString()} at ledger height ${attestation.collateral.height}; ` +
    `supply read at block ${attestation.supply.blockNumber} of chain ${attestation.supply.chainId}.`;
  $("raw").textContent = JSON.stringify(document_, null, 2);
}

function drawHistory(entries) {
  const points = entries.slice().reverse();
  const chart = $("chart");
  if (points.length < 2) {
    chart.textContent = "Not enough history yet.";
    return;
  }
  const width = 800;
  const height = 220;
  const pad = 30;
  const values = points.flatMap((entry) => [Number(entry.collateral), Number(entry.supply)]);
  const top = Math.max(...values, 1);
  const x = (index) => pad + (index * (width - 2 * pad)) / (points.length - 1);
  const y = (value) => height - pad - (value / top) * (height - 2 * pad);
  const line = (key) => points.map((entry, index) => `${index === 0 ? "M" : "L"}${x(index).toFixed(1)},${y(Number(entry[key])).toFixed(1)}`).join(" ");
  const first = new Date(points[0].issuedAt).toLocaleString();
  const last = new Date(points[points.length - 1].issuedAt).toLocaleString();
  chart.innerHTML =
    `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Collateral and supply over time">` +
    `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#cbd5e0"/>` +
    `<path d="${line("collateral")}" fill="none" stroke="#2b6cb0" stroke-width="2.5"/>` +
    `<path d="${line("supply")}" fill="none" stroke="#dd6b20" stroke-width="2" stroke-dasharray="6 3"/>` +
    `<text x="${pad}" y="${height - 8}" font-size="11" fill="#718096">${first}</text>` +
    `<text x="${width - pad}" y="${height - 8}" font-size="11" fill="#718096" text-anchor="end">${last}</text>` +
    `<text x="${pad}" y="${pad - 10}" font-size="11" fill="#718096">${kzt(BigInt(Math.round(top)))}</text>` +
    `</svg>`;
}

function showVerification(result) {
  const summary = $("verification-result");
  summary.className = result.verified ? "ok" : "failed";
  summary.textContent = result.verified ? "✔ Verified" : "✘ Verification failed";
  summary.dataset.verified = String(result.verified);
  const list = $("checks");
  list.replaceChildren(
    ...result.checks.map((check) => {
      const item = document.createElement("li");
      item.dataset.check = check.id;
      item.dataset.ok = String(check.ok);
      const mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = check.ok ? "✔" : "✘";
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = check.detail;
      item.append(mark, check.label, detail);
      return item;
    }),
  );
}

let current;

async function verify() {
  $("verification-result").textContent = "Checking…";
  $("verification-result").className = "";
  delete $("verification-result").dataset.verified;
  const rpcUrl = $("rpc").value.trim();
  if (!rpcUrl) {
    showVerification({ verified: false, checks: [{ id: "rpc", label: "Blockchain RPC address", ok: false, detail: "enter an RPC address to read the chain" }] });
    return;
  }
  showVerification(await verifyAttestation(current, { rpcUrl }));
}

async function main() {
  const params = new URLSearchParams(location.search);
  const configured = document.querySelector('meta[name="tg-rpc-url"]').content;
  const response = await fetch("/proof-of-collateral", { cache: "no-store" });
  if (!response.ok) {
    $("status").className = "banner alert";
    $("status").textContent = `No attestation available yet (${response.status}).`;
    return;
  }
  current = await response.json();
  $("rpc").value = params.get("rpc") ?? (configured.startsWith("__") ? "" : configured) ?? current.verification.rpcUrl ?? "";
  if (!$("rpc").value && current.verification.rpcUrl) $("rpc").value = current.verification.rpcUrl;
  showAttestation(current);
  $("verify-again").addEventListener("click", () => void verify());
  const history = fetch("/proof-of-collateral/history?limit=200", { cache: "no-store" })
    .then((reply) => reply.json())
    .then((page) => drawHistory(page.items))
    .catch(() => ($("chart").textContent = "History unavailable."));
  await Promise.all([verify(), history]);
}

main().catch((error) => {
  $("status").className = "banner alert";
  $("status").textContent = `The page could not load the attestation: ${error.message}`;
  window.console.error(error);
});
