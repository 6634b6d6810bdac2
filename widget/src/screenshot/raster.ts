// Small raster helpers shared by capture and the annotation editor.

/** Hands the event loop a turn so input and paint are not blocked between heavy steps. */
export function yieldToPage(): Promise<void> {
  const s = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (s && typeof s.yield === "function") return s.yield();
  return new Promise((r) => setTimeout(r));
}

export function canvasToBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("canvas.toBlob failed"))), type, quality),
  );
}

/** Over this a PNG is re-encoded as JPEG: a screenshot of a photo-heavy page can be
 *  several MB as PNG, which is slow to upload on the mobile links bug reporters use. */
export const PNG_LIMIT = 2 * 1024 * 1024;

/** PNG (lossless, crisp text), or JPEG when the PNG is too large. */
export async function encode(canvas: HTMLCanvasElement): Promise<Blob> {
  const png = await canvasToBlob(canvas, "image/png");
  if (png.size <= PNG_LIMIT) return png;
  await yieldToPage();
  return canvasToBlob(canvas, "image/jpeg", 0.85);
}
