// SPDX-License-Identifier: BSD-2-Clause
// NAME
//   web_browser.js - drive headless Chromium through cpr-web's pages
// SUMMARY
//   NODE_PATH=DIR/node_modules node tests/web_browser.js SPEC.json >RESULTS.jsonl
// DESCRIPTION
//   For tests/web.test. SPEC is {"profile": DIR, "headers": {...},
//   "steps": [{"name", "url", "tabs": N, "press": [tab indexes in order]}]}.
//   Each step opens the url in N tabs (GET), then presses the page's
//   button (#ack) in the listed tabs, one after another. For every
//   load it prints one JSON line: step, tab, what (get|press), HTTP
//   status, the page's title and text, whether the button is there, and
//   how many script elements the page has. Chromium is Debian's
//   (/usr/bin/chromium), headless, no sandbox (CI runs as root), with a
//   fresh profile; playwright-core drives it. Every wait is bounded and a
//   watchdog ends the run after 120 s.
// DIAGNOSTICS
//   Exit 0 after all steps; 2 on an error (printed); 3 on the watchdog.
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const watchdog = setTimeout(() => { console.error('web_browser: watchdog'); process.exit(3); },
                            120000);

async function snapshot(page, resp, step, tab, what) {
    const text = await page.evaluate(() => document.body ? document.body.innerText : '');
    console.log(JSON.stringify({
        step, tab, what, status: resp ? resp.status() : 0, title: await page.title(),
        text, button: (await page.$('#ack')) !== null,
        scripts: await page.evaluate(() => document.querySelectorAll('script').length),
        headers: resp ? resp.headers() : {}
    }));
}

async function run() {
    const ctx = await chromium.launchPersistentContext(spec.profile, {
        executablePath: '/usr/bin/chromium', headless: true, timeout: 30000,
        extraHTTPHeaders: spec.headers || {},
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               '--disable-dev-shm-usage']
    });
    ctx.setDefaultTimeout(15000);
    ctx.setDefaultNavigationTimeout(15000);
    try {
        for (const s of spec.steps) {
            const pages = [];
            for (let i = 0; i < (s.tabs || 1); i++) {
                const page = await ctx.newPage();
                pages.push(page);
                const resp = await page.goto(s.url, { waitUntil: 'load' });
                await snapshot(page, resp, s.name, i, 'get');
            }
            for (const i of (s.press || [])) {
                const page = pages[i];
                const [resp] = await Promise.all([
                    page.waitForNavigation({ waitUntil: 'load' }),
                    page.click('#ack')
                ]);
                await snapshot(page, resp, s.name, i, 'press');
            }
            for (const p of pages) await p.close();
        }
    } finally {
        await ctx.close();
    }
}

run().then(() => { clearTimeout(watchdog); process.exit(0); },
           (e) => { console.error('web_browser: ' + (e && e.stack || e)); process.exit(2); });
