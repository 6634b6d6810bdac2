import { test } from "node:test";
import assert from "node:assert/strict";
import en from "../src/strings/en";
import de from "../src/strings/de";
import fr from "../src/strings/fr";
import ar from "../src/strings/ar";
import { LAUNCHERS } from "../src/strings/launchers";
import { fmt, hasStrings, language, launcherLabel, loadStrings, localeInfo, strings } from "../src/strings";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("every dictionary has every key of en.ts, the same {placeholders}, and its launcher", () => {
  for (const s of [de, fr, ar]) {
    assert.deepEqual(Object.keys(s).sort(), Object.keys(en).sort(), s.lang);
    for (const [key, text] of Object.entries(en)) {
      const theirs = (s as Record<string, string>)[key];
      assert.ok(theirs.trim(), `${s.lang}.${key} is empty`);
      assert.deepEqual(placeholders(theirs), placeholders(text), `${s.lang}.${key}`);
    }
    assert.equal(LAUNCHERS[s.lang as keyof typeof LAUNCHERS], s.launcher, `launchers.ts ${s.lang}`);
  }
  assert.equal(LAUNCHERS.en, en.launcher);
  assert.deepEqual(Object.keys(LAUNCHERS).sort(), ["ar", "de", "en", "fr"]);
});

test('"de-AT" picks German, fetched only when asked for', async () => {
  for (const locale of ["de-AT", "de", "de_CH", "DE-de"]) assert.equal(language(locale), "de", locale);
  assert.deepEqual(localeInfo("de-AT"), { lang: "de", dir: "ltr" });
  assert.equal(launcherLabel("de-AT"), "Fehler melden");
  // Until its chunk is here the dialog waits for it (dialog.ts) and strings() is English.
  assert.equal(hasStrings("de-AT"), false);
  assert.equal(strings("de-AT"), en);
  const loading = loadStrings("de-AT");
  assert.equal(hasStrings("de-AT"), false, "import() resolves later");
  await loading;
  assert.ok(hasStrings("de-AT") && hasStrings("de-DE"));
  assert.equal(strings("de-AT"), de);
  assert.equal(strings("de-AT").send, "Meldung senden");
  assert.equal(fmt(strings("de-AT").sent, { number: 12 }), "Gesendet: Meldung #12");
  assert.equal(hasStrings("fr-CA"), false, "German does not bring French along");
  assert.equal(strings("nl-NL"), en);
});
