/**
 * Building DOM without markup strings: every piece of data becomes a Text node (or an attribute
 * value), never HTML, so nothing the farm reports — derivation names, failure messages, log
 * output — can inject markup into the page.
 */

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Readonly<Record<string, string | number | boolean | undefined>>;

/** `h('td', { class: 'x' }, 'text', child)`: attributes set with setAttribute (false/undefined = left out). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: readonly Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** A table with a caption and column headers (`scope="col"`), one row per entry. */
export function table(caption: string, headers: readonly string[], rows: readonly HTMLTableRowElement[], attrs: Attrs = {}): HTMLTableElement {
  return h(
    'table',
    attrs,
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows),
  );
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

/**
 * Replaces `container`'s content, keeping keyboard focus on the element with the same
 * `data-key` as the one focused before (re-rendering must not throw a keyboard user out).
 */
export function replaceKeepingFocus(container: HTMLElement, ...children: readonly Child[]): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.dataset['key'] : undefined;
  container.replaceChildren();
  append(container, children);
  if (key !== undefined) {
    const again = container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
    again?.focus();
  }
}

/** "3 s", "4 min", "2 h 5 min". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  return m % 60 === 0 ? `${hours} h` : `${hours} h ${m % 60} min`;
}

export function formatAgo(thenMs: number, nowMs: number): string {
  return thenMs <= 0 ? 'never' : `${formatDuration(nowMs - thenMs)} ago`;
}

/** A <time> element: the ISO instant for machines, `label` for people. */
export function time(ms: number, label: string): HTMLTimeElement {
  const iso = ms > 0 ? new Date(ms).toISOString() : '';
  return h('time', { datetime: iso || undefined, title: iso || undefined }, label);
}
