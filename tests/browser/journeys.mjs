// Swiper's browser journeys in headless Chromium (Debian's, through
// playwright-core: no browser download). Run by tests/browser.sh, which
// starts the site on PostgreSQL + Redis with an SMTP sink and seeded
// members, and passes:
//   BASE        the site, e.g. http://127.0.0.1:8080
//   MAILDIR     the SMTP sink's Maildir
//   SHOTS       where each step's screenshot goes (under target/)
//   DATABASE    psql URL of the site's database (to name a seeded member)
//   MOD_EMAIL, MOD_PASSWORD  the staff account create-admin made
//   LANG_UNDER_TEST  en (default) or zh-CN: every page opened asks for that
//               language (Accept-Language), its shots go to SHOTS-zh-CN, and
//               in Chinese every step's page must be in Chinese (html lang,
//               no English left but names, what members typed, the brand)
//
// 1. A new member signs up, verifies by the mailed link, logs in, fills the
//    profile, uploads a photo, swipes with the keyboard and matches with a
//    seeded member who liked her, chats with him live (both pages open,
//    chat.js over /ws/chat), and rewinds a swipe.
// 2. The seeded member reports her. A moderator logs in with 2FA (TOTP),
//    handles the report by banning her, and her open page goes to the login
//    page by itself.
// Waits are bounded (a hang fails), never sleeps; every step asserts.

import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

const env = (name) => {
  const v = process.env[name];
  if (!v) { throw new Error(`${name} is not set`); }
  return v;
};
const BASE = env("BASE");
const MAILDIR = env("MAILDIR");
const DATABASE = env("DATABASE");
const MOD_EMAIL = env("MOD_EMAIL");
const MOD_PASSWORD = env("MOD_PASSWORD");
const VARDIR = env("VARDIR");
const LANG = process.env.LANG_UNDER_TEST || "en";
assert.ok(["en", "zh-CN"].includes(LANG), `LANG_UNDER_TEST: ${LANG}`);
const ZH = LANG === "zh-CN";
const SHOTS = ZH ? `${env("SHOTS")}-zh-CN` : env("SHOTS");
const BOUND = 15_000;

// The catalog's message for `key` in the language under test (a flat read
// of locales/*.toml: [section] headers and one-line `key = "value"`), so a
// step can look for what the page says in either language.
function catalog(lang) {
  const messages = new Map();
  let section = "";
  const text = readFileSync(new URL(`../../locales/${lang}.toml`, import.meta.url), "utf8");
  for (const line of text.split("\n")) {
    const head = line.match(/^\[([\w.]+)\]\s*$/);
    if (head) { section = head[1]; continue; }
    const kv = line.match(/^([\w]+)\s*=\s*("(?:[^"\\]|\\.)*")\s*$/);
    if (kv) { messages.set(`${section}.${kv[1]}`, JSON.parse(kv[2])); }
  }
  return messages;
}
const MESSAGES = catalog(LANG);
const msg = (key) => {
  const m = MESSAGES.get(key);
  assert.ok(m !== undefined, `no message ${key} in ${LANG}`);
  return m;
};
// A pattern for a message with its {placeholders} matching anything.
const msgPattern = (key) => new RegExp(
  msg(key).split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+"),
);

