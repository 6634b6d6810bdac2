// Locale selection and formatting. The loader imports only `launcherLabel` and `localeInfo`
// (the full dictionaries stay out of it: esbuild tree-shakes the default exports away).
import ar, { launcher as arLauncher } from "./ar";
import en, { launcher as enLauncher } from "./en";
import fr, { launcher as frLauncher } from "./fr";
import type { Strings } from "./en";

export type { Strings };

/** "fr-CA" -> "fr"; unknown languages fall back to English. */
export function language(locale: string | undefined): "en" | "fr" | "ar" {
  const lang = String(locale || "en").toLowerCase().split(/[-_]/)[0];
  return lang === "fr" || lang === "ar" ? lang : "en";
}

export function localeInfo(locale: string | undefined): { lang: string; dir: "ltr" | "rtl" } {
  const lang = language(locale);
  return { lang, dir: lang === "ar" ? "rtl" : "ltr" }; // add "he", "fa"... here with their files
}

export function launcherLabel(locale: string | undefined): string {
  const lang = language(locale);
  return lang === "fr" ? frLauncher : lang === "ar" ? arLauncher : enLauncher;
}

export function strings(locale: string | undefined): Strings {
  const lang = language(locale);
  return lang === "fr" ? fr : lang === "ar" ? ar : en;
}

/** fmt("Sent: report #{number}", {number: 12}) -> "Sent: report #12" */
export function fmt(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}
