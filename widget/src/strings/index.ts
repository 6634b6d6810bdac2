// Locale selection and formatting. English ships inside the dialog (and is the fallback);
// German, French and Arabic are separate chunks fetched only by the people who need them. The
// loader imports only `launcherLabel` and `localeInfo`, so no dictionary ends up in loader.js.
import en from "./en";
import type { Strings } from "./en";
import { LAUNCHERS } from "./launchers";

export type { Strings };

type Lang = "en" | "de" | "fr" | "ar";
const loaded: Partial<Record<Lang, Strings>> = { en };

/** "fr-CA" -> "fr", "de-AT" -> "de"; unknown languages fall back to English. */
export function language(locale: string | undefined): Lang {
  const lang = String(locale || "en").toLowerCase().split(/[-_]/)[0];
  return lang === "de" || lang === "fr" || lang === "ar" ? lang : "en";
}

export function localeInfo(locale: string | undefined): { lang: string; dir: "ltr" | "rtl" } {
  const lang = language(locale);
  return { lang, dir: lang === "ar" ? "rtl" : "ltr" }; // add "he", "fa"... here with their files
}

export function launcherLabel(locale: string | undefined): string {
  return LAUNCHERS[language(locale)];
}

/** Whether the locale's dictionary is here (English always is). */
export function hasStrings(locale: string | undefined): boolean {
  return language(locale) in loaded;
}

/** Fetch the locale's dictionary; on failure English stays in use. Never throws. */
export async function loadStrings(locale: string | undefined): Promise<void> {
  const lang = language(locale);
  if (loaded[lang]) return;
  try {
    loaded[lang] = (lang === "de" ? await import("./de") : lang === "fr" ? await import("./fr") : await import("./ar")).default;
  } catch {
    loaded[lang] = en;
  }
}

export function strings(locale: string | undefined): Strings {
  return loaded[language(locale)] ?? en;
}

/** fmt("Sent: report #{number}", {number: 12}) -> "Sent: report #12" */
export function fmt(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}
