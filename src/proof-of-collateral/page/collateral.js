/* global document, window, location, URLSearchParams, fetch */
// The public proof-of-collateral page: shows the latest attestation in plain words, draws the history and
// runs the independent verification (verify-attestation.js) in the visitor's browser.
import { chainsOf, verifyAttestation } from "/collateral/assets/verify-attestation.js";
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

function allotmentText(allotment) {
  if (allotment === undefined) return "not attested";
  if (allotment === null) return "none";
  return `#${allotment.sequence}: ${kzt(allotment.issued)} issued of ${kzt(allotment.issuanceLimit)}`;
}

function showAttestation(document_) {
  const attestation = document_.attestation;
  const covered = chainsOf(attestation);
  $("collateral").textContent = kzt(attestation.collateral.balance);
  $("supply").textContent = kzt(covered.totalSupply);
  $("supply-hint").textContent =
    covered.chains.length === 1 ? "Total supply of the token on the blockchain" : `Total supply of the token on its ${covered.chains.length} blockchains`;
  $("ratio").textContent = percent(attestation.ratio);
  const status = $("status");
  if (attestation.status.state === "healthy") {
    status.className = "banner healthy";
    status.textContent = "Fully backed: the DT collateral covers every stablecoin in circulation, on every chain.";
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
    `supply read at ${covered.chains.map((chain) => `block ${chain.blockNumber} of chain ${chain.chainId}`).join(", ")}.`;
  showChains(covered.chains, document_.verification ?? {});
  $("raw").textContent = JSON.stringify(document_, null, 2);
}

/** The RPC a chain is read through: the visitor's (?rpc.<chainId>=, or ?rpc= for the first chain), else the gateway's suggestion. */
function initialRpc(chainId, index, verification) {
  const params = new URLSearchParams(location.search);
  return params.get(`rpc.${chainId}`) ?? (index === 0 ? params.get("rpc") : null) ?? verification.rpcUrls?.[String(chainId)] ?? (index === 0 ? verification.rpcUrl : null) ?? "";
}

/** One row per chain: its token, supply, block and allotment, the RPC the visitor reads it through, and its verdict. */
function showChains(chains, verification) {
  const rows = chains.map((chain, index) => {
    const row = document.createElement("tr");
    row.dataset.chain = String(chain.chainId);
    const cell = (className, text) => {
      const td = document.createElement("td");
      td.className = className;
      td.textContent = text;
      row.append(td);
      return td;
    };
    cell("chain-id", String(chain.chainId));
    cell("token", chain.token).title = chain.token;
    cell("chain-supply", kzt(chain.supply, Number(chain.decimals ?? 2)));
    cell("block", String(chain.blockNumber));
    cell("allotment", allotmentText(chain.allotment));
    const input = document.createElement("input");
    input.type = "url";
    input.className = "rpc";
    input.dataset.chain = String(chain.chainId);
    input.setAttribute("aria-label", `RPC address of chain ${chain.chainId}`);
    input.value = initialRpc(chain.chainId, index, verification);
    cell("rpc-cell", "").append(input);
    cell("chain-status", "checking…");
    return row;
  });
  $("chain-rows").replaceChildren(...rows);
}

const PALETTE = ["#38a169", "#805ad5", "#d53f8c", "#319795", "#b7791f", "#718096"];

/** The series of the chart: collateral, the total and, with several chains, each chain's supply. */
function seriesOf(chainIds) {
  const series = [
    { key: "collateral", label: "Collateral (DT)", color: "#2b6cb0", width: 2.5, dash: "" },
    { key: "supply", label: chainIds.length > 1 ? "Stablecoins in circulation (all chains)" : "Stablecoins in circulation", color: "#dd6b20", width: 2, dash: "6 3" },
  ];
  if (chainIds.length > 1) {
    chainIds.forEach((chainId, index) => series.push({ key: `chain-${chainId}`, label: `Chain ${chainId}`, color: PALETTE[index % PALETTE.length], width: 1.5, dash: "2 2" }));
  }
  return series;
}

/** Draws the history (API entries newest first, amounts in KZT major units) as an SVG with both axes. */
function drawHistory(entries) {
  const chart = $("chart");
  if (entries.length < 2) {
    chart.textContent = "Not enough history yet.";
    return;
  }
  const chainIds = [];
  for (const entry of entries.slice().reverse()) for (const chain of entry.chains ?? []) if (!chainIds.includes(chain.chainId)) chainIds.push(chain.chainId);
  const series = seriesOf(chainIds);
  // The one conversion: the API's major-unit strings become integer tiyn, like the attestation's amounts.
  const points = entries
    .slice()
    .reverse()
    .map((entry) => {
      const point = { time: Date.parse(entry.issuedAt), collateral: tiynFromKzt(entry.collateral), supply: tiynFromKzt(entry.supply) };
      // A chain not yet added when an attestation was issued had nothing on it.
      for (const chainId of chainIds) {
        const chain = (entry.chains ?? []).find((candidate) => candidate.chainId === chainId);
        point[`chain-${chainId}`] = chain ? tiynFromKzt(chain.supply) : 0n;
      }
      return point;
    });
  const width = 800;
  const height = 260;
  const left = 120;
  const right = 20;
  const legendRows = Math.ceil(series.length / 3);
  const top = 20 + legendRows * 16;
  const bottom = 32;
  const max = points.reduce((highest, point) => series.map((item) => point[item.key]).reduce((a, b) => (b > a ? b : a), highest), 0n);
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
  for (const item of series) {
    parts.push(`<path data-series="${item.key}" d="${path(item.key)}" fill="none" stroke="${item.color}" stroke-width="${item.width}" stroke-dasharray="${item.dash}"/>`);
  }
  // One hover target per attestation with its exact amounts (the axes are rounded).
  points.forEach((point, index) => {
    const at = x(point, index).toFixed(1);
    const when = new Date(point.time).toLocaleString();
    const perChain = chainIds.length > 1 ? ` (${chainIds.map((chainId) => `chain ${chainId}: ${kzt(point[`chain-${chainId}`])}`).join(", ")})` : "";
    parts.push(
      `<circle class="point" cx="${at}" cy="${y(point.collateral).toFixed(1)}" r="3" fill="#2b6cb0">` +
        `<title>${when}: collateral ${kzt(point.collateral)}, in circulation ${kzt(point.supply)}${perChain}</title></circle>`,
    );
  });
  series.forEach((item, index) => {
    const at = left + (index % 3) * 230;
    const row = 14 + Math.floor(index / 3) * 16;
    parts.push(
      `<g class="legend-item" data-series="${item.key}">` +
        `<line x1="${at}" y1="${row}" x2="${at + 28}" y2="${row}" stroke="${item.color}" stroke-width="${item.width}" stroke-dasharray="${item.dash}"/>` +
        `<text x="${at + 36}" y="${row + 4}" font-size="12" fill="#1c2430">${item.label}</text></g>`,
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
  const disagreeing = (result.chains ?? []).filter((chain) => !chain.verified).map((chain) => chain.chainId);
  summary.className = result.verified ? "ok" : "failed";
  summary.textContent = result.verified
    ? "✔ Verified"
    : `✘ Verification failed${disagreeing.length > 0 ? `: ${disagreeing.map((chainId) => `chain ${chainId}`).join(" and ")} ${disagreeing.length === 1 ? "disagrees" : "disagree"} with the attestation` : ""}`;
  summary.dataset.verified = String(result.verified);
  for (const chain of result.chains ?? []) {
    const row = document.querySelector(`#chain-rows tr[data-chain="${chain.chainId}"]`);
    if (!row) continue;
    row.dataset.verified = String(chain.verified);
    row.querySelector(".chain-status").textContent = chain.verified ? "✔ agrees with the chain" : `✘ disagrees (${chain.failed.join(", ")})`;
  }
  const list = $("checks");
  list.replaceChildren(
    ...result.checks.map((check) => {
      const item = document.createElement("li");
      item.dataset.check = check.id;
      if (check.chainId !== undefined) item.dataset.chain = String(check.chainId);
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
  const rpcUrls = {};
  for (const input of document.querySelectorAll("#chain-rows input.rpc")) {
    if (input.value.trim()) rpcUrls[input.dataset.chain] = input.value.trim();
  }
  showVerification(await verifyAttestation(current, { rpcUrls }));
}

async function main() {
  const response = await fetch("/proof-of-collateral", { cache: "no-store" });
  if (!response.ok) {
    $("status").className = "banner alert";
    $("status").textContent = `No attestation available yet (${response.status}).`;
    return;
  }
  current = await response.json();
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
