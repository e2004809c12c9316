// The app's scorers (ragft/evaluation/scoring.py, style.py, formats.py) ported to JavaScript for promptfoo's
// `javascript` assertions. Each assertion reads what it checks from the test's vars and returns
// {pass, score, reason}, exactly as the app scores the same answer (tests/test_promptfoo_export.py checks it).
const SYN = {kilogram: "kg", kilograms: "kg", kilo: "kg", kilos: "kg", kgs: "kg", gram: "g", grams: "g", gr: "g",
  liter: "l", liters: "l", litre: "l", litres: "l", ltr: "l", minute: "min", minutes: "min", mins: "min",
  hour: "h", hours: "h", hr: "h", hrs: "h", days: "day", weeks: "week", months: "month", years: "year",
  yr: "year", yrs: "year", celsius: "c", centigrade: "c"};
const CUR = new Set(["dollar", "dollars", "usd", "bucks"]);
const DROP = new Set(["degree", "degrees", "deg"]);
const NUM = "(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?";
const TOKEN = new RegExp(
  `(?<num>(?<![\\p{L}\\p{N}_.,])[-\\u2212\\u2013]?${NUM}|${NUM})|(?<word>\\p{L}+)|(?<cur>[$])`, "gu");
function num(s) {
  s = s.replace(/,/g, "").replace(/[\u2212\u2013]/g, "-");
  const neg = s.startsWith("-");
  if (neg) s = s.slice(1);
  let [i, f = ""] = s.split(".");
  i = i.replace(/^0+/, "") || "0";
  f = f.replace(/0+$/, "");
  const out = f ? `${i}.${f}` : i;
  return /^0(\.0*)?$/.test(out) ? "0" : (neg ? "-" : "") + out;
}
function factTokens(text) {
  const low = (text || "").toLowerCase().replace(/\b([ap])\.\s?m\b\.?/g, "$1m");
  const raw = [];
  for (const m of low.matchAll(TOKEN)) {
    if (m.groups.num) raw.push(["num", num(m.groups.num)]);
    else if (m.groups.cur) raw.push(["cur", "$"]);
    else {
      const w = m.groups.word;
      if (DROP.has(w)) continue;
      raw.push(CUR.has(w) ? ["cur", "$"] : ["word", SYN[w] || w]);
    }
  }
  const out = [];
  for (let i = 0; i < raw.length; i++) {
    const [kind, val] = raw[i];
    const nxt = raw[i + 1];
    if (kind === "cur" && nxt && nxt[0] === "num") { out.push("$" + nxt[1]); i++; continue; }
    if (kind === "num" && nxt && nxt[0] === "cur") { out.push("$" + val); i++; continue; }
    if (kind === "cur") out.push("usd");
    else if (kind === "word" && val === "to" && out.length && raw[i - 1][0] === "num" && nxt && nxt[0] === "num") {}
    else out.push(val);
  }
  return out;
}
function has(hay, needle) {
  if (!needle.length) return false;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
function facts(output, expected) {
  const hay = factTokens(output);
  const found = expected.filter((f) => has(hay, factTokens(f)));
  return {found, missing: expected.filter((f) => !found.includes(f))};
}
function lines(text) { return (text || "").trim().split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l); }
function brand(output) {
  const L = lines(output), G = "Howdy from Fernhollow!", S = "Stay wild, the Fernhollow crew";
  const bullet = (l) => l.startsWith("- ") && l.slice(2).trim().length > 0;
  const greeting = L.length > 0 && L[0] === G, signoff = L.length >= 2 && L[L.length - 1] === S;
  const body = L.slice(greeting ? 1 : 0, signoff ? L.length - 1 : L.length);
  const bullets = body.filter(bullet), others = body.filter((l) => !bullet(l));
  const concise = bullets.length > 0 && bullets.every((b) => b.slice(2).split(/\s+/).filter((w) => w).length <= 30);
  const checks = {greeting, bullets: bullets.length >= 1 && bullets.length <= 2, concise, signoff,
    nothing_else: others.length === 0};
  const failed = Object.keys(checks).filter((k) => !checks[k]);
  return {pass: failed.length === 0, reason: failed.length ? "fails: " + failed.join(", ") : "in the voice"};
}
function ticket(output) {
  let t = (output || "").trim();
  if (t.startsWith("```")) { t = t.replace(/^`+|`+$/g, ""); if (t.toLowerCase().startsWith("json")) t = t.slice(4); t = t.trim(); }
  let obj;
  try { obj = JSON.parse(t); } catch (e) { return {pass: false, reason: "not JSON"}; }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return {pass: false, reason: "JSON, but not an object"};
  const keys = ["category", "priority", "summary"];
  const allowed = {category: ["billing", "shipping", "returns", "product", "account"], priority: ["low", "medium", "high"]};
  const reasons = [];
  if (JSON.stringify(Object.keys(obj).sort()) !== JSON.stringify([...keys].sort())) reasons.push("keys " + Object.keys(obj).sort());
  for (const k of Object.keys(allowed)) if (k in obj && !allowed[k].includes(obj[k])) reasons.push(k + " not allowed");
  for (const k of keys) if (k in obj && !(typeof obj[k] === "string" && obj[k].trim())) reasons.push(k + " not a non-empty string");
  return {pass: reasons.length === 0, reason: reasons.join("; ") || "the ticket shape"};
}
