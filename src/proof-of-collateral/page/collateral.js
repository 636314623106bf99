/* global document, window, location, URLSearchParams, fetch */
// The public proof-of-collateral page: shows the latest attestation in plain words, draws the history and
// runs the independent verification (verify-attestation.js) in the visitor's browser.
import { verifyAttestation } from "/collateral/assets/verify-attestation.js";
import { kzt, tickLabel, tiynFromKzt, timeLabel, timeTicks, valueTicks } from "/collateral/assets/format.js";

const $ = (id) => document.getElementById(id);

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
  $("supply").textContent = kzt(attestation.supply.totalSupply, Number(attestation.supply.decimals ?? 2));
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

const SERIES = [
  { key: "collateral", label: "Collateral (DT)", color: "#2b6cb0", width: 2.5, dash: "" },
  { key: "supply", label: "Stablecoins in circulation", color: "#dd6b20", width: 2, dash: "6 3" },
];

/** Draws the history (API entries newest first, amounts in KZT major units) as an SVG with both axes. */
function drawHistory(entries) {
  const chart = $("chart");
  if (entries.length < 2) {
    chart.textContent = "Not enough history yet.";
    return;
  }
  // The one conversion: the API's major-unit strings become integer tiyn, like the attestation's amounts.
  const points = entries
    .slice()
    .reverse()
    .map((entry) => ({ time: Date.parse(entry.issuedAt), collateral: tiynFromKzt(entry.collateral), supply: tiynFromKzt(entry.supply) }));
  const width = 800;
  const height = 260;
  const left = 120;
  const right = 20;
  const top = 36;
  const bottom = 32;
  const max = points.reduce((highest, point) => [point.collateral, point.supply].reduce((a, b) => (b > a ? b : a), highest), 0n);
  const ticks = valueTicks(max);
  const scaleTop = Number(ticks[ticks.length - 1]);
  const start = points[0].time;
  const end = points[points.length - 1].time;
  const byTime = end > start;
  const x = (point, index) => left + ((byTime ? point.time - start : index) / (byTime ? end - start : points.length - 1)) * (width - left - right);
  const y = (tiyn) => height - bottom - (Number(tiyn) / scaleTop) * (height - top - bottom);
  const path = (key) => points.map((point, index) => `${index === 0 ? "M" : "L"}${x(point, index).toFixed(1)},${y(point[key]).toFixed(1)}`).join(" ");
  const parts = [`<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Collateral and stablecoins in circulation over time, in KZT">`];
  for (const tick of ticks) {
    const at = y(tick).toFixed(1);
    parts.push(
      `<g class="y-tick" data-tiyn="${tick}">` +
        `<line x1="${left}" y1="${at}" x2="${width - right}" y2="${at}" stroke="${tick === 0n ? "#a0aec0" : "#edf2f7"}"/>` +
        `<text x="${left - 8}" y="${at}" dy="4" font-size="11" fill="#4a5568" text-anchor="end">${tickLabel(tick)}</text></g>`,
    );
  }
  if (byTime) {
    const { step, ticks: times } = timeTicks(start, end);
    for (const time of times) {
      const at = x({ time }, 0).toFixed(1);
      parts.push(
        `<g class="x-tick" data-time="${new Date(time).toISOString()}">` +
          `<line x1="${at}" y1="${height - bottom}" x2="${at}" y2="${height - bottom + 5}" stroke="#a0aec0"/>` +
          `<text x="${at}" y="${height - bottom + 18}" font-size="11" fill="#4a5568" text-anchor="middle">${timeLabel(time, step)}</text></g>`,
      );
    }
  }
  for (const series of SERIES) {
    parts.push(`<path data-series="${series.key}" d="${path(series.key)}" fill="none" stroke="${series.color}" stroke-width="${series.width}" stroke-dasharray="${series.dash}"/>`);
  }
  // One hover target per attestation with its exact amounts (the axes are rounded).
  points.forEach((point, index) => {
    const at = x(point, index).toFixed(1);
    const when = new Date(point.time).toLocaleString();
    parts.push(
      `<circle class="point" cx="${at}" cy="${y(point.collateral).toFixed(1)}" r="3" fill="#2b6cb0">` +
        `<title>${when}: collateral ${kzt(point.collateral)}, in circulation ${kzt(point.supply)}</title></circle>`,
    );
  });
  SERIES.forEach((series, index) => {
    const at = left + index * 230;
    parts.push(
      `<g class="legend-item" data-series="${series.key}">` +
        `<line x1="${at}" y1="14" x2="${at + 28}" y2="14" stroke="${series.color}" stroke-width="${series.width}" stroke-dasharray="${series.dash}"/>` +
        `<text x="${at + 36}" y="18" font-size="12" fill="#1c2430">${series.label}</text></g>`,
    );
  });
  parts.push(`</svg>`);
  chart.innerHTML = parts.join("");
  const first = new Date(start).toLocaleString();
  const last = new Date(end).toLocaleString();
  $("chart-range").textContent = `${points.length} attestations from ${first} to ${last}; amounts in KZT.`;
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
