// Route templates: the path with ids replaced by `:id`, so reports of one page group together.

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Is this path segment an identifier (number, UUID, long hex, long random-looking token)? */
export function isId(seg: string): boolean {
  return (
    /^\d+$/.test(seg) ||
    UUID.test(seg) ||
    (/^[0-9a-f]{12,}$/i.test(seg) && /\d/.test(seg)) ||
    (/^[A-Za-z0-9]{20,}$/.test(seg) && /\d/.test(seg) && /[a-z]/i.test(seg))
  );
}

/** "/users/42/orders/9f86d081884c7d65" -> "/users/:id/orders/:id"; emails become ":email". */
export function stripIds(path: string): string {
  return path
    .split("/")
    .map((s) => {
      let d = s;
      try {
        d = decodeURIComponent(s);
      } catch {
        /* keep the raw segment */
      }
      return isId(d) ? ":id" : /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(d) ? ":email" : s;
    })
    .join("/");
}

/** The route of a location: its path, plus a hash-router path ("#/x" or "#!/x") when there is one. */
export function route(pathname: string, hash = ""): string {
  const h = /^#!?(\/[^?]*)/.exec(hash);
  return stripIds(pathname) + (h ? "#" + stripIds(h[1]) : "");
}
