/** The shell of agentq's server-rendered pages: one stylesheet inline, no front-end build. */
import { escapeXml } from '../graph-svg';

export const escapeHtml = escapeXml;

/** JSON for a `<script>` block: `<` escaped so no string can close the script element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#223;background:#f6f7f9}
header{background:#223;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#cde;text-decoration:none}header h1{font-size:18px;margin:0}
main{padding:16px 20px}table{border-collapse:collapse;background:#fff}
td,th{border:1px solid #dde;padding:4px 8px;text-align:left;font-size:14px}
.state{font-weight:600}.graph{overflow:auto;background:#fff;border:1px solid #dde;padding:8px}
.graph-legend{font-size:13px;color:#445;margin:4px 0 0}
.error{color:#a22}form.login{background:#fff;padding:20px;border:1px solid #dde;max-width:360px}
`;

export function page(title: string, body: string, options: { nav?: boolean } = {}): string {
  const nav =
    options.nav === false
      ? ''
      : '<a href="/">Goals</a><a href="/board">Board</a><a href="/metrics">Metrics</a>' +
        '<form method="post" action="/logout" style="margin-left:auto"><button>Log out</button></form>';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)} · agentq</title><style>${STYLE}</style></head>` +
    `<body><header><h1>agentq</h1>${nav}</header><main>${body}</main></body></html>`
  );
}
