// The launcher's label in each language: the only strings loader.js carries. Keep in step
// with `launcher` in en.ts, de.ts, fr.ts and ar.ts.
export const LAUNCHERS = { en: "Report a bug", de: "Fehler melden", fr: "Signaler un bug", ar: "الإبلاغ عن خطأ" } as const;
