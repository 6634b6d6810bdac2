// The dialog's styles (added to the shadow root when it first opens). Logical properties keep
// right-to-left layouts right; theme colours come from the variables set on :host (shadow.ts).
export const DIALOG_CSS = `
.dlg{--bl-muted:color-mix(in srgb,var(--bugline-fg) 68%,var(--bugline-bg));--bl-border:color-mix(in srgb,var(--bugline-fg) 30%,var(--bugline-bg));box-sizing:border-box;width:min(560px,calc(100vw - 32px));max-height:calc(100vh - 32px);padding:0;border:1px solid var(--bl-border);
border-radius:var(--bugline-radius);background:var(--bugline-bg);color:var(--bugline-fg);font:15px/1.45 var(--bugline-font);
box-shadow:0 20px 60px rgba(0,0,0,.35);overflow:auto;position:fixed;inset:0;margin:auto}
.dlg:not([open]){display:none}
.dlg::backdrop{background:rgba(0,0,0,.45)}
.dlg *,.dlg *::before,.dlg *::after{box-sizing:border-box}
.body{padding:16px 20px 20px}
.top{display:flex;align-items:center;gap:8px;padding:14px 20px 0}
h2{font-size:19px;margin:0;flex:1}
h3{font-size:15px;margin:0 0 4px}
.x{background:none;border:0;color:inherit;font-size:24px;line-height:1;width:44px;height:44px;border-radius:8px;cursor:pointer}
.intro,.hint{color:var(--bl-muted);margin:4px 0 0;font-size:13px}
.field{margin-top:14px}
label{display:block;font-weight:600;margin-bottom:4px}
input[type=text],input[type=email],textarea{width:100%;font:inherit;font-size:16px;color:inherit;background:transparent;
border:1px solid var(--bl-border);border-radius:calc(var(--bugline-radius) - 4px);padding:8px 10px}
textarea{resize:vertical;min-height:44px}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:14px}
[aria-invalid=true]{border-color:light-dark(#c62828,#ff8a80)}
.error{color:light-dark(#c62828,#ff8a80);margin:4px 0 0;font-size:13px}
fieldset{border:0;padding:0;margin:14px 0 0;min-width:0}
legend{font-weight:600;padding:0;margin-bottom:4px}
.choices{display:flex;flex-wrap:wrap;gap:6px}
.choices legend{width:100%}
.choice{display:inline-flex;align-items:center;gap:6px;font-weight:400;border:1px solid var(--bl-border);border-radius:999px;
padding:6px 12px;margin:0;cursor:pointer}
.choice:has(input:checked){border-color:var(--bugline-accent);box-shadow:inset 0 0 0 1px var(--bugline-accent)}
.tools{display:flex;flex-wrap:wrap;gap:8px}
button{font:inherit;cursor:pointer}
.btn{border:1px solid var(--bl-border);background:transparent;color:inherit;border-radius:calc(var(--bugline-radius) - 4px);padding:8px 14px;min-height:44px}
.primary{background:var(--bugline-accent);border-color:var(--bugline-accent);color:var(--bugline-bg);font-weight:600}
button:focus-visible,input:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid var(--bugline-accent);outline-offset:2px}
button:disabled{opacity:.6;cursor:default}
.files{list-style:none;padding:0;margin:8px 0 0}
.files li{display:flex;align-items:center;gap:8px;padding:4px 0;border-bottom:1px solid var(--bl-border)}
.file-name{flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.file-size{color:var(--bl-muted);font-size:13px}
.remove{background:none;border:0;color:inherit;font-size:20px;width:36px;height:36px;border-radius:6px}
.dragging{outline:3px dashed var(--bugline-accent);outline-offset:-6px}
.switch{display:flex;align-items:flex-start;gap:8px;font-weight:400;margin:6px 0}
.switch input{margin-top:3px;accent-color:var(--bugline-accent)}
.cap-text{overflow-wrap:anywhere}
.missing{margin-top:16px;padding:10px 12px;border-radius:calc(var(--bugline-radius) - 4px);background:color-mix(in srgb,var(--bugline-accent) 10%,transparent)}
.missing ul{margin:0;padding-inline-start:20px;font-size:14px}
progress{width:100%;margin-top:14px;accent-color:var(--bugline-accent)}
.status{margin:10px 0 0;min-height:1em}
.actions{display:flex;justify-content:flex-end;gap:8px;margin-top:16px}
.done{padding:8px 20px 20px}
.done .actions{justify-content:flex-start}
.done a{color:var(--bugline-accent)}
.visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.recbar{position:fixed;bottom:16px;inset-inline-end:16px}
@media (max-width:600px){.dlg{width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0;border:0}
.top,.body{padding-inline:14px}.actions{position:sticky;bottom:0;background:var(--bugline-bg);padding:8px 0}}
@media (prefers-reduced-motion:no-preference){.dlg[open]{animation:bl-in .15s ease-out}}
@keyframes bl-in{from{opacity:0;transform:translateY(8px)}}
`;
