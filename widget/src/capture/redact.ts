// Redaction of secrets and personal data in free text and URLs. Pure: no DOM, no globals.
// Replacements are labels a developer reading the report understands: [email], [card], [redacted].

const R = "[redacted]";

// user@example.com, also percent-encoded (user%40example.com). Not retina assets (icon@2x.png).
const EMAIL = /[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.(?!(?:png|jpe?g|gif|svg|webp|avif)\b)[a-z]{2,}\b/gi;
// Tokens with a well-known shape: GitHub, Slack, Stripe, Google API keys, AWS access key ids.
const KNOWN =
  /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|xox[abprs]-[\w-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[\w-]{35}|A[KS]IA[A-Z0-9]{16})\b/g;
// JWT / JWS: base64url('{"...') . payload . signature (the signature may be empty for alg=none).
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;
// Authorization schemes followed by a credential.
const SCHEME = /\b(Bearer|Basic|Digest|Token)(\s+)([\w.~+/=-]{8,})/gi;
// A secret-sounding name, then `=`, `: `, `":"` or whitespace, then the value.
const NAMED =
  /([\w-]*?(?:key|token|secret|passw(?:or)?d|pwd|passphrase|credentials?|session(?:[_-]?id)?|signature))(["']?\s*[:=]\s*["']?|\s+)([^\s"'&,;<>)}\]]+)/gi;
// Absolute URLs inside text: their query and fragment parameters get the URL treatment.
const URLS = /\b[a-z][\w+.-]*:\/\/[^\s"'<>`]+/gi;
// 13-19 digits (spaces or dashes allowed between), starting like a real card network's numbers.
const CARD = /\b[2-6](?:[ -]?\d){12,18}\b/g;

const SECRET_PARAM =
  /token|secret|passw|pwd|signature|credential|jwt|api_?key|session|authori[sz]ation|(?:^|[_-])(?:auth|key|code|sig|sid|pass|otp)(?:[_-]|$)/i;

/** A value that looks machine-made: long, letters and digits, base64/hex alphabet. */
export function looksSecret(v: string): boolean {
  return v.length >= 16 && /\d/.test(v) && /[a-z]/i.test(v) && /^[\w+/=.~-]+$/.test(v);
}

/** Luhn checksum over the digits of `s` (separators ignored). */
export function luhn(s: string): boolean {
  const d = s.replace(/\D/g, "");
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = +d[d.length - 1 - i];
    if (i % 2) n = n > 4 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return d.length >= 13 && d.length <= 19 && sum % 10 == 0;
}

/** Does a query/fragment parameter name look like it carries a secret? */
export function secretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

function params(url: string): string {
  return url
    .replace(/^([a-z][\w+.-]*:\/\/)[^/?#@\s]*@/i, "$1" + R + "@")
    .replace(/([?&#;])([^=&#;?]+)=([^&#;?]*)/g, (m, p: string, name: string, value: string) => {
      let n = name;
      try {
        n = decodeURIComponent(name);
      } catch {
        /* keep the raw name */
      }
      return value && value != R && secretParam(n) ? p + name + "=" + R : m;
    });
}

function named(m: string, name: string, sep: string, value: string): string {
  if (value == R || value[0] == "[") return m;
  // Passwords are short and wordy: any value counts, but only in `name=value` or quoted form,
  // so prose like "Password: must be 8 characters" survives.
  const strong = /pass|pwd|secret/i.test(name) && /[="']/.test(sep);
  return strong || looksSecret(value) ? name + sep + R : m;
}

/** Redact a URL: userinfo, secret-looking query/fragment parameters, emails and tokens anywhere. */
export function redactUrl(url: string): string {
  return tokens(params(url)).replace(EMAIL, "[email]");
}

function tokens(s: string): string {
  return s.replace(KNOWN, R).replace(JWT, R);
}

/** Redact free text (console messages, error text, descriptions). */
export function redact(text: string): string {
  return tokens(text)
    .replace(SCHEME, (m, scheme: string, sp: string, cred: string) =>
      looksSecret(cred) || /[+/=]/.test(cred) ? scheme + sp + R : m,
    )
    .replace(URLS, params)
    .replace(NAMED, named)
    .replace(EMAIL, "[email]")
    .replace(CARD, (m) => (luhn(m) ? "[card]" : m));
}
