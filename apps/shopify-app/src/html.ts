// HTML is built only through `html`: every interpolated value is escaped unless it is already
// markup made by `html` (or explicitly wrapped with `trusted`), so forgetting to escape is not possible.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Markup that is safe to insert as is. Only {@link html} and {@link trusted} make one.
 *
 * @example
 * const fragment: SafeHtml = html`<p>${note}</p>`;
 */
export class SafeHtml {
  readonly #markup: string;
  constructor(markup: string) {
    this.#markup = markup;
  }
  toString(): string {
    return this.#markup;
  }
}

/**
 * Escapes text for an HTML element body or a quoted attribute value.
 *
 * @example
 * escapeHtml('<b>"hi"</b>'); // '&lt;b&gt;&quot;hi&quot;&lt;/b&gt;'
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

/**
 * Marks a constant string as markup. Never pass it anything that came from a request or the database.
 *
 * @example
 * html`<style>${trusted(STYLESHEET)}</style>`;
 */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * Tagged template that escapes every interpolation by default. Arrays are joined; `undefined`,
 * `null` and `false` render as nothing, so `${cond && html`...`}` works.
 *
 * @example
 * const page = html`<p>Shop: <strong>${shop}</strong></p>`; // shop is escaped
 * res.type('html').send(String(page));
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}
