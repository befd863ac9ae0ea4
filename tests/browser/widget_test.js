/* Real-browser test of the clinic page and its chat widget.
 * Headless Chromium from the Debian package, driven by playwright-core
 * (no browser download). Run by tests/test_browser.py, which starts the
 * servers and passes: PAGE_URL, SCREENSHOT_DIR, CLINIC_PHONE.
 * Prints one JSON line with what it checked; exits non-zero on failure.
 */
"use strict";
const path = require("path");
const { chromium } = require(path.join(__dirname, "..", "..", "web", "node_modules", "playwright-core"));

const PAGE = process.env.PAGE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
const PHONE = process.env.CLINIC_PHONE;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT = 20000;

function fail(message) { throw new Error(message); }

// bot bubbles with text (the typing indicator is a bubble without text)
const BOT = ".rw-response:has(.rw-message-text)";

async function ask(page, text) {
  const before = await page.locator(BOT).count();
  const input = page.getByLabel("Your question");
  await input.fill(text);
  await input.press("Enter");
  await page.locator(BOT).nth(before).waitFor({ timeout: WAIT });
  await page.waitForTimeout(400); // let a multi-part reply finish arriving
  return page.locator(BOT).last();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const checks = {};
  const external = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const pageHost = new URL(PAGE).host;
    const rasaHost = new URL(await (await fetch(PAGE)).text().then(h => h.match(/data-socket-url="([^"]+)"/)[1])).host;
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.protocol === "data:") return;
      if (url.host !== pageHost && url.host !== rasaHost) external.push(request.url());
    });
    await page.addInitScript(() => { window.__xss = 0; });

    await page.goto(PAGE);
    // keyboard: the launcher is a labelled control that opens the chat
    const launcher = page.getByLabel("Open or close the chat with the microneedling assistant");
    await launcher.waitFor({ timeout: WAIT });
    await launcher.focus();
    await page.keyboard.press("Enter");
    await page.locator(BOT).first().waitFor({ timeout: WAIT }); // the greeting (initPayload)
    checks.labelled_input = await page.getByLabel("Your question").count() === 1;
    checks.conversation_log = await page.locator('[role="log"][aria-live="polite"]').count() === 1;

    // a factual answer with its source line, after the typing indicator
    const typing = page.locator("#wave .rw-dot").first().waitFor({ state: "attached", timeout: WAIT });
    const answer = await ask(page, "how long does redness last?");
    await typing;
    checks.typing_indicator = true;
    const answerText = await answer.innerText();
    if (!answerText.includes("a few hours to a couple of days")) fail("no redness answer: " + answerText);
    if (await answer.locator(".chat-source").count() !== 1) fail("no source line under the answer");
    checks.answer_with_source = true;

    // a quick-reply button, used with the keyboard, gets the follow-up
    const replies = page.locator(".rw-reply");
    await replies.first().waitFor({ timeout: WAIT });
    const buttonTitle = (await replies.first().innerText()).trim();
    const beforeButton = await page.locator(BOT).count();
    await replies.first().focus();
    await page.keyboard.press("Enter");
    await page.locator(BOT).nth(beforeButton).waitFor({ timeout: WAIT });
    await page.waitForTimeout(400);
    const followUp = await page.locator(BOT).last().innerText();
    if (!/Sources?: /.test(followUp)) fail(`button "${buttonTitle}" gave no factual follow-up: ${followUp}`);
    checks.quick_reply = buttonTitle;
    await page.screenshot({ path: path.join(SHOTS, "widget-answer.png") });

    // HTML in a message is shown as text and never runs
    const attack = '<img src=x onerror="window.__xss=1">';
    await ask(page, attack);
    const shown = await page.locator(".rw-client").last().innerText();
    if (shown.trim() !== attack) fail("the message was not shown as typed: " + shown);
    if (await page.locator(".rw-messages-container img").count() !== 0) fail("an <img> element was created");
    if (await page.evaluate(() => window.__xss) !== 0) fail("the onerror handler ran");
    checks.html_escaped = true;

    // an urgent answer is visibly distinct and gives the clinic's phone number
    const urgent = await ask(page, "my lips are swelling and my throat feels tight");
    if (!(await urgent.getAttribute("class")).includes("rw-kind-urgent")) fail("urgent answer not marked");
    if (await urgent.getAttribute("role") !== "alert") fail("urgent answer not announced");
    if (!(await urgent.innerText()).includes(PHONE)) fail("urgent answer without the clinic phone");
    const colour = await urgent.evaluate((e) => getComputedStyle(e).borderLeftColor);
    if (colour !== "rgb(198, 40, 40)") fail("urgent answer not styled: " + colour);
    checks.urgent_distinct = true;
    await page.screenshot({ path: path.join(SHOTS, "widget-conversation.png") });

    // the conversation is kept across a reload
    const count = await page.locator(BOT).count();
    await page.reload();
    await page.locator(BOT).nth(count - 1).waitFor({ timeout: WAIT });
    const afterReload = await page.locator(".rw-messages-container").innerText();
    if (!afterReload.includes("a few hours to a couple of days")) fail("conversation lost on reload");
    // and it continues on the server: a follow-up still knows the topic in focus
    const next = await ask(page, "what should I do about it?");
    if (/didn't understand/.test(await next.innerText())) fail("conversation not continued after reload");
    checks.kept_across_reload = true;

    // phone width: the chat fills the screen and stays usable
    await page.setViewportSize({ width: 375, height: 740 });
    await page.waitForTimeout(300);
    const box = await page.locator(".rw-conversation-container").boundingBox();
    if (!box || box.width > 375 || box.width < 300) fail("chat does not fit a phone screen: " + JSON.stringify(box));
    if (!(await page.getByLabel("Your question").isVisible())) fail("input hidden at phone width");
    await page.screenshot({ path: path.join(SHOTS, "widget-phone.png") });
    checks.phone_width = true;

    if (external.length) fail("requests left the clinic's origin: " + external.join(", "));
    checks.no_external_requests = true;
    console.log(JSON.stringify({ ok: true, checks }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, checks, external, error: String(error && error.stack || error) }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