mkdirSync(SHOTS, { recursive: true });
let shot = 0;
const failures = [];
// Every step's page is checked by axe-core at its own size and at a phone's
// (390×844): no serious or critical violation anywhere.
const PHONE = { width: 390, height: 844 };
let audited = 0;
async function audit(page, name, phoneShot) {
  const size = page.viewportSize();
  const sizes = size.width === PHONE.width ? [size] : [size, PHONE];
  for (const at of sizes) {
    await page.setViewportSize(at);
    if (at !== size) {
      // What a phone shows first (the viewport, not the whole page).
      await page.screenshot({ path: phoneShot });
    }
    const { violations } = await new AxeBuilder({ page }).analyze();
    for (const v of violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ");
      failures.push(`axe ${at.width}px, ${name}: ${v.impact} ${v.id}: ${v.help} (${where})`);
    }
    audited += 1;
  }
  await page.setViewportSize(size);
}
async function snap(page, name) {
  shot += 1;
  const file = join(SHOTS, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await audit(page, name, file.replace(/\.png$/, "-phone.png"));
  if (ZH) {
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (lang !== "zh-CN") { failures.push(`${name}: <html lang="${lang}">, not zh-CN`); }
    const left = await untranslated(page);
    if (left.length) { failures.push(`${name}: untranslated text on the Chinese page: ${JSON.stringify(left)}`); }
  }
  console.log(`ok: ${name} (${file})`);
}

function sql(query) {
  return execFileSync("psql", [DATABASE, "-Atc", query], { encoding: "utf8" }).trim();
}

// What members typed is theirs, in whatever language: nicknames, bios,
// cities, messages, reports and the moderators' notes, read from the
// database whole and line by line; so are the names staff give roles and
// plans. Plus what no catalog translates: the brand, the languages' own
// names in the switcher, and what a step adds (a TOTP secret, recovery
// codes).
const untranslatable = new Set(["Swiper", "English"]);
const LATIN_IN_CHINESE = new Set(["Swiper", "App", "JPEG", "PNG", "WebP", "UTC", "Shift", "Enter", "IPv6", "GeoNames", "YYYY", "ZIP"]);
function typedByMembers() {
  const rows = execFileSync("psql", [DATABASE, "-At", "-R", "\u001e", "-c",
    `select nickname from users union all select bio from profiles union all select city from profiles
     union all select body from messages union all select details from reports
     union all select coalesce(note, '') from reports union all select name from roles
     union all select name from plans`], { encoding: "utf8" });
  const values = rows.split("\u001e");
  return new Set([...values, ...values.flatMap((v) => v.split("\n"))].map((t) => t.trim()).filter(Boolean));
}
// The visible strings of a page (text nodes, a list's chosen option,
// placeholders, buttons' values, the title) with three Latin letters in a
// row and no Chinese character, less names, what members typed, numbers,
// addresses and links. A time zone's place name is a name too.
async function untranslated(page) {
  const found = await page.evaluate(() => {
    const out = [];
    const shown = (el) => {
      const option = el && el.closest("option");
      if (option && (!option.selected || option.closest("select#time_zone") && option.value !== "UTC")) { return false; }
      const box = el && (el.closest("select, datalist") || el);
      return !!box && box.tagName !== "DATALIST" && box.checkVisibility({ visibilityProperty: true });
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (p && !["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(p.tagName) && shown(p)) { out.push(n.textContent.trim()); }
    }
    for (const el of document.querySelectorAll("[placeholder]")) { if (shown(el)) out.push(el.getAttribute("placeholder").trim()); }
    for (const el of document.querySelectorAll("input[type=submit], input[type=button]")) { if (shown(el)) out.push(el.value.trim()); }
    out.push(document.title.trim());
    return out;
  });
  const typed = typedByMembers();
  const typedWords = new Set([...typed, ...untranslatable].flatMap((t) => t.split(/[^\p{L}\d]+/u)));
  // In a Chinese sentence, a Latin word must be one Chinese writes that way
  // or a member's (a name in "你和 Ava 互相喜欢了"): "17 h 50 min" is not.
  const latinWordsOk = (t) => t.replace(/[\w.+-]+@[\w.-]+|https?:\/\/\S+/g, "")
    .split(/[^\p{L}\d]+/u).every((w) => !/[A-Za-z]{3,}/.test(w) || LATIN_IN_CHINESE.has(w) || typedWords.has(w));
  const ok = (t) => !/[A-Za-z]{3,}/.test(t) || (/[\u3400-\u9fff]/.test(t) && latinWordsOk(t))
    || untranslatable.has(t) || typed.has(t)
    || /^[\w.+-]+@[\w.-]+$/.test(t) || /^(https?:\/\/|\/)\S*$/.test(t)
    || (t.includes(" · ") && t.split(" · ").every(ok)); // "João · Swiper"
  return [...new Set(found.filter((t) => !ok(t)))];
}

// --- mail: the newest message to `to` in the sink, quoted-printable undone ---
function mailTo(to) {
  const dir = join(MAILDIR, "new");
  const files = readdirSync(dir)
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  for (const f of files.reverse()) {
    const text = readFileSync(f, "utf8");
    if (new RegExp(`^To: .*${to.replace(/[.+]/g, "\\$&")}`, "mi").test(text)) {
      // A part in base64 (lettre's pick for Chinese text) is decoded in place.
      return text.replace(/\r/g, "").replace(/=\n/g, "").replace(/=3D/g, "=")
        .replace(/(Content-Transfer-Encoding: base64\n(?:.+\n)*\n)([A-Za-z0-9+/=\n]+)/gi,
          (_, head, body) => head + Buffer.from(body.replace(/\n/g, ""), "base64").toString("utf8"));
    }
  }
  return null;
}
async function waitForMail(to) {
  const end = Date.now() + BOUND;
  for (;;) {
    const mail = mailTo(to);
    if (mail) { return mail; }
    if (Date.now() > end) { throw new Error(`no mail to ${to}`); }
    await new Promise((r) => setTimeout(r, 100)); // polling the sink, bounded

  }
}

// --- TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s), as an authenticator app ---
function base32(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of s.replace(/[\s=]/g, "").toUpperCase()) {
    const v = alphabet.indexOf(ch);
    assert.ok(v >= 0, `base32: ${ch}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) { out.push(parseInt(bits.slice(i, i + 8), 2)); }
  return Buffer.from(out);
}
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}
const stepNow = () => Math.floor(Date.now() / 1000 / 30);

// --- a photo: a 480×600 PNG with a gradient -----------------------------------
function png(width, height) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0); header.writeUInt32BE(height, 4);
  header[8] = 8; header[9] = 2; // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows[row + 1 + x * 3] = 200 + Math.floor((55 * x) / width);
      rows[row + 2 + x * 3] = 80 + Math.floor((120 * y) / height);
      rows[row + 3 + x * 3] = 120;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function login(page, email, password) {
  await page.goto(`${BASE}/login`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("form[action='/login'] button[type=submit]");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  // Each page: no script error, no CSP violation or other console error
  // (a refused login's 401 aside), and no 5xx ever.
  const open = async (who) => {
    // Geolocation granted, at the Eiffel Tower (the profile's "Use my location").
    const context = await browser.newContext({
      ...(ZH ? { locale: "zh-CN", extraHTTPHeaders: { "Accept-Language": "zh-CN,zh;q=0.9" } } : {}),
      viewport: { width: 1280, height: 900 },
      permissions: ["geolocation"],
      geolocation: { latitude: 48.85837, longitude: 2.29448 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(BOUND);
    page.on("pageerror", (e) => failures.push(`${who}: script error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !/^Failed to load resource: .* 401/.test(m.text())) {
        failures.push(`${who}: console: ${m.text()} (${m.location().url})`);
      }
    });
    page.on("response", (r) => { if (r.status() >= 500) { failures.push(`${who}: ${r.status()} ${r.url()}`); } });
    return page;
  };
  const her = await open("her page");

  // --- sign up, verify, log in ---------------------------------------------------
  const email = `journey${Date.now()}@example.com`;
  const password = "Orchard-Lantern-Violet-88";
  await her.goto(`${BASE}/signup`);
  await snap(her, "signup-form");
  await her.fill("#email", email);
  await her.fill("#password", password);
  await her.fill("#nickname", "Journey");
  await her.selectOption("#sex", "female");
  await her.fill("#birthday", "1994-03-14");
  await her.click("form[action='/signup'] button[type=submit]");
  await her.waitForURL(/\/login\?notice=check_email/);
  await snap(her, "signed-up");

  const mail = await waitForMail(email);
  const link = mail.match(/\/verify-email\?token=[A-Za-z0-9_-]+/);
  assert.ok(link, "a verification link in the mail");
  await her.goto(`${BASE}${link[0]}`);
  assert.equal((await her.textContent("[data-testid=email-verified]")).trim(), msg("verify.done"));
  await snap(her, "verified");
  await login(her, email, password);
  await her.waitForURL(/\/discover/);

  // --- the profile, then a photo -----------------------------------------------
  await her.goto(`${BASE}/profile`);
  await her.fill("#bio", "Hiking, jazz and <b>bold</b> coffee.");
  // City suggestions from the bundled list: typing asks the server, the
  // datalist fills, and picking one fills the position.
  await her.locator("#city").pressSequentially("Pari");
  await her.waitForFunction(() => document.querySelectorAll("#city-suggestions option").length > 0);
  const suggested = await her.locator("#city-suggestions option").first().getAttribute("value");
  // The city's name in the page's language, the English one beside it.
  assert.equal(suggested, ZH ? "巴黎 (Paris, France)" : "Paris, France", "the most populous Paris first");
  await her.fill("#city", suggested);
  assert.equal(await her.inputValue("#latitude"), "48.85", "the city's latitude");
  assert.equal(await her.inputValue("#longitude"), "2.35", "the city's longitude");
  await snap(her, "profile-city-suggestions");
  // "Use my location": the browser's position, rounded to 0.01°.
  await her.fill("#latitude", "");
  await her.fill("#longitude", "");
  await her.click("[data-locate]");
  await her.waitForFunction(() => document.getElementById("latitude").value !== "");
  assert.equal(await her.inputValue("#latitude"), "48.86");
  assert.equal(await her.inputValue("#longitude"), "2.29");
  assert.equal((await her.textContent("[data-locate-status]")).trim(), msg("profile.location_found"));
  // On a phone the same form, nothing wider than the screen.
  await her.setViewportSize(PHONE);
  const overflow = await her.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the profile form fits a phone (${overflow}px too wide)`);
  await snap(her, "profile-phone-located");
  await her.setViewportSize({ width: 1280, height: 900 });
  await her.selectOption("#want_sex", "any");
  await her.fill("#min_age", "18");
  await her.fill("#max_age", "99");
  await her.fill("#max_distance_km", "500");
  await her.check("#discoverable");
  await her.click("form.profile-form button[type=submit]");
  await her.waitForURL(/notice=profile_saved/);
  assert.equal(await her.inputValue("#bio"), "Hiking, jazz and <b>bold</b> coffee.");
  await snap(her, "profile-saved");

  const photo = join(SHOTS, "upload.png");
  writeFileSync(photo, png(480, 600));
  await her.setInputFiles("#photo", photo);
  await her.click("form[enctype='multipart/form-data'] button[type=submit]");
  await her.waitForURL(/notice=photo_uploaded/);
  // The worker processes it: reload until the thumbnail replaces the placeholder.
  const photoEnd = Date.now() + BOUND;
  while ((await her.locator("[data-testid=my-photos] img").count()) === 0) {
    assert.ok(Date.now() < photoEnd, "the photo was processed");
    await her.reload();
  }
  const thumb = await her.locator("[data-testid=my-photos] img").first().getAttribute("src");
  const fetched = await her.request.get(new URL(thumb, BASE).toString());
  assert.equal(fetched.status(), 200, "the processed photo is served");
  assert.equal(fetched.headers()["content-type"], "image/jpeg");
  await snap(her, "photo-processed");

  // --- discovery: a seeded member who liked her, then a keyboard swipe ----------
  await her.goto(`${BASE}/discover`);
  await snap(her, "deck");
  const top = her.locator(".deck-item.top");
  await top.waitFor();
  const himId = Number(await top.getAttribute("data-candidate"));
  const herId = Number(sql(`select id from users where email = '${email}'`));
  const himEmail = sql(`select email from users where id = ${himId}`);
  assert.match(himEmail, /@seed\.swiper\.test$/, "the top card is a seeded member");
  const him = await open("his page");
  await login(him, himEmail, "swiper seed member");
  await him.waitForURL(/\/discover/);
  // He superliked her earlier (through the swipe form, as swipe.js sends it).
  const token = await him.locator("input[name=csrf_token]").first().inputValue();
  const liked = await him.request.post(`${BASE}/swipes`, {
    form: { csrf_token: token, target: String(herId), kind: "superlike" },
    headers: { Origin: BASE, Accept: "application/json" },
  });
  assert.equal(liked.status(), 200, await liked.text());

  // "Who liked me" shows him with the superlike badge on his own card.
  await her.goto(`${BASE}/likes`);
  const liker = her.locator(`[data-liker='${himId}']`);
  await liker.waitFor();
  const card = await liker.boundingBox();
  const badge = await liker.locator(".badge").boundingBox();
  assert.ok(badge, "a superlike badge");
  assert.ok(
    badge.x >= card.x && badge.y >= card.y &&
      badge.x + badge.width <= card.x + card.width && badge.y + badge.height <= card.y + card.height,
    `the badge sits on his card: badge ${JSON.stringify(badge)}, card ${JSON.stringify(card)}`,
  );
  await snap(her, "likes");
  await her.goto(`${BASE}/discover`);
  assert.equal(await her.locator(".deck-item.top").getAttribute("data-candidate"), String(himId), "the superliker comes first");

  // On a phone: the card fills the screen, the four buttons and the tab bar
  // are on it (not below the fold), and the card follows a drag.
  await her.setViewportSize({ width: 390, height: 844 });
  await her.reload();
  for (const kind of ["rewind", "dislike", "superlike", "like"]) {
    const box = await her.locator(`form[data-kind=${kind}] button`).boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 844, `the ${kind} button is on screen: ${JSON.stringify(box)}`);
  }
  const tabs = await her.locator("nav.tabs").boundingBox();
  assert.ok(tabs.y + tabs.height <= 844 && tabs.y > 700, `the tab bar is at the bottom: ${JSON.stringify(tabs)}`);
  const bar = await her.locator("[data-testid=swipe-bar]").boundingBox();
  assert.ok(bar.y + bar.height <= tabs.y, "the buttons sit above the tab bar");
  const cardBox = await her.locator(".deck-item.top").boundingBox();
  assert.ok(cardBox.height > 400, `a full-height card: ${JSON.stringify(cardBox)}`);
  await her.mouse.move(cardBox.x + cardBox.width / 2, cardBox.y + cardBox.height / 2);
  await her.mouse.down();
  await her.mouse.move(cardBox.x + cardBox.width / 2 + 70, cardBox.y + cardBox.height / 2, { steps: 4 });
  const stamp = await her.locator(".deck-item.top .stamp-like").evaluate((e) => Number(getComputedStyle(e).opacity));
  assert.ok(stamp > 0.3, `the like stamp shows while dragging right (${stamp})`);
  await snap(her, "deck-phone-drag");
  await her.mouse.up(); // short of the threshold: the card comes back, nothing sent
  assert.equal(await her.locator(".deck-item.top").getAttribute("data-candidate"), String(himId));
  assert.equal(sql(`select count(*) from swipes where swiper_id = ${herId}`), "0");

  // A like with the keyboard makes the match: "It's a match", with the way to the conversation.
  await her.keyboard.press("ArrowRight");
  const screen = her.locator("[data-testid=match-screen]");
  await screen.waitFor({ state: "visible" });
  const matchId = Number(sql(`select id from matches where user_a = ${Math.min(herId, himId)} and user_b = ${Math.max(herId, himId)}`));
  assert.ok(matchId > 0, "a match row");
  assert.equal(await screen.locator("[data-testid=send-message]").getAttribute("href"), `/matches/${matchId}`);
  assert.match(await screen.textContent(), msgPattern("match.lead"));
  await snap(her, "its-a-match");
  // The same screen on a desktop window.
  await her.setViewportSize({ width: 1280, height: 900 });
  await screen.waitFor({ state: "visible" });
  await snap(her, "its-a-match-desktop");
  await screen.locator("[data-close]").click();

  // A rewind: nope the next card with the keyboard, then undo it.
  await her.goto(`${BASE}/discover`);
  const next = await her.locator(".deck-item.top").getAttribute("data-candidate");
  await her.keyboard.press("ArrowLeft");
  await her.locator(`.deck-item.top:not([data-candidate='${next}']), [data-testid=feed-empty]`).first().waitFor();
  assert.equal(sql(`select count(*) from swipes where swiper_id = ${herId} and target_id = ${next}`), "1");
  await her.keyboard.press("Backspace");
  await her.waitForURL(/notice=rewound/);
  assert.equal(sql(`select count(*) from swipes where swiper_id = ${herId} and target_id = ${next}`), "0");
  assert.equal(await her.locator(".deck-item.top").getAttribute("data-candidate"), next, "the card is back");
  await snap(her, "rewound");

  // The day's superlike, then a second one: refused in words on the page, no reload.
  await her.keyboard.press("ArrowUp");
  await her.locator(`.deck-item.top:not([data-candidate='${next}']), [data-testid=feed-empty]`).first().waitFor();
  assert.equal(await her.locator("[data-superlikes-left]").textContent(), "0");
  await her.keyboard.press("ArrowUp");
  const refusal = her.locator("[data-testid=deck-error]");
  await refusal.waitFor({ state: "visible" });
  assert.equal(await refusal.getAttribute("data-error-code"), "superlike_limit_reached");
  assert.equal((await refusal.textContent()).trim(), msg("error.superlike_limit_reached"));
  assert.match(her.url(), /notice=rewound/, "no reload");
  assert.equal(sql(`select count(*) from swipes where swiper_id = ${herId} and kind = 'superlike'`), "1");
  await snap(her, "superlike-refused");

  // --- chat: both pages open, messages arrive live over the socket -------------
  await him.goto(`${BASE}/matches/${matchId}`);
  await her.goto(`${BASE}/matches`);
  await snap(her, "matches");
  await her.click(`a[href='/matches/${matchId}']`);
  await her.waitForURL(new RegExp(`/matches/${matchId}$`));
  await her.fill("#body", "Hi! <script>alert(1)</script> Coffee on Sunday?");
  await her.click("#composer button[type=submit]");
  // Sent over the socket: no reload, and it appears on his open page.
  assert.match(her.url(), new RegExp(`/matches/${matchId}$`));
  const onHis = him.locator("[data-messages] [data-message]", { hasText: "Coffee on Sunday?" });
  await onHis.waitFor();
  assert.equal(await onHis.locator(".body").textContent(), "Hi! <script>alert(1)</script> Coffee on Sunday?");
  // Shift+Enter is a new line; Enter sends.
  await him.fill("#body", "Sunday");
  await him.press("#body", "Shift+Enter");
  await him.type("#body", "it is.");
  assert.equal(await him.inputValue("#body"), "Sunday\nit is.", "Shift+Enter starts a new line");
  await him.press("#body", "Enter");
  await her.locator("[data-messages] [data-message]", { hasText: "it is." }).waitFor();
  assert.equal(await him.inputValue("#body"), "", "Enter sent it");
  await snap(her, "chat-her");
  await snap(him, "chat-him");
  assert.equal(sql(`select count(*) from messages where match_id = ${matchId}`), "2");

  // The unread badge counts each message once: the server's count when she
  // opens her matches, then one more for a message arriving live (the socket
  // asks only for what came after the page, never the whole history again).
  await her.goto(`${BASE}/discover`);
  await him.fill("#body", "See you there!");
  await him.click("#composer button[type=submit]");
  await him.locator("[data-messages] [data-message]", { hasText: "See you there!" }).waitFor(); // stored
  await her.goto(`${BASE}/matches`);
  const unread = her.locator(`[data-unread='${matchId}']`);
  assert.equal((await unread.textContent()).trim(), "1", "the server's count");
  assert.equal((await her.locator("[data-unread-total]").textContent()).trim(), "1");
  await her.locator("html[data-chat-socket=open]").waitFor({ state: "attached" });
  await him.fill("#body", "Bring an umbrella.");
  await him.click("#composer button[type=submit]");
  await her.waitForFunction((id) => document.querySelector(`[data-unread='${id}']`).textContent.trim() !== "1", matchId);
  assert.equal((await unread.textContent()).trim(), "2", "one more, not the history again");
  assert.equal((await her.locator("[data-unread-total]").textContent()).trim(), "2");
  await snap(her, "matches-unread");

  // On a phone: one conversation at a time, the thread first, the composer on screen.
  await her.setViewportSize({ width: 390, height: 844 });
  await her.goto(`${BASE}/matches/${matchId}`);
  assert.equal(await her.locator("nav.conversations").isVisible(), false, "the list gives way to the thread");
  const composerBox = await her.locator("#composer textarea").boundingBox();
  assert.ok(composerBox && composerBox.y + composerBox.height <= 844, `the composer is on screen: ${JSON.stringify(composerBox)}`);
  assert.ok(await her.locator(".thread-head .back").isVisible(), "a way back to the list");
  await snap(her, "chat-phone");
  await her.setViewportSize({ width: 1280, height: 900 });

  // --- he reports her ---------------------------------------------------------
  await him.goto(`${BASE}/users/${herId}`);
  await him.click("#safety summary"); // block and report sit in a menu
  await him.selectOption("#reason", { index: 1 });
  await him.fill("#details", "Asks everyone for money.");
  await him.click(`form[action='/users/${herId}/report'] button[type=submit]`);
  await him.waitForURL(/notice=reported/);
  const reportId = Number(sql(`select id from reports where target_id = ${herId} and status = 'open'`));
  assert.ok(reportId > 0, "an open report");

  // --- a moderator: 2FA enrolment, a 2FA login, the report, the ban -------------
  await her.goto(`${BASE}/matches/${matchId}`); // her page stays open
  const mod = await open("the moderator's page");
  await login(mod, MOD_EMAIL, MOD_PASSWORD);
  await mod.goto(`${BASE}/admin`);
  await mod.waitForURL(/\/settings\/2fa/); // staff must enrol first
  const secret = (await mod.locator("[data-totp-secret]").textContent()).trim();
  untranslatable.add(secret);
  // The previous step's code for enrolment, the next step's for the login:
  // both inside the ±1 window, and the second is later than the first.
  await mod.fill("#code", totp(secret, stepNow() - 1));
  await mod.click("form[action='/settings/2fa'] button[type=submit]");
  await mod.locator("[data-recovery-codes]").waitFor();
  for (const c of await mod.locator("[data-recovery-codes] code").allTextContents()) { untranslatable.add(c.trim()); }
  await snap(mod, "moderator-2fa-enrolled");
  await mod.locator("form[action='/logout'] button").first().click();
  await mod.waitForURL(/\/login/);
  await login(mod, MOD_EMAIL, MOD_PASSWORD);
  await mod.waitForURL(/\/login\/2fa/);
  await mod.fill("#code", totp(secret, stepNow() + 1));
  await mod.click("form[action='/login/2fa'] button[type=submit]");
  await mod.goto(`${BASE}/admin`);
  await mod.waitForURL(/\/admin$/);
  await snap(mod, "moderator-dashboard");
  // The member table: joined, last login, plan and status, sortable.
  await mod.goto(`${BASE}/admin/users?sort=newest`);
  assert.equal(await mod.locator("th[aria-sort=descending]").count(), 1, "the sorted column says so");
  await snap(mod, "admin-members");
  await mod.goto(`${BASE}/admin/reports`);
  const report = mod.locator(`[data-report='${reportId}']`);
  await report.waitFor();
  await report.locator("input[name=note]").fill("Confirmed by two members");
  await snap(mod, "report-queue");
  // A destructive action asks first.
  mod.once("dialog", (d) => { assert.equal(d.message(), msg("admin.confirm_ban")); d.accept(); });
  await report.locator("button[name=action][value=ban]").click();
  await mod.waitForURL(/\/admin\/reports/);
  assert.equal(sql(`select is_active from users where id = ${herId}`), "f");

  // He adds a phone number in settings: a code by text message (the
  // development sink's file), typed on the same page.
  await him.goto(`${BASE}/settings/phone`);
  await him.fill("#phone", "+44 7700 900123");
  await him.fill("#password", "swiper seed member");
  await him.click("form[action='/settings/phone'] button[type=submit]");
  await him.locator("[data-testid=code-sent]").waitFor();
  await snap(him, "phone-code-sent");
  // The newest code the development sink wrote for a number.
  const codeFor = async (number) => {
    const smsDir = join(VARDIR, "sms");
    const end = Date.now() + BOUND;
    for (;;) {
      assert.ok(Date.now() < end, `a text message to ${number} was written`);
      const texts = existsSync(smsDir) ? readdirSync(smsDir).sort() : [];
      const last = texts.length ? readFileSync(join(smsDir, texts[texts.length - 1]), "utf8") : "";
      const code = last.startsWith(`To: ${number}`) ? (last.match(/\b\d{6}\b/) || [null])[0] : null;
      if (code) return code;
      await new Promise((r) => setTimeout(r, 100)); // polling the sink, bounded
    }
  };
  await him.fill("#code", await codeFor("+447700900123"));
  await him.click("form[action='/settings/phone'] button[type=submit]");
  await him.waitForURL(/notice=phone_saved/);
  assert.match(await him.textContent("[data-testid=current-phone]"), /\+447700900123/);
  await snap(him, "phone-saved");
  // The footer's switcher, without JavaScript's help: his matches in Chinese.
  await him.goto(`${BASE}/matches`);
  await him.selectOption("#footer-lang", "zh-CN");
  await him.click("form[action='/language'] button[type=submit]");
  await him.waitForURL(/\/matches$/);
  assert.equal(await him.evaluate(() => document.documentElement.lang), "zh-CN");
  assert.match(await him.textContent("nav"), /配对/);
  // Nothing left in English on the page but names, the brand, the
  // language's own name and what members wrote.
  assert.deepEqual(await untranslated(him), [], "untranslated text on the Chinese page");
  await snap(him, "matches-in-chinese");
  await him.selectOption("#footer-lang", LANG); // back to the language under test
  await him.click("form[action='/language'] button[type=submit]");
  await him.waitForURL(/\/matches$/);
  // The text-message login page, as a visitor sees it.
  const visitor = await open("visitor page");
  await visitor.goto(`${BASE}/login`);
  await visitor.click("[data-testid=sms-login]");
  await visitor.fill("#phone", "+33 6 12 34 56 78");
  await visitor.click("form[action='/login/sms'] button[type=submit]");
  await visitor.locator("#code").waitFor();
  await snap(visitor, "sms-login-code");
  // A number no account has: the code makes the account, which gives its
  // name, sex and birthday first.
  await visitor.fill("#code", await codeFor("+33612345678"));
  await visitor.click("form[action='/login/sms'] button[type=submit]");
  await visitor.waitForURL(/\/welcome$/);
  await snap(visitor, "sms-welcome");
  await visitor.fill("#nickname", "Zoé");
  await visitor.selectOption("#sex", "female");
  await visitor.fill("#birthday", "1994-04-04");
  await visitor.click("form[action='/welcome'] button[type=submit]");
  await visitor.waitForURL(/\/profile\?notice=welcome_done/);
  await snap(visitor, "sms-welcome-done");

  // Her open conversation page hears it and goes to the login page itself.
  await her.waitForURL(/\/login\?notice=signed_out/);
  await snap(her, "banned-member-signed-out");
  await login(her, email, password);
  assert.match(her.url(), /\/login/);
  assert.equal(await her.locator("[data-error-code]").first().getAttribute("data-error-code"), "invalid_credentials");
  await snap(her, "banned-member-cannot-log-in");
  assert.equal(sql(`select count(*) from audit_log where action = 'report.resolve'`), "1");

  // His own data: he asks for the export and downloads the ZIP the job
  // built, then deletes his account with his password.
  await him.goto(`${BASE}/settings/data`);
  await snap(him, "my-data");
  await him.click("form[action='/settings/data/export'] button[type=submit]");
  await him.waitForURL(/notice=export_requested/);
  const ready = him.locator("[data-testid=export-download]");
  for (const until = Date.now() + BOUND; !(await ready.count()); ) {
    assert.ok(Date.now() < until, "the export was not built in time");
    await new Promise((r) => setTimeout(r, 200)); // polling the job, bounded
    await him.reload();
  }
  await snap(him, "my-data-export-ready");
  const zip = await him.request.get(`${BASE}${await ready.getAttribute("href")}`);
  assert.equal(zip.status(), 200);
  assert.equal(zip.headers()["content-type"], "application/zip");
  assert.equal((await zip.body()).subarray(0, 2).toString(), "PK", "a ZIP file");
  await him.fill("#password", "swiper seed member");
  await him.click("form[action='/settings/delete'] button[type=submit]");
  await him.waitForURL(/\/login\?notice=account_deleted/);
  await snap(him, "account-deleted");
} finally {
  // Printed even when a step threw: a script error or a 5xx is often why.
  if (failures.length) console.error(`page failures:\n${failures.join("\n")}`);
  await browser.close();
}
assert.deepEqual(failures, [], failures.join("\n"));
console.log(`browser journeys: every step passed (${shot} screenshots in ${SHOTS}; ${audited} axe-core audits, no serious or critical violation)`);
